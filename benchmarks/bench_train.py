"""Benchmark one training step: patch generator vs. network; prints figures, asserts nothing.

Times, with the settings ``scanclean-train fit`` uses for the default (U-Net, MSE,
``jit_compile``, the run-1 augmentation and source mix):

- the patch generator alone (``scanclean_train.data.sample_patch``, one batch), s;
- one training step on a fixed batch (the network alone), s;
- one step of ``model.fit`` fed by ``make_patch_dataset`` (both, as in a run), s.

If the first is small next to the others, the fit is compute-bound and a longer schedule
costs steps x step time. Needs the ``train`` extra (TensorFlow) and paired data dirs
(the first is split by background groups as in ``fit``).

Usage::

    python benchmarks/bench_train.py --data ../shared/data/noisyoffice --data runs/data/synth
                                     [--arch NAME] [--widths F,F,...]
                                     [--patch PX] [--batch-size N] [--steps N] [--threads N]

``--arch mirror-unet --widths 16,48,96,192`` times that architecture instead of the default.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
for sub in ("desktop", "trainer"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))  # source checkout without pip install -e

import numpy as np  # noqa: E402

from scanclean_train.cli import split_widths  # noqa: E402  (parses and checks --widths)


def seconds_per_call(fn, repeat: int) -> float:
    """Mean wall time of ``fn()`` over ``repeat`` calls (s)."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main(argv: list[str] | None = None) -> None:
    """Print the generator, network and fit step times (s) for the given data dirs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, type=Path)
    parser.add_argument("--val-groups", default="420-2,420-5,258-3,258-6")
    parser.add_argument("--first-fraction", type=float, default=0.6)
    parser.add_argument("--patch", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20, help="steps timed per figure")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--arch", default="unet", help="architecture (scanclean-train fit's --arch)"
    )
    parser.add_argument(
        "--widths",
        type=split_widths,
        default=None,
        help="filters per resolution, finest first (fit's --widths)",
    )
    args = parser.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    from scanclean_train import data as data_mod
    from scanclean_train.model import build_model
    from scanclean_train.train import LOSSES, FitConfig, make_augment, prepare_split

    config = FitConfig(
        data=[str(d) for d in args.data],
        val_groups=args.val_groups.split(","),
        first_fraction=args.first_fraction,
        fade_mask="core",
    )
    train_pairs, _ = prepare_split(config)
    pages = data_mod.load_images(train_pairs)
    weights = data_mod.page_weights(
        config.split["training_pages_per_source"], config.first_fraction, None
    )
    augment = make_augment(config)
    rng = np.random.default_rng(0)

    def one_batch():
        for _ in range(args.batch_size):
            data_mod.sample_patch(pages, args.patch, rng, augment, weights)

    model, info = build_model(args.arch, args.widths)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=LOSSES["mse"], jit_compile=True)
    x = rng.uniform(0, 1, (args.batch_size, args.patch, args.patch, 1)).astype(np.float32)
    model.train_on_batch(x, x)  # compile outside the timing

    def one_step():
        model.train_on_batch(x, x)

    patches = data_mod.make_patch_dataset(
        pages, args.patch, args.batch_size, args.steps + 2, seed=1, augment=augment, weights=weights
    )
    model.fit(patches.take(2), epochs=1, verbose=0)  # the fit function's own trace
    start = time.perf_counter()
    model.fit(patches.skip(2), epochs=1, steps_per_epoch=args.steps, verbose=0)
    fit_step = (time.perf_counter() - start) / args.steps

    print(
        f"{info.name}, {len(pages)} training pages, batch {args.batch_size} x "
        f"{args.patch} px, {args.threads} threads, {args.steps} steps each"
    )
    print(f"patch generator: {seconds_per_call(one_batch, args.steps):.3f} s per batch")
    print(f"network, fixed batch: {seconds_per_call(one_step, args.steps):.3f} s per step")
    print(f"model.fit with the generator: {fit_step:.3f} s per step")


if __name__ == "__main__":
    main()
