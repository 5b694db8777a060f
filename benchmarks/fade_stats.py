"""How far the trainer's input-only ink fading pushes ink into the paper; prints figures.

For the first ``--pages`` pairs of each data dir, each page is faded once per setting
(``scanclean_train.data.fade_ink`` with a 9 px window, as an unscaled patch; the amount
drawn uniformly from 0.2 to the setting's max fade with the same seed for every setting,
as ``sample_patch`` draws it). Measured against the local paper level and std
(``scanclean_train.data.paper_level``, sigma 12 px), over stroke pixels (clean < 0.9)
and ink cores (clean < 0.5):

- mean depth below the paper level (before fading, then after);
- share of pixels within one paper std of the paper level (faded into the texture: no
  cleaner can tell them from paper) and share lighter than the paper level;
- the profile check: mean level of the ring 1 px outside the strokes against the mean
  level of the cores, after the strongest fading (max fade): a ring darker than the core
  would be the dark outline around a light core that real faint ink does not have.

Usage::

    python benchmarks/fade_stats.py --data ../shared/data/noisyoffice --data runs/data/synth \\
        [--pages 40] [--setting stroke:0.85:0 ...] [--seed 0]

A setting is ``MASK:MAX_FADE:FLOOR`` (``fit --fade-mask``, ``--max-fade``, ``--fade-floor``).
Needs the ``train`` extra (scipy); asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import ndimage

from scanclean_train.data import fade_ink, find_pairs, load_images, paper_level

WINDOW = 9  # px: fade_ink's grey-dilation window for an unscaled patch
SIGMA = WINDOW * 4 / 3  # px: the paper neighbourhood fade_ink's floor uses for that window
DEFAULT_SETTINGS = (
    "stroke:0.85:0",
    "core:0.85:0",
    "stroke:0.85:2",
    "stroke:0.85:4",
    "stroke:0.75:0",
)


def parse_setting(text: str) -> tuple[str, float, float]:
    """``"stroke:0.85:2"`` -> ``("stroke", 0.85, 2.0)``; ValueError on a malformed setting."""
    mask, max_fade, floor = text.split(":")
    return mask, float(max_fade), float(floor)


def page_figures(
    noisy: np.ndarray,
    clean: np.ndarray,
    level: np.ndarray,
    spread: np.ndarray,
    amount: float,
    mask: str,
    floor: float,
) -> dict[str, float]:
    """Fading figures of one page.

    Parameters
    ----------
    noisy, clean : (H, W) float32 in [0, 1]
    level, spread : (H, W) float32
        The page's local paper level and std (``paper_level`` with sigma ``SIGMA``).
    amount : float in [0, 1]
        Fade amount (``fade_ink``).
    mask : {"stroke", "core"}
    floor : float >= 0
        ``fade_ink``'s floor, in local paper std.

    Returns
    -------
    dict of float
        ``depth_before``/``depth_after`` (stroke pixels, below the paper level),
        ``stroke_within_std``, ``core_within_std``, ``stroke_above_paper`` (shares in [0, 1]),
        ``ring_level``, ``core_level`` (mean grey level in [0, 1] after fading).
    """
    faded = fade_ink(noisy, clean, amount, window=WINDOW, mask=mask, floor=floor)
    stroke, core = clean < 0.9, clean < 0.5
    ring = ndimage.binary_dilation(stroke, iterations=1) & (clean >= 0.98)
    depth = level - faded  # (H, W) darkness below the local paper
    return {
        "depth_before": float((level - noisy)[stroke].mean()),
        "depth_after": float(depth[stroke].mean()),
        "stroke_within_std": float((depth[stroke] < spread[stroke]).mean()),
        "core_within_std": float((depth[core] < spread[core]).mean()),
        "stroke_above_paper": float((depth[stroke] < 0).mean()),
        "ring_level": float(faded[ring].mean()),
        "core_level": float(faded[core].mean()),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the fading figures per setting, pooled over the pages (mean of page means)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, help="paired data dir")
    parser.add_argument("--pages", type=int, default=40, help="pages per data dir (default 40)")
    parser.add_argument("--setting", action="append", help="MASK:MAX_FADE:FLOOR (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pages = []  # (noisy, clean, level, spread) per page, the paper figures computed once
    for folder in args.data:
        for noisy, clean in load_images(find_pairs(folder)[: args.pages]):
            pages.append((noisy, clean, *paper_level(noisy, clean, sigma=SIGMA)))
    print(f"{len(pages)} pages from {', '.join(args.data)}")
    print(
        "setting           depth before -> after   stroke/core within 1 std   "
        "stroke above paper   ring vs core level at max fade"
    )
    for text in args.setting or DEFAULT_SETTINGS:
        mask, max_fade, floor = parse_setting(text)
        rng = np.random.default_rng(args.seed)
        rows = [
            page_figures(*page, float(rng.uniform(0.2, max_fade)), mask, floor) for page in pages
        ]
        mean = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
        strongest = [page_figures(*page, max_fade, mask, floor) for page in pages]
        ring = float(np.mean([row["ring_level"] for row in strongest]))
        core = float(np.mean([row["core_level"] for row in strongest]))
        print(
            f"{text:16s}  {mean['depth_before']:.3f} -> {mean['depth_after']:.3f}"
            f"          {100 * mean['stroke_within_std']:5.1f} % / {100 * mean['core_within_std']:4.1f} %"
            f"          {100 * mean['stroke_above_paper']:5.1f} %"
            f"             {ring:.3f} vs {core:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
