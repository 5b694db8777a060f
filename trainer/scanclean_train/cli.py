"""``scanclean-train``: fit, average, export, evaluate and synthesize denoising autoencoders.

Subcommands::

    scanclean-train fit --data DIR [--data DIR2 ...] --arch {seed,unet,mirror-unet} [--widths F,F,...]
        [--context D,D,...] --out RUN ...
    scanclean-train resume RUN [--threads N] [--max-minutes M] [--stop-after N]
    scanclean-train average RUN1/model.keras RUN2/model.keras [...] --out RUN
    scanclean-train export RUN/model.keras --out MODEL.onnx [--name NAME] [--version V]
    scanclean-train evaluate --model MODEL.onnx --data DIR [--groups G,G] [--flips F,F] [--json]
    scanclean-train synth --out DIR --count N [--seed S] [--size WxH] [--dpi N]

Exit codes: 0 success, 1 failure (bad data, bad model), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def split_list(text: str) -> list[str]:
    """``"a,b, c"`` -> ``["a", "b", "c"]``."""
    return [t.strip() for t in text.split(",") if t.strip()]


def split_val_groups(text: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]``; ``"none"`` -> ``[]`` (hold no group out)."""
    return [] if text.strip().lower() == "none" else split_list(text)


def split_numbers(text: str, convert, check) -> list:
    """``"16,24"`` -> ``check([convert("16"), convert("24")])`` for argparse.

    Raises
    ------
    argparse.ArgumentTypeError
        An item ``convert`` refuses, or ``check``'s ValueError message (a usage error).
    """
    try:
        values = [convert(t) for t in split_list(text)]
    except ValueError:
        kind = "whole numbers" if convert is int else "numbers"
        raise argparse.ArgumentTypeError(f"not a list of {kind}: {text!r}") from None
    try:
        return check(values)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def split_flips(text: str) -> tuple[int, ...]:
    """``"1,4"`` -> ``(1, 4)``, each one of ``scanclean.engine.FLIPS``."""
    from scanclean.engine import FLIPS

    def check(values: list[int]) -> tuple[int, ...]:
        if not values or any(v not in FLIPS for v in values):
            raise ValueError(f"each must be one of {FLIPS}: {text!r}")
        return tuple(values)

    return split_numbers(text, int, check)


def split_widths(text: str) -> list[int]:
    """``"16,24,48,96"`` -> ``[16, 24, 48, 96]``, checked by ``train.check_widths``."""
    from .train import check_widths

    return split_numbers(text, int, check_widths)


def split_context(text: str) -> list[int]:
    """``"2,4"`` -> ``[2, 4]``, checked by ``train.check_context``."""
    from .train import check_context

    return split_numbers(text, int, check_context)


def split_fractions(text: str) -> list[float]:
    """``"0.45,0.15,0.4"`` -> ``[0.45, 0.15, 0.4]``, checked by ``data.check_fractions``."""
    from .data import check_fractions

    return split_numbers(text, float, check_fractions)


