"""``scanclean-batch``: clean many scans from the command line.

    scanclean-batch INPUT... -o OUTDIR [--format png|tiff|jpeg|webp|same] [--model PATH|NAME]
                    [--overwrite] [--threads N] [--tile PX] [--flips 1|2|4] [--quiet]

Job planning, cleaning and atomic saving live in :mod:`scanclean.batch` (shared with the
GUI); this module is argparse and a tqdm progress bar on stderr on top.

Exit status: 0 when every page was cleaned or skipped, 1 when any failed, 2 for a usage
error (bad option, unusable model), 130 when interrupted (Ctrl-C; no temp file is left).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .batch import CLEANED, FAILED, FORMATS, plan_jobs, run_job, summarize
from .engine import DEFAULT_TILE, FLIPS
from .model import ModelError, ModelSession, default_model_path, resolve_model
from .tiling import margin_for

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``scanclean-batch`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="scanclean-batch",
        description=(
            "Clean scanned documents (stains, folds, wrinkles, grey paper) with a "
            "denoising autoencoder. Folders are walked recursively; their sub-folders are "
            "kept under OUTDIR. Existing outputs are skipped (an interrupted batch resumes) "
            "unless --overwrite. Inputs are never written to."
        ),
        epilog="Exit status: 0 all cleaned or skipped, 1 some failed, 2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", type=Path, help="image files and folders"
    )
    parser.add_argument(
        "-o", "--outdir", required=True, type=Path, metavar="OUTDIR", help="output folder"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="png",
        help="output format (default png; 'same' keeps the input's; multi-page TIFFs stay TIFF)",
    )
    parser.add_argument(
        "--model",
        metavar="PATH|NAME",
        help="ONNX model file, or the name of a shipped model such as seed-dae "
        "(default: the shipped default model, scanclean-default)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs instead of skipping them"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="onnxruntime intra-op threads (default: one per core)",
    )
    parser.add_argument(
        "--tile",
        type=_positive_int,
        default=DEFAULT_TILE,
        metavar="PX",
        help=f"largest tile side in px (default {DEFAULT_TILE}); memory grows with it, not with "
        "the page",
    )
    parser.add_argument(
        "--flips",
        type=int,
        choices=FLIPS,
        default=1,
        help="average the model over this many mirror images of each tile (default 1): "
        "4 is the best quality, at 4 times the time",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``scanclean-batch``.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0, 1, 2 (usage; argparse exits with 2 itself) or 130.
    """
    from tqdm import tqdm

    parser = build_parser()
    args = parser.parse_args(argv)

    if args.outdir.exists() and not args.outdir.is_dir():
        parser.error(f"OUTDIR {args.outdir} exists and is not a folder")
    try:
        model_path = resolve_model(args.model) if args.model is not None else default_model_path()
        session = ModelSession(model_path, intra_op_threads=args.threads)
    except (ModelError, FileNotFoundError) as exc:
        parser.error(str(exc))
    info = session.info
    smallest = 2 * margin_for(info.receptive_field, info.size_multiple) + info.size_multiple
    if args.tile < smallest:
        parser.error(
            f"--tile {args.tile} is too small for model {info.name} "
            f"(receptive field {info.receptive_field} px): use at least {smallest}"
        )

    jobs = plan_jobs(args.inputs, args.outdir, fmt=args.format, overwrite=args.overwrite)
    results = []
    start = time.perf_counter()
    bar = tqdm(
        total=len(jobs),
        unit="file",
        file=sys.stderr,
        disable=args.quiet,
        bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} files [{elapsed}<{remaining}{postfix}]",
    )
    megapixels = 0.0
    try:
        for i, job in enumerate(jobs):
            bar.set_description(job.source.name[:30], refresh=False)

            def progress(fraction: float, _i=i) -> None:
                bar.update(_i + fraction - bar.n)

            result = run_job(job, session, tile=args.tile, progress=progress, flips=args.flips)
            results.append(result)
            bar.update(i + 1 - bar.n)
            if result.status == FAILED:
                bar.write(f"failed: {result.error}", file=sys.stderr)
            elif result.status == CLEANED:
                megapixels += result.megapixels
                elapsed = time.perf_counter() - start
                bar.set_postfix_str(f"{megapixels:.1f} MP, {megapixels / elapsed:.2f} MP/s")
    except KeyboardInterrupt:
        bar.close()
        summary = summarize(results, time.perf_counter() - start)
        print(f"scanclean-batch: interrupted; {summary.line()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.close()
    summary = summarize(results, time.perf_counter() - start)
    print(f"scanclean-batch: {summary.line()}", file=sys.stderr)
    if summary.failed:
        print(f"scanclean-batch: {summary.failed} failed:", file=sys.stderr)
        for r in summary.failures:
            print(f"  {r.error}", file=sys.stderr)
    return EXIT_FAILED if summary.failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
