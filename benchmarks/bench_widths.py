"""Benchmark U-Net widths: MAC/px, parameters and onnxruntime MP/s; prints figures, asserts nothing.

Speed does not depend on the weights, so each candidate is built untrained with
``scanclean_train.model.build_unet``, exported with tf2onnx (as ``scanclean-train export``
does) and run through the app's tiled engine (``scanclean.engine.clean_image``, default
tile, all cores) on a 2000 x 2000 px page; the best of ``--repeat`` runs is printed.
This is how the default widths were chosen (see ``build_unet``). Needs the ``train``
extra (TensorFlow, tf2onnx).

A candidate may add a context block after the bottleneck, written after a colon:
``8,24,48,96:2,4`` is the default widths with residual 3x3 convolutions dilated by 2 and 4
(``build_unet(widths, context)``).

Usage::

    python benchmarks/bench_widths.py [--widths 16,24,48,96 --widths 8,24,48,96:2,4 ...]
                                      [--size PX] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
for sub in ("desktop", "trainer"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))  # source checkout without pip install -e

import numpy as np  # noqa: E402

DEFAULT_CANDIDATES = ["16,24,48,96", "12,24,48,96", "8,24,48,96", "8,32,64,128"]


def parse_widths(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``"8,24,48,96"`` -> ``((8, 24, 48, 96), ())``; ``"8,24,48,96:2,4"`` -> ``(..., (2, 4))``."""
    widths, _, context = text.partition(":")

    def numbers(part: str) -> tuple[int, ...]:
        return tuple(int(t) for t in part.split(",") if t.strip())

    return numbers(widths), numbers(context)


def export_candidate(
    widths: tuple[int, ...], folder: Path, context: tuple[int, ...] = ()
) -> tuple[Path, int, int]:
    """Build an untrained U-Net (with an optional context block), export it to ONNX with the trainer's metadata keys.

    Returns
    -------
    path : Path of the .onnx file
    macs : int, multiply-accumulates per pixel
    params : int
    """
    from scanclean_train.export import set_metadata, to_onnx_bytes
    from scanclean_train.model import build_unet, macs_per_pixel

    model, info = build_unet(widths, context)
    data = set_metadata(
        to_onnx_bytes(model),
        {
            "name": info.name,
            "version": "0",
            "architecture": info.name,
            "receptive_field": str(info.receptive_field),
            "size_multiple": str(info.size_multiple),
            "value_range": "0-1, 1 = paper",
        },
    )
    path = folder / f"{info.name}.onnx"
    path.write_bytes(data)
    return path, macs_per_pixel(model), model.count_params()


def time_model(path: Path, size: int, repeat: int) -> float:
    """Best wall time (s) of the tiled engine on a (size, size) random page."""
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession

    session = ModelSession(path)
    page = np.random.default_rng(0).random((size, size), dtype=np.float32)
    clean_image(page[: size // 4, : size // 4], session)  # warm up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        clean_image(page, session)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--widths",
        action="append",
        default=None,
        metavar="W,W,...[:D,D,...]",
        help="filters per level, finest first, and optionally a colon and the context block's "
        f"dilation rates (repeatable; default {DEFAULT_CANDIDATES})",
    )
    parser.add_argument("--size", type=int, default=2000, metavar="PX", help="page side (px)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from scanclean.model import ModelSession

    candidates = [parse_widths(w) for w in (args.widths or DEFAULT_CANDIDATES)]
    print(
        f"page {args.size} x {args.size} px ({args.size**2 / 1e6:.1f} MP), tiled engine, best of {args.repeat}"
    )
    print(f"{'widths[:context]':<22} {'RF px':>6} {'MAC/px':>8} {'params':>9} {'MP/s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for widths, context in candidates:
            path, macs, params = export_candidate(widths, Path(tmp), context)
            rf = ModelSession(path).info.receptive_field
            seconds = time_model(path, args.size, args.repeat)
            label = ",".join(map(str, widths)) + (
                ":" + ",".join(map(str, context)) if context else ""
            )
            print(
                f"{label:<22} {rf:>6} {macs:>8,} {params:>9,} {args.size**2 / 1e6 / seconds:>6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
