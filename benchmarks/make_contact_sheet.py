"""Regenerate the synthetic-page contact sheet and the app's demo scans.

Writes ``docs/synth-samples.png`` (clean | noisy pairs of several dirt kinds and scales) and
``desktop/scanclean/resources/demo/demo-NN-KIND.png`` (whole A4-ish pages at 150 dpi), and
prints the time each page took. Everything comes from fixed seeds, so the output is the same
on every run on the same fonts and Pillow version.

Usage::

    PYTHONPATH=trainer python benchmarks/make_contact_sheet.py [--sheet PATH] [--demo-dir DIR]
        [--no-demo] [--no-sheet]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))

from scanclean_train import synth  # noqa: E402

# (label, size (W, H), dpi, dirt kinds, marks, crop, seed)
SHEET = [
    ("540x420 @110 dpi: crumpled paper", (540, 420), 110, ["crumple"], (), True, 11),
    ("540x420 @120 dpi: coffee rings + blotches", (540, 420), 120, ["coffee"], (), True, 33),
    (
        "540x420 @100 dpi: folds, faded ink",
        (540, 420),
        100,
        ["fold", "fade"],
        ("handwriting",),
        True,
        13,
    ),
    (
        "540x420 @130 dpi: bleed-through, watermark, JPEG",
        (540, 420),
        130,
        ["bleed", "watermark", "jpeg"],
        (),
        True,
        14,
    ),
    (
        "540x420 @300 dpi crop: smudges, fingerprints",
        (540, 420),
        300,
        ["smudge", "crumple"],
        ("signature",),
        True,
        15,
    ),
    (
        "540x420 @600 dpi crop: footprint, stamp",
        (540, 420),
        600,
        ["footprint"],
        ("stamp",),
        True,
        16,
    ),
    (
        "540x420 @150 dpi page: coffee + folds + crumple",
        (540, 420),
        150,
        ["coffee", "fold", "crumple"],
        ("stamp",),
        False,
        17,
    ),
    ("540x420 random (write_dataset mix)", (540, 420), None, None, (), None, 18),
]

# (file name, dirt kinds, marks, seed)
DEMOS = [
    ("demo-01-coffee.png", ["coffee", "fade"], ("signature",), 102),
    ("demo-02-crumpled.png", ["crumple", "smudge"], ("handwriting",), 200),
    ("demo-03-folded.png", ["fold", "bleed", "jpeg", "fade"], ("stamp",), 302),
    ("demo-04-footprint.png", ["footprint", "coffee"], ("stamp", "signature"), 401),
]
DEMO_SIZE = (1200, 1600)
DEMO_DPI = 150.0


def _label_font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def make_sheet(path: Path) -> None:
    """Write the contact sheet: two clean | noisy pairs per row, each captioned."""
    cell_w, cell_h, cap = 540, 420, 26
    cols = 2
    rows = (len(SHEET) + cols - 1) // cols
    gap = 12
    W = cols * (2 * cell_w + 4) + (cols - 1) * gap
    H = rows * (cell_h + cap) + (rows - 1) * gap
    sheet = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(sheet)
    font = _label_font(18)
    for k, (label, size, dpi, kinds, marks, crop, seed) in enumerate(SHEET):
        t0 = time.perf_counter()
        clean, noisy, info = synth.generate(
            np.random.default_rng(seed), size, dpi, dirt=kinds, marks=marks, crop=crop
        )
        dt = time.perf_counter() - t0
        print(
            f"sheet {k}: {label:<50} {dt:5.2f} s  dirt={info['dirt']} marks={info['annotations']}"
        )
        r, c = divmod(k, cols)
        x = c * (2 * cell_w + 4 + gap)
        y = r * (cell_h + cap + gap)
        draw.text((x + 4, y + 3), f"{label}   (clean | noisy)", fill=0, font=font)
        sheet.paste(Image.fromarray(synth.to_uint8(clean)), (x, y + cap))
        sheet.paste(Image.fromarray(synth.to_uint8(noisy)), (x + cell_w + 4, y + cap))
        draw.line([(x + cell_w + 1, y + cap), (x + cell_w + 1, y + cap + cell_h)], fill=0, width=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    sheet.save(tmp, optimize=True)
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def make_demos(folder: Path) -> None:
    """Write the demo scans (noisy pages only) for the app."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, kinds, marks, seed in DEMOS:
        t0 = time.perf_counter()
        _, noisy, info = synth.generate(
            np.random.default_rng(seed),
            DEMO_SIZE,
            DEMO_DPI,
            dirt=kinds,
            marks=marks,
            crop=False,
            scanner_noise=0.003,
            paper_grain=0.005,
        )
        dt = time.perf_counter() - t0
        path = folder / name
        synth.save_png_atomic(noisy, path, DEMO_DPI)
        size = path.stat().st_size
        flag = "" if size < 1024 * 1024 else "  WARNING: over 1 MiB"
        print(
            f"demo {name:<24} {dt:5.2f} s  {size / 1024:6.0f} KiB  dirt={info['dirt']} marks={info['annotations']}{flag}"
        )


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "synth-samples.png")
    ap.add_argument(
        "--demo-dir", type=Path, default=ROOT / "desktop" / "scanclean" / "resources" / "demo"
    )
    ap.add_argument("--no-sheet", action="store_true")
    ap.add_argument("--no-demo", action="store_true")
    args = ap.parse_args(argv)
    if not args.no_sheet:
        make_sheet(args.sheet)
    if not args.no_demo:
        make_demos(args.demo_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
