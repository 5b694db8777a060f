"""Start-up time of the ScanClean window: process start to window shown, in s.

Runs ``python -m scanclean.app --quit-after-show`` in a fresh process (offscreen Qt by
default, private config and data folders so the user's settings are not touched) and
subtracts the wall-clock time just before the process is started from the time the app
prints once its window is shown. Prints each run and the median; the target is < 1.5 s
with no pages.

Usage::

    python benchmarks/bench_startup.py [--runs 5] [--platform offscreen]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.5


def one_run(platform: str, scratch: Path) -> float:
    """Seconds from process start to the window shown (one fresh interpreter)."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM=platform,
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_DATA_HOME=str(scratch / "data"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "desktop"), env.get("PYTHONPATH", "")]),
    )
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "scanclean.app", "--quit-after-show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if done.returncode != 0 or not done.stdout.startswith("shown "):
        raise RuntimeError(f"app failed (exit {done.returncode}):\n{done.stderr}")
    shown = float(done.stdout.split()[1])
    return shown - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="number of runs (default 5)")
    parser.add_argument(
        "--platform", default="offscreen", help="QT_QPA_PLATFORM (default offscreen)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        one_run(args.platform, Path(scratch))  # warm the OS file cache once
        times = []
        for i in range(args.runs):
            seconds = one_run(args.platform, Path(scratch))
            times.append(seconds)
            print(f"run {i + 1}: {seconds:.3f} s")
    median = statistics.median(times)
    print(
        f"window shown after {median:.3f} s (median of {args.runs}; min {min(times):.3f}, "
        f"max {max(times):.3f}; target < {TARGET_S} s; platform {args.platform})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
