"""Time the synthetic soiled-page generator and print the figures.

Measures the seconds per clean/noisy pair at NoisyOffice size (540 x 420 px, random dirt),
at NoisyOffice size with every dirt kind at once, and at A4 300 dpi (2480 x 3508 px, 8.7 MP)
with random dirt and with every kind. Targets (issue 7): well under 0.5 s per 540 x 420 pair,
under ~5 s per A4 300 dpi pair. Run on an otherwise idle machine for stable figures.

Usage::

    PYTHONPATH=trainer python benchmarks/bench_synth.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainer"))

from scanclean_train import synth  # noqa: E402


def _time(size, dpi, dirt, repeats: int) -> list[float]:
    times = []
    for seed in range(repeats):
        t0 = time.perf_counter()
        synth.generate(np.random.default_rng(seed), size, dpi, dirt=dirt)
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    """Print per-pair generation times; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--repeats", type=int, default=10, help="pairs per case at 540x420 (A4: a third)"
    )
    args = ap.parse_args(argv)
    n_small, n_big = args.repeats, max(1, args.repeats // 3)
    cases = [
        ("540x420, random dirt", (540, 420), None, None, n_small),
        ("540x420, all dirt kinds", (540, 420), None, list(synth.DIRT_KINDS), n_small),
        ("A4 300 dpi 2480x3508, random dirt", (2480, 3508), 300, None, n_big),
        ("A4 300 dpi 2480x3508, all dirt kinds", (2480, 3508), 300, list(synth.DIRT_KINDS), n_big),
    ]
    print(f"{'case':<40} {'n':>3} {'median s':>9} {'max s':>7}")
    for label, size, dpi, dirt, n in cases:
        t = _time(size, dpi, dirt, n)
        print(f"{label:<40} {n:>3} {statistics.median(t):>9.3f} {max(t):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