def add_fit(sub) -> None:
    from scanclean.engine import FLIPS

    from . import ARCH_NAMES, DEFAULT_ARCH
    from .train import LOSSES

    p = sub.add_parser(
        "fit",
        help="train a model on paired scans; writes RUN/model.keras, history.csv, config.json",
    )
    p.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="DIR",
        help="data dir with noisy/ and clean/ (repeatable; validation groups come from the first)",
    )
    p.add_argument(
        "--arch",
        choices=ARCH_NAMES,
        default=DEFAULT_ARCH,
        help="seed: the reference DAE; unet: the default's U-Net; mirror-unet: that U-Net "
        "equivariant to the four mirror images, kernels tied over them (default %(default)s)",
    )
    p.add_argument(
        "--widths",
        type=split_widths,
        default=None,
        metavar="F,F,...",
        help="unet and mirror-unet (multiples of 4) only: filters per resolution, finest "
        "first (default 8,24,48,96)",
    )
    p.add_argument(
        "--context",
        type=split_context,
        default=None,
        metavar="D,D,...",
        help="unet only: dilation rates of residual 3x3 convolutions after the bottleneck, "
        "to widen the receptive field (default: none)",
    )
    p.add_argument("--out", required=True, metavar="RUN", help="run folder")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps", type=int, default=100, help="batches per epoch")
    p.add_argument("--patch", type=int, default=128, metavar="PX")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--loss", choices=sorted(LOSSES), default="mse")
    p.add_argument("--lr", type=float, default=1e-3, help="initial learning rate (cosine decay)")
    p.add_argument(
        "--val-groups",
        type=split_val_groups,
        default=None,
        metavar="G,G",
        help="background groups held out for validation (default: 20%% of groups by seed); "
        "'none' trains on every group and scores no epoch (needs --keep last)",
    )
    p.add_argument(
        "--unseen-text",
        action="store_true",
        help="also drop from training the pages whose clean page (the text) is on the "
        "validation side, so validation measures unseen stains on unseen text",
    )
    p.add_argument("--val-pages", type=int, default=16, help="held-out pages scored per epoch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-augment", action="store_true", help="plain random crops only")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget (min)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--init",
        default=None,
        metavar="MODEL.keras",
        help="start from this model's weights (same --arch; fine-tuning)",
    )
    p.add_argument(
        "--train-only",
        type=lambda text: [part for part in text.split(",") if part],
        default=None,
        metavar="PREFIX,PREFIX",
        help="train only the layers whose names start with these prefixes (e.g. "
        "enc0,dec0,correction for the U-Net's full-resolution level); the rest keep --init's "
        "weights",
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="stop after N epochs, keeping the learning-rate schedule of --epochs "
        "(go on later with: scanclean-train resume RUN)",
    )
    p.add_argument(
        "--max-scale", type=float, default=3.0, help="largest scale-jitter factor (default 3)"
    )
    p.add_argument(
        "--p-scale",
        type=float,
        default=0.5,
        metavar="P",
        help="share of patches with scale jitter (default 0.5)",
    )
    p.add_argument(
        "--p-bleed",
        type=float,
        default=0.0,
        metavar="P",
        help="share of patches given faint mirrored bleed-through to remove (default 0)",
    )
    p.add_argument(
        "--max-fade",
        type=float,
        default=0.85,
        metavar="A",
        help="largest share of a stroke's contrast that ink fading takes away (default 0.85)",
    )
    p.add_argument(
        "--fade-mask",
        choices=("stroke", "core"),
        default="stroke",
        help="ink fading moves whole strokes alike (default) or, as for the default model "
        "up to version 2.1, stroke cores more than their rims",
    )
    p.add_argument(
        "--fade-floor",
        type=float,
        default=0.0,
        metavar="K",
        help="ink fading stops K local paper std below the paper level, so faded ink stays "
        "visible on its paper (default 0: no floor)",
    )
    p.add_argument(
        "--keep",
        choices=("best", "last"),
        default="best",
        help="model.keras from the epoch with the best validation RMSE, or the last epoch",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="M",
        help="average the weights with this momentum (e.g. 0.99); each epoch ends on the average",
    )
    shares = p.add_mutually_exclusive_group()
    shares.add_argument(
        "--first-fraction",
        type=float,
        default=None,
        metavar="F",
        help="share of patches drawn from the first --data dir (default: every page equally often)",
    )
    shares.add_argument(
        "--source-fractions",
        type=split_fractions,
        default=None,
        metavar="F,F,...",
        help="share of patches per --data dir, in their order, summing to 1 (instead of "
        "--first-fraction, which spreads the rest over the other dirs' pages)",
    )
    p.add_argument(
        "--teacher",
        default=None,
        metavar="MODEL.onnx",
        help="self-distillation: blend this model's output on each noisy patch into the target",
    )
    p.add_argument(
        "--teacher-flips",
        type=int,
        choices=FLIPS,
        default=4,
        help="mirror images the teacher averages (default 4)",
    )
    p.add_argument(
        "--teacher-weight",
        type=float,
        default=0.5,
        metavar="W",
        help="share of the teacher's output in the target (default 0.5)",
    )


