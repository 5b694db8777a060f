"""Quantize a model to int8 and time both; prints figures, asserts nothing.

onnxruntime's static quantization (``onnxruntime.quantization.quantize_static``: QDQ
format, int8 weights per output channel, uint8 activations, MinMax calibration) on
``--crops`` random 256 x 256 px crops of the training pages of a pair folder (its
held-out ``--groups`` left out, as ``scanclean-train fit`` splits them). Writes the
quantized model with the source's metadata to ``--out`` and prints the MP/s of both
through the app's tiled engine (``scanclean.engine.clean_image``, all cores) on a 2000 x
2000 px page, best of ``--repeat``. Score the quantized file as any model with
``scanclean-train evaluate --model OUT``. Needs ``onnx``; not TensorFlow.

Usage::

    python benchmarks/bench_int8.py --model models/scanclean-default.onnx \\
        --data ../shared/data/noisyoffice --groups 420-2,420-5,258-3,258-6 --out runs/q8.onnx
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for sub in ("desktop", "trainer"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))  # source checkout without pip install -e

import numpy as np  # noqa: E402
from bench_widths import time_model  # noqa: E402  (this folder is on sys.path as the script's)

CROP = 256  # px


def calibration_crops(data: Path, groups: list[str], count: int, seed: int = 0) -> list:
    """``count`` random (1, 256, 256, 1) float32 crops of the training pages' noisy side."""
    from scanclean_train.data import find_pairs, load_images, split_pairs

    train, _ = split_pairs(find_pairs(data), groups)
    pages = [x for x, _ in load_images(train)]
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(count):
        page = pages[rng.integers(len(pages))]
        i = rng.integers(0, page.shape[0] - CROP + 1)
        j = rng.integers(0, page.shape[1] - CROP + 1)
        crops.append(np.ascontiguousarray(page[i : i + CROP, j : j + CROP])[None, ..., None])
    return crops


def quantize(model: Path, out: Path, crops: list) -> None:
    """Write ``model`` quantized to int8 (QDQ, per channel) to ``out`` with its metadata."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = onnx.load(model).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.crops = iter(crops)

        def get_next(self):
            crop = next(self.crops, None)
            return None if crop is None else {name: crop}

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(Path(tmp) / "q.onnx"),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        quantized = onnx.load(Path(tmp) / "q.onnx")
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(onnx.load(model).metadata_props)
    onnx.save(quantized, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="pair folder for calibration")
    parser.add_argument("--groups", default="", help="held-out groups, left out of calibration")
    parser.add_argument("--out", type=Path, required=True, help="the quantized .onnx to write")
    parser.add_argument("--crops", type=int, default=24, help="calibration crops of 256 px")
    parser.add_argument("--size", type=int, default=2000, metavar="PX", help="page side (px)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    groups = [g for g in args.groups.split(",") if g]
    quantize(args.model, args.out, calibration_crops(args.data, groups, args.crops))
    print(f"page {args.size} x {args.size} px, tiled engine, best of {args.repeat}")
    for path in (args.model, args.out):
        seconds = time_model(path, args.size, args.repeat)
        print(f"{str(path):<40} {args.size**2 / 1e6 / seconds:6.2f} MP/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