def run_fit(args) -> int:
    from .train import FitConfig, fit

    config = FitConfig(
        data=[os.path.abspath(d) for d in args.data],
        arch=args.arch,
        widths=args.widths,
        context=args.context,
        epochs=args.epochs,
        steps_per_epoch=args.steps,
        batch_size=args.batch_size,
        patch=args.patch,
        loss=args.loss,
        learning_rate=args.lr,
        val_groups=args.val_groups,
        unseen_text=args.unseen_text,
        seed=args.seed,
        augment=not args.no_augment,
        max_minutes=args.max_minutes,
        val_pages_per_epoch=args.val_pages,
        threads=args.threads,
        first_fraction=args.first_fraction,
        source_fractions=args.source_fractions,
        max_scale=args.max_scale,
        p_scale=args.p_scale,
        p_bleed=args.p_bleed,
        max_fade=args.max_fade,
        fade_mask=args.fade_mask,
        fade_floor=args.fade_floor,
        keep=args.keep,
        stop_after=args.stop_after,
        init=os.path.abspath(args.init) if args.init else None,
        train_only=args.train_only,
        ema=args.ema,
        teacher=os.path.abspath(args.teacher) if args.teacher else None,
        teacher_flips=args.teacher_flips,
        teacher_weight=args.teacher_weight,
    )
    result = fit(config, args.out, log=lambda line: print(line, flush=True))
    print(json.dumps(result))
    return 0


def add_resume(sub) -> None:
    p = sub.add_parser(
        "resume",
        help="continue a stopped fit (stop-after, max-minutes, Ctrl+C, a crash) from its last epoch",
    )
    p.add_argument("run", metavar="RUN", help="the run folder of the stopped fit")
    p.add_argument("--threads", type=int, default=None, help="default: the run's")
    p.add_argument(
        "--max-minutes", type=float, default=None, help="wall-clock budget of this sitting (min)"
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="stop again after epoch N of the schedule (default: run to its end)",
    )


def read_run_config(run: str | os.PathLike):
    """The :class:`~scanclean_train.train.FitConfig` recorded in ``RUN/config.json``.

    Raises
    ------
    FileNotFoundError
        The run folder has no ``config.json``.
    ValueError
        The record does not hold a configuration this trainer knows.
    """
    from .train import FitConfig

    path = Path(run) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; is {run} a run folder?")
    try:
        return FitConfig(**json.loads(path.read_text(encoding="utf-8"))["config"])
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a run configuration this trainer reads ({exc})") from exc


def run_resume(args) -> int:
    from dataclasses import replace

    from .train import fit

    config = read_run_config(args.run)
    config = replace(  # FitConfig checks the new settings, --stop-after's range included
        config,
        threads=args.threads if args.threads is not None else config.threads,
        max_minutes=args.max_minutes,
        stop_after=args.stop_after,
    )
    result = fit(config, args.run, log=lambda line: print(line, flush=True), resume=True)
    print(json.dumps(result))
    return 0


def add_average(sub) -> None:
    p = sub.add_parser(
        "average", help="average the weights of fine-tuned runs into a new run (model soup)"
    )
    p.add_argument("models", nargs="+", metavar="RUN/model.keras")
    p.add_argument("--out", required=True, metavar="RUN", help="new run folder")


def run_average(args) -> int:
    from .train import average_runs

    average_runs(args.models, args.out)
    print(f"{len(args.models)} runs averaged into {args.out}/model.keras")
    return 0


def add_export(sub) -> None:
    p = sub.add_parser("export", help="export RUN/model.keras to ONNX with metadata")
    p.add_argument("model", metavar="RUN/model.keras")
    p.add_argument("--out", required=True, metavar="MODEL.onnx")
    p.add_argument("--name", default=None)
    p.add_argument("--version", default="1")
    p.add_argument("--description", default="")
    p.add_argument(
        "--metrics",
        default=None,
        metavar="JSON_FILE",
        help="validation figures to store, as one JSON object",
    )
    p.add_argument(
        "--metrics-from",
        action="append",
        default=[],
        metavar="NAME=EVAL.json",
        help="store the model's and identity's figures from an evaluate --json report "
        "under NAME (repeatable; instead of --metrics)",
    )


def run_export(args) -> int:
    from .export import collect_metrics, export

    metrics = None
    if args.metrics and args.metrics_from:
        raise ValueError("give --metrics or --metrics-from, not both")
    if args.metrics:
        with open(args.metrics) as fh:
            metrics = json.load(fh)
    if args.metrics_from:
        reports = {}
        for item in args.metrics_from:
            key, sep, path = item.partition("=")
            if not sep or not key or not path:
                raise ValueError(f"--metrics-from {item!r}: expected NAME=EVAL.json")
            try:
                with open(path) as fh:
                    reports[key] = json.load(fh)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not an evaluate --json report ({exc})") from None
        metrics = collect_metrics(reports)
    metadata = export(
        args.model,
        args.out,
        name=args.name,
        version=args.version,
        metrics=metrics,
        description=args.description,
    )
    for key, value in metadata.items():
        print(f"{key}: {value}")
    return 0


def add_evaluate(sub) -> None:
    from scanclean.engine import DEFAULT_TILE  # numpy only, no onnxruntime

    p = sub.add_parser("evaluate", help="RMSE/PSNR/SSIM of a model and baselines on paired pages")
    p.add_argument(
        "--model",
        required=True,
        action="append",
        metavar="MODEL.onnx",
        help="ONNX model (repeatable)",
    )
    p.add_argument("--data", required=True, metavar="DIR")
    p.add_argument(
        "--groups",
        type=split_list,
        default=None,
        metavar="G,G",
        help="only these background groups (e.g. the held-out ones)",
    )
    p.add_argument(
        "--without-tag",
        type=split_list,
        default=(),
        metavar="TAG,TAG",
        help="leave out the pages whose pages.json tags include one of these (a synth set; "
        "e.g. fade: only pages whose ink the generator did not fade)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--per-page", action="store_true", help="print per-page figures too")
    p.add_argument(
        "--tile",
        type=int,
        default=DEFAULT_TILE,
        metavar="PX",
        help=f"largest tile side in px (default {DEFAULT_TILE}, the app's); results do not "
        "depend on it",
    )
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--flips",
        type=split_flips,
        default=(1,),
        metavar="F,F",
        help="score each model once per F, as the mean over F mirror images of each tile "
        "(1 = one pass, the app's default; 4 = the app's best quality; default 1; e.g. 1,4)",
    )


def run_evaluate(args) -> int:
    from .evaluate import evaluate_dir, format_report

    report = evaluate_dir(
        args.model,
        args.data,
        groups=args.groups,
        tile=args.tile,
        threads=args.threads,
        flips=args.flips,
        without_tags=tuple(args.without_tag),
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report, per_page=args.per_page))
    return 0


def add_synth(sub) -> None:
    from . import synth

    p = sub.add_parser("synth", help="generate synthetic soiled/clean page pairs")
    synth.add_arguments(p)


def run_synth(args) -> int:
    from . import synth

    return synth.run(args)


def add_fade(sub) -> None:
    p = sub.add_parser(
        "fade", help="text-survival test pairs from real pairs: faint print, higher DPI"
    )
    p.add_argument("--data", required=True, metavar="DIR", help="data dir with noisy/ and clean/")
    p.add_argument("--out", required=True, metavar="DIR", help="new data dir (noisy/ and clean/)")
    p.add_argument(
        "--groups",
        type=split_list,
        default=None,
        metavar="G,G",
        help="only these background groups (e.g. the held-out ones)",
    )
    p.add_argument(
        "--contrast", type=float, default=0.35, help="ink strength, 1 = as printed (default 0.35)"
    )
    p.add_argument("--scale", type=float, default=2.5, help="resolution factor (default 2.5)")
    p.add_argument("--seed", type=int, default=0)


def run_fade(args) -> int:
    from .fade import write_faded_set

    n = write_faded_set(
        args.data,
        args.out,
        groups=args.groups,
        contrast=args.contrast,
        scale=args.scale,
        seed=args.seed,
    )
    print(f"{n} pairs written to {args.out}")
    return 0


COMMANDS = {
    "fit": (add_fit, run_fit),
    "resume": (add_resume, run_resume),
    "average": (add_average, run_average),
    "export": (add_export, run_export),
    "evaluate": (add_evaluate, run_evaluate),
    "synth": (add_synth, run_synth),
    "fade": (add_fade, run_fade),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``scanclean-train`` argument parser."""
    parser = argparse.ArgumentParser(prog="scanclean-train", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``scanclean-train``; returns the exit code (0 ok, 1 failure, 2 usage)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from .data import DataError

    try:
        return COMMANDS[args.command][1](args)
    except (DataError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"scanclean-train {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
