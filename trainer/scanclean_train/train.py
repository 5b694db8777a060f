"""Fit a denoising autoencoder on patches and keep the best checkpoint by validation RMSE.

A run folder gets ``model.keras`` (best validation RMSE), ``history.csv`` (per epoch:
train loss, validation loss and RMSE on whole held-out pages) and ``config.json`` (every
setting, the data paths, the split and the library versions). Same seed and data give
the same split and the same patches. ``model.keras`` and ``config.json`` are written
atomically, so a run stopped at any moment keeps its last whole checkpoint;
``history.csv`` is a log, one flushed row per epoch. A run with no held-out groups (the
final model of a validated recipe) leaves the validation columns empty.

After every epoch the run also writes ``resume.npz`` (the weights, the optimizer's state
and the epoch reached; atomically), so a run that was stopped (``stop_after``,
``max_minutes``, Ctrl+C, a crash or a closed session) continues where it was with
``fit(..., resume=True)`` (``scanclean-train resume RUN``), losing at most the epoch in
progress. The file is removed when the schedule's last epoch is done.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from scanclean.engine import FLIPS

from . import data as data_mod
from .export import write_atomic

RESUME_FILE = "resume.npz"  # in the run folder, while epochs of the schedule remain
BASE_LOSSES = ("mse", "mae", "ink-mse")  # the losses losses.DistilledLoss can blend toward


def check_widths(widths: list[int], arch: str = "unet") -> list[int]:
    """Return U-Net ``widths`` (filters per resolution, finest first) if usable.

    Checked here, without TensorFlow, for both ``FitConfig`` (before a run starts) and
    ``model.build_model``.

    Raises
    ------
    ValueError
        ``arch`` is not ``unet`` or ``mirror-unet``, fewer than two counts, a count below
        1, or (``mirror-unet``) a count that is not a multiple of 4.
    """
    if arch not in ("unet", "mirror-unet"):
        raise ValueError(
            f"widths apply to the unet and mirror-unet architectures only, not {arch!r}"
        )
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must be two or more positive filter counts: {list(widths)}")
    if arch == "mirror-unet" and any(w % 4 for w in widths):
        raise ValueError(
            f"mirror-unet widths must be multiples of 4 (fields of four): {list(widths)}"
        )
    return widths


def check_context(context: list[int], arch: str = "unet") -> list[int]:
    """Return the dilation rates of a U-Net context block (``model.build_unet``) if usable.

    Raises
    ------
    ValueError
        ``arch`` is not ``unet``, no rates, or a rate below 1.
    """
    if arch != "unet":
        raise ValueError(f"a context block applies to the unet architecture only, not {arch!r}")
    if not context or min(context) < 1:
        raise ValueError(f"context needs one or more dilation rates of 1 or more: {list(context)}")
    return context


@dataclass
class FitConfig:
    """Every setting of a training run (written to ``config.json``).

    Attributes
    ----------
    data : list of str
        Data directories. Validation groups come from the first one; the others
        (synthetic pages, say) are used for training only.
    arch : str
        Architecture name (``scanclean_train.model.ARCHITECTURES``).
    widths : list of int or None
        ``unet`` only: filters per resolution, finest first (``model.build_unet``); None
        for the architecture's default.
    context : list of int or None
        ``unet`` only: dilation rates of a context block at the coarsest level
        (``model.build_unet``); None for none.
    epochs, steps_per_epoch, batch_size : int
    patch : int
        Training patch side (px).
    loss : str
        ``mse``, ``mae``, ``ink-mse`` (MSE with ink pixels, clean < 0.5, weighted 4x),
        ``ink-mae`` (the same weights on the absolute error), ``deep-mse`` (MSE with ink
        at least 4 px from the paper weighted 4x) or ``faded-ink-mse`` (``ink-mse`` on the
        patches whose ink was faded, plain MSE on the others; needs ``augment``).
    learning_rate : float
        Adam's initial learning rate; cosine decay to 5 % over the run.
    val_groups : list of str or None
        Held-out background groups; None picks ``val_fraction`` of the groups by seed; an
        empty list holds nothing out: every page trains and no epoch is scored (for the
        final model of a recipe already validated on held-out groups; needs
        ``keep="last"``).
    unseen_text : bool
        Also drop from training every page of the first data dir whose clean page (its
        text) is a validation page's (:func:`data.drop_shared_text`), so validation
        measures unseen stains on unseen text.
    val_pages_per_epoch : int
        Whole held-out pages scored after each epoch to pick the best checkpoint (a fixed,
        evenly spread subset; ``scanclean-train evaluate`` scores them all).
    max_minutes : float or None
        Stop after the epoch that passes this wall-clock budget (min).
    threads : int or None
        TensorFlow intra-op threads (None: all cores).
    augment : bool
        Scale jitter, input-only ink fading and tone jitter (see ``data.Augment``).
    first_fraction : float or None
        Share of training patches drawn from the first data dir's training pages (the
        rest from the other dirs, by page); None draws every page equally often.
    source_fractions : list of float or None
        Share of training patches per data dir, one per entry of ``data``, summing to 1
        (``data.page_weights``); excludes ``first_fraction``. Keeps each source's share
        fixed when a third dir is added.
    init : str or None
        A ``model.keras`` of the same architecture to start from (fine-tuning) instead of
        random weights.
    train_only : list of str or None
        Layer-name prefixes (e.g. ``enc0``, ``dec0``, ``correction`` for the U-Net's
        full-resolution level): only the layers whose names start with one of them are
        trained, the others keep their weights (and their batch-normalization layers use
        their stored statistics); :func:`freeze_except`. For fine-tuning part of a network
        ("surgical fine-tuning", Lee et al., ICLR 2023); needs ``init``. None trains every
        layer.
    max_scale : float
        Largest scale-jitter factor (``data.Augment.max_scale``).
    p_scale : float
        Share of the patches that get scale jitter (``data.Augment.p_scale``), in [0, 1].
    p_bleed : float
        Share of the patches that get input-only bleed-through
        (``data.add_bleed_through``), in [0, 1]; 0 (default) as every shipped model.
    max_fade : float
        Largest share of a stroke's contrast that ink fading takes away
        (``data.Augment.max_fade``; 0.85 leaves 15 % of the ink).
    fade_mask : {"stroke", "core"}
        Which pixels ink fading moves (``data.fade_ink``): whole strokes alike, or stroke
        cores more than rims as in the training of default models up to version 2.1.
    fade_floor : float
        Least darkness faded ink keeps below the local paper level, in local paper std
        (``data.fade_ink``'s ``floor``); 0 (default, as every shipped model) for none.
    stop_after : int or None
        Stop after this many epochs, keeping the learning-rate schedule of ``epochs``
        (to continue later: ``fit(..., resume=True)``); None runs all ``epochs``.
    keep : str
        ``best``: ``model.keras`` is the epoch with the lowest validation RMSE; ``last``:
        the final epoch (for fine-tuning toward something the RMSE does not measure, such
        as faint ink).
    ema : float or None
        Momentum of an exponential moving average of the weights (Keras' optimizer
        ``use_ema``; e.g. 0.99, about the last 100 steps): at the end of every epoch the
        weights are replaced by their average, so validation, the saved model and the
        next epoch start from it. Averaging iterates (Polyak and Juditsky, SIAM J.
        Control Optim. 30(4), 1992) smooths the epoch-to-epoch jitter of the result.
        None: plain weights.
    teacher : str or None
        An ONNX model (``.onnx``, run with onnxruntime through ``scanclean``) whose output
        on each augmented noisy patch is blended into the target
        (``losses.DistilledLoss``): self-distillation from its ``teacher_flips`` mirror
        images; the loss in ``history.csv`` is then the loss toward that blend. None: the
        target is the clean patch.
    teacher_flips : int
        Mirror images the teacher averages (1, 2 or 4; ``scanclean.engine.FLIPS``).
    teacher_weight : float
        Share of the teacher's output in the target, in (0, 1].
    """

    data: list[str]
    arch: str = "unet"
    widths: list[int] | None = None
    context: list[int] | None = None
    epochs: int = 30
    steps_per_epoch: int = 100
    batch_size: int = 16
    patch: int = 128
    loss: str = "mse"
    learning_rate: float = 1e-3
    val_groups: list[str] | None = None
    val_fraction: float = 0.2
    unseen_text: bool = False
    seed: int = 0
    augment: bool = True
    max_minutes: float | None = None
    val_pages_per_epoch: int = 16
    threads: int | None = None
    first_fraction: float | None = None
    source_fractions: list[float] | None = None
    init: str | None = None
    train_only: list[str] | None = None
    max_scale: float = 3.0
    p_scale: float = 0.5
    p_bleed: float = 0.0
    max_fade: float = 0.85
    fade_mask: str = "stroke"
    fade_floor: float = 0.0
    keep: str = "best"
    stop_after: int | None = None
    ema: float | None = None
    teacher: str | None = None
    teacher_flips: int = 4
    teacher_weight: float = 0.5
    split: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject settings that would fail, or silently mean something else, mid-run.

        Raises
        ------
        ValueError
            Naming the setting and the allowed values.
        """
        if self.keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' or 'last', not {self.keep!r}")
        if self.val_groups == [] and self.keep == "best":
            raise ValueError(
                "keep 'best' needs held-out groups to pick the best epoch; "
                "with no validation groups keep the 'last' epoch"
            )
        if self.val_groups == [] and self.unseen_text:
            raise ValueError(
                "unseen_text needs held-out groups whose text it keeps out of training"
            )
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, not {self.loss!r}")
        if self.widths is not None:
            check_widths(self.widths, self.arch)
        if self.context is not None:
            check_context(self.context, self.arch)
        for name in ("epochs", "steps_per_epoch", "batch_size", "patch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.stop_after is not None and not 1 <= self.stop_after <= self.epochs:
            raise ValueError(
                f"stop_after must be between 1 and epochs ({self.epochs}), not {self.stop_after}"
            )
        if self.first_fraction is not None and not 0.0 < self.first_fraction <= 1.0:
            raise ValueError(f"first_fraction must be in (0, 1], not {self.first_fraction}")
        if self.source_fractions is not None:
            if self.first_fraction is not None:
                raise ValueError("give first_fraction or source_fractions, not both")
            if len(self.source_fractions) != len(self.data):
                raise ValueError(
                    f"source_fractions needs one share per data dir ({len(self.data)}), "
                    f"not {len(self.source_fractions)}"
                )
            data_mod.check_fractions(self.source_fractions)
        if self.max_scale < 1.0:
            raise ValueError(f"max_scale must be at least 1, not {self.max_scale}")
        for name in ("p_scale", "p_bleed"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)}")
        if not 0.2 <= self.max_fade < 1.0:
            raise ValueError(f"max_fade must be in [0.2, 1), not {self.max_fade}")
        if self.fade_mask not in ("stroke", "core"):
            raise ValueError(f"fade_mask must be 'stroke' or 'core', not {self.fade_mask!r}")
        if self.fade_floor < 0.0:
            raise ValueError(f"fade_floor must be 0 or more, not {self.fade_floor}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ValueError(f"ema must be in (0, 1), not {self.ema}")
        if self.teacher_flips not in FLIPS:
            raise ValueError(f"teacher_flips must be one of {FLIPS}, not {self.teacher_flips}")
        if not 0.0 < self.teacher_weight <= 1.0:
            raise ValueError(f"teacher_weight must be in (0, 1], not {self.teacher_weight}")
        if self.train_only is not None and not self.train_only:
            raise ValueError("train_only needs at least one layer-name prefix")
        if self.train_only and not self.init:
            raise ValueError("train_only needs init: the weights the other layers keep")
        if self.loss == "faded-ink-mse" and not self.augment:
            raise ValueError("faded-ink-mse weights the faded patches; it needs augmentation")
        if self.teacher and self.loss not in BASE_LOSSES:
            names = ", ".join(BASE_LOSSES[:-1]) + " or " + BASE_LOSSES[-1]
            raise ValueError(f"a teacher blends toward {names}, not {self.loss!r}")


def ink_weighted_mse(y_true, y_pred):
    """MSE where ink pixels (target < 0.5) count 4 times: erasing ink costs more."""
    from keras import ops

    from .losses import ink_weight

    return ops.mean(ink_weight(y_true) * ops.square(y_true - y_pred))


def ink_weighted_mae(y_true, y_pred):
    """Mean absolute error where ink pixels (target < 0.5) count 4 times (L1 ``ink-mse``)."""
    from keras import ops

    from .losses import ink_weight

    return ops.mean(ink_weight(y_true) * ops.abs(y_true - y_pred))


def deep_ink_weighted_mse(y_true, y_pred):
    """MSE where ink at least 4 px from the paper counts 4 times (``losses.deep_ink_weight``).

    Asks the inside of thick strokes to stay dark while thin strokes, stroke edges and the
    paper weigh as in plain MSE.
    """
    from keras import ops

    from .losses import deep_ink_weight

    return ops.mean(deep_ink_weight(y_true) * ops.square(y_true - y_pred))


def faded_ink_weighted_mse(y_true, y_pred):
    """``ink-mse`` on patches whose ink was faded, plain MSE on the others.

    ``y_true`` is (B, P, P, 2) float32: the clean patch, then 1.0 over a patch whose ink
    the augmentation faded and 0.0 over the others (``data.make_patch_dataset`` with
    ``mark_faded``); ``y_pred`` is (B, P, P, 1). Asks faint ink to come out dark without
    pulling the rims and grey of unfaded pages dark as well.
    """
    from keras import ops

    from .losses import ink_weight

    clean, faded = y_true[..., :1], y_true[..., 1:2]
    weight = 1.0 + (ink_weight(clean) - 1.0) * faded  # 4 on faded ink, else 1
    return ops.mean(weight * ops.square(clean - y_pred))


LOSSES = {
    "mse": "mse",
    "mae": "mae",
    "ink-mse": ink_weighted_mse,
    "ink-mae": ink_weighted_mae,
    "deep-mse": deep_ink_weighted_mse,
    "faded-ink-mse": faded_ink_weighted_mse,
}


def make_augment(config: FitConfig) -> data_mod.Augment:
    """The patch augmentation a run's settings ask for (``Augment.none()`` without)."""
    if not config.augment:
        return data_mod.Augment.none()
    return data_mod.Augment(
        max_scale=config.max_scale,
        p_scale=config.p_scale,
        p_bleed=config.p_bleed,
        max_fade=config.max_fade,
        fade_mask=config.fade_mask,
        fade_floor=config.fade_floor,
    )


def make_teacher(path: Path | str, flips: int, threads: int | None, patch: int):
    """Open an ONNX model as a teacher: the mean of its output over mirror images.

    Parameters
    ----------
    path : path
        A ScanClean ``.onnx`` model (metadata as ``scanclean.model.ModelSession`` reads it).
    flips : int
        1, 2 or 4 mirror images averaged (``scanclean.engine.mirror_views``).
    threads : int or None
        onnxruntime intra-op threads (None: one per core).
    patch : int
        Training patch side (px); must be a multiple of the model's ``size_multiple``.

    Returns
    -------
    (teach, info)
        ``teach`` maps a (B, P, P, 1) float32 batch in [0, 1] to the teacher's
        (B, P, P, 1) float32 output; ``info`` is the model's ``ModelInfo``.

    Raises
    ------
    scanclean.model.ModelError
        The file is not a usable model (the message names it).
    ValueError
        ``patch`` is not a multiple of the model's ``size_multiple``.
    """
    from scanclean.engine import average_views, mirror_views
    from scanclean.model import ModelSession

    session = ModelSession(path, intra_op_threads=threads)
    if patch % session.info.size_multiple:
        raise ValueError(
            f"{path}: patch {patch} px is not a multiple of the teacher's size_multiple "
            f"{session.info.size_multiple}"
        )

    def teach(batch: np.ndarray) -> np.ndarray:
        views = mirror_views(batch[..., 0], flips)  # (flips * B, P, P)
        out = session.run(views[..., None])[..., 0]  # (flips * B, P, P)
        return average_views(out, flips)[..., None]  # (B, P, P, 1)

    return teach, session.info


def make_predictor(model):
    """A compiled inference function ``(1, H, W, 1) float32 -> (1, H, W, 1)`` for ``model``."""
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False), reduce_retracing=True)


def predict_page(predictor, noisy: np.ndarray, multiple: int) -> np.ndarray:
    """Run a model (or a :func:`make_predictor` function) on one whole page.

    Parameters
    ----------
    noisy : (H, W) float32 in [0, 1]

    Returns
    -------
    (H, W) float32 in [0, 1]
    """
    from scanclean.tiling import pad_reflect

    padded, undo = pad_reflect(noisy, multiple)
    return undo(np.asarray(predictor(padded[None, ..., None]))[0, ..., 0])


def page_rmse(predictor, pages: list[tuple[np.ndarray, np.ndarray]], multiple: int) -> float:
    """Pooled RMSE over whole pages (every pixel of every page counts once)."""
    sq, n = 0.0, 0
    for noisy, clean in pages:
        diff = predict_page(predictor, noisy, multiple) - clean
        sq += float(np.sum(diff.astype(np.float64) ** 2))
        n += diff.size
    return float(np.sqrt(sq / n))


def identity_rmse(pages: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Pooled RMSE of the noisy pages as they are (the identity baseline)."""
    sq = sum(float(np.sum((n.astype(np.float64) - c) ** 2)) for n, c in pages)
    return float(np.sqrt(sq / sum(c.size for _, c in pages)))


def prepare_split(config: FitConfig) -> tuple[list, list]:
    """Find pairs in every data dir and split the first by background groups.

    Fills ``config.split`` with the group and page names of both sides (and, with
    ``config.unseen_text``, the training pages dropped for sharing a validation page's
    text). With ``config.val_groups == []`` every page trains and the validation side is
    empty.

    Returns
    -------
    train_pairs, val_pairs : list of data.Pair
    """
    first = data_mod.find_pairs(config.data[0])
    extra_sources = [data_mod.find_pairs(d) for d in config.data[1:]]
    extra = [p for pairs in extra_sources for p in pairs]
    if config.val_groups == []:
        train, val = first, []
    else:
        val_groups = config.val_groups or data_mod.choose_val_groups(
            [p.group for p in first], config.val_fraction, config.seed
        )
        train, val = data_mod.split_pairs(first, val_groups)
    dropped = []
    if config.unseen_text:
        train, dropped = data_mod.drop_shared_text(train, val)
    config.split = {
        "val_groups": sorted({p.group for p in val}),
        "train_groups": sorted({p.group for p in train}),
        "val_pages": [p.name for p in val],
        "first_training_pages": len(train),
        "extra_training_pages": len(extra),
        "training_pages_per_source": [len(train)] + [len(pairs) for pairs in extra_sources],
    }
    if config.unseen_text:
        config.split["unseen_text"] = True
        config.split["dropped_shared_text_pages"] = [p.name for p in dropped]
    return train + extra, val


def versions() -> dict:
    """Library versions for the run record."""
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def save_model_atomic(model, path: Path | str) -> None:
    """Save a Keras model atomically: into a temp folder beside ``path``, then rename.

    A crash or Ctrl+C during the save leaves the previous file at ``path`` (or none),
    never a half-written one, and no temp folder.

    Parameters
    ----------
    model : keras.Model
        Saved with ``model.save`` (native ``.keras`` zip).
    path : path
        Target file, ending in ``.keras``.

    Raises
    ------
    OSError
        The folder or the temp file cannot be written.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=path.parent) as tmp_dir:
        tmp = Path(tmp_dir) / path.name  # same name, so Keras sees the .keras suffix
        model.save(tmp)
        os.replace(tmp, path)


def write_record(record: dict, path: Path | str) -> None:
    """Write a run's record as indented JSON, atomically (``export.write_atomic``)."""
    write_atomic(json.dumps(record, indent=2).encode(), Path(path))


def start_from(model, path: Path | str) -> None:
    """Copy the weights of a saved run model into ``model`` (fine-tuning).

    Raises
    ------
    ValueError
        The saved model has another architecture (its weight shapes differ).
    FileNotFoundError
        No such file.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    saved = load_run_model(path)
    mine, theirs = model.get_weights(), saved.get_weights()
    if [w.shape for w in mine] != [w.shape for w in theirs]:
        raise ValueError(
            f"{path}: a {saved.name!r} model with other weight shapes than this {model.name!r}; "
            "--init needs the same architecture"
        )
    model.set_weights(theirs)


def save_resume_state(path: Path | str, model, optimizer, state: dict) -> None:
    """Write what a stopped run needs to continue: weights, optimizer state, progress.

    Parameters
    ----------
    path : Path or str
        The ``.npz`` file to write, atomically (``export.write_atomic``).
    model : keras.Model
        Its weights (``get_weights``: trainable ones and batch-normalization statistics).
    optimizer : keras.optimizers.Optimizer
        Its variables (``save_own_variables``: step count, Adam's moments, the weight
        average of ``use_ema``), so the learning-rate schedule and the moments go on.
    state : dict
        JSON-serialisable progress (epoch reached, best validation RMSE, seconds, ...).

    Raises
    ------
    OSError
        The file cannot be written.
    """
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    store: dict = {}
    optimizer.save_own_variables(store)
    arrays.update({f"o{key}": np.asarray(value) for key, value in store.items()})
    arrays["state"] = np.array(json.dumps(state))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(buffer.getvalue(), Path(path))


def load_resume_state(path: Path | str, model, optimizer) -> dict:
    """Restore what :func:`save_resume_state` wrote into a freshly built model and optimizer.

    Parameters
    ----------
    path : Path or str
        A ``resume.npz``.
    model : keras.Model
        Built with the run's architecture; gets the saved weights.
    optimizer : keras.optimizers.Optimizer
        The run's optimizer, attached to ``model`` (built here for its trainable
        variables if it is not yet); gets the saved variables.

    Returns
    -------
    dict : the saved progress.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file does not fit the model (other weight shapes) or the optimizer.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with np.load(path, allow_pickle=False) as saved:
        weights = [saved[f"w{i}"] for i in range(sum(k.startswith("w") for k in saved.files))]
        store = {k[1:]: saved[k] for k in saved.files if k.startswith("o")}
        state = json.loads(str(saved["state"]))
    mine = [w.shape for w in model.get_weights()]
    if [w.shape for w in weights] != mine:
        raise ValueError(f"{path}: saved for other weight shapes than this {model.name!r} model")
    model.set_weights(weights)
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    if len(store) != len(optimizer.variables):
        raise ValueError(
            f"{path}: {len(store)} optimizer variables saved, the optimizer has "
            f"{len(optimizer.variables)}"
        )
    optimizer.load_own_variables(store)
    return state


def read_history(path: Path | str, epochs: int) -> list[list[str]]:
    """The rows of a run's ``history.csv`` for its first ``epochs`` epochs (header excluded).

    Raises
    ------
    ValueError
        The file has fewer rows than that (it is not the log of the saved run).
    """
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    kept = [row for row in rows if row and int(row[0]) <= epochs]
    if len(kept) != epochs:
        raise ValueError(f"{path}: {len(kept)} epochs logged, the saved run reached {epochs}")
    return kept


def _trainable_parameters(model) -> int:
    """Number of trainable parameters (batch-normalization statistics excluded)."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def freeze_except(model, prefixes: list[str]) -> int:
    """Train only the layers whose names start with one of ``prefixes``; freeze the rest.

    A frozen Keras layer keeps its weights, and a frozen ``BatchNormalization`` normalizes
    with its stored statistics in training too. Layers without weights are left as they
    are.

    Parameters
    ----------
    model : keras.Model
    prefixes : list of str
        Layer-name prefixes, e.g. ``["enc0", "dec0", "correction"]``.

    Returns
    -------
    int
        The number of trainable parameters left.

    Raises
    ------
    ValueError
        A prefix matches no layer that has weights (the message lists the layers that do).
    """
    weighted = [layer for layer in model.layers if layer.weights]
    unmatched = [p for p in prefixes if not any(lay.name.startswith(p) for lay in weighted)]
    if unmatched:
        names = ", ".join(lay.name for lay in weighted)
        raise ValueError(
            f"train_only prefix {', '.join(map(repr, unmatched))} matches no layer with "
            f"weights in {model.name!r}; its layers are: {names}"
        )
    for layer in weighted:
        layer.trainable = layer.name.startswith(tuple(prefixes))
    return _trainable_parameters(model)


def fit(config: FitConfig, out_dir: Path | str, log=print, resume: bool = False) -> dict:
    """Train a model and write the run folder.

    Parameters
    ----------
    config : FitConfig
    out_dir : Path or str
        Run folder (created). Gets ``model.keras``, ``history.csv``, ``config.json`` and,
        while epochs remain, ``resume.npz``.
    log : callable
        Receives one line of text per epoch.
    resume : bool
        Continue the stopped run in ``out_dir`` from its ``resume.npz``: the same weights,
        optimizer state (learning-rate schedule, moments, weight average), best epoch and
        history, then the same patches for the remaining epochs as an unbroken run.
        ``config`` must hold the run's settings (``config.json``); ``threads``,
        ``max_minutes`` and ``stop_after`` may differ, and ``max_minutes`` counts from the
        resumption.

    Returns
    -------
    dict with ``best_val_rmse``, ``identity_val_rmse``, ``best_epoch`` (each None when no
    group is held out), ``kept_epoch``, ``seconds`` (of training, over every sitting of a
    resumed run) and ``epochs_done``.

    Raises
    ------
    data.DataError
        Unusable data directory (the message names the file).
    FileNotFoundError
        ``resume`` and the run folder has no ``resume.npz`` (it finished, or never did an
        epoch).
    ValueError
        ``resume`` and the data's split, the saved state or the history do not match the
        run's.
    """
    import keras
    import tensorflow as tf

    from .model import build_model, macs_per_pixel

    if config.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(config.threads)
            tf.config.threading.set_inter_op_parallelism_threads(config.threads)
        except RuntimeError:  # TensorFlow already started in this process: keep its threads
            log(f"note: TensorFlow already initialised; --threads {config.threads} not applied")
    out_dir = Path(out_dir)
    resume_path = out_dir / RESUME_FILE
    if resume and not resume_path.is_file():
        raise FileNotFoundError(
            f"{resume_path}: no such file; the run in {out_dir} finished its schedule, "
            "never completed an epoch, or was written by a trainer without resumption"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume:  # a new run in an old folder: the old run's state must not resume it
        resume_path.unlink(missing_ok=True)
    keras.utils.set_random_seed(config.seed)
    earlier = json.loads((out_dir / "config.json").read_text()) if resume else {}
    train_pairs, val_pairs = prepare_split(config)
    if resume and config.split != earlier.get("config", {}).get("split"):
        raise ValueError(
            f"the data in {', '.join(config.data)} no longer gives the run's split "
            "(pages added, removed or renamed); cannot resume"
        )
    train_pages = data_mod.load_images(train_pairs)
    val_pages = data_mod.load_images(val_pairs)
    weights = data_mod.page_weights(
        config.split["training_pages_per_source"], config.first_fraction, config.source_fractions
    )
    step = max(1, len(val_pages) // max(1, config.val_pages_per_epoch))
    val_subset = val_pages[::step][: config.val_pages_per_epoch]
    model, info = build_model(config.arch, config.widths, config.context)
    if config.init and not resume:
        start_from(model, config.init)
    if config.train_only:
        freeze_except(model, config.train_only)
    trainable = _trainable_parameters(model)
    predictor = make_predictor(model)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, config.epochs * config.steps_per_epoch, alpha=0.05
    )
    optimizer = keras.optimizers.Adam(
        schedule, use_ema=config.ema is not None, ema_momentum=config.ema or 0.99
    )  # with use_ema, every model.fit below ends by swapping in the averaged weights
    teach = None
    if config.teacher:
        from .losses import DistilledLoss

        teach, teacher_info = make_teacher(
            config.teacher, config.teacher_flips, config.threads, config.patch
        )
        loss = DistilledLoss(config.loss, config.teacher_weight)
    else:
        loss = LOSSES[config.loss]
    model.compile(optimizer=optimizer, loss=loss, jit_compile=True)
    state = {"epoch": 0, "best": None, "best_epoch": -1, "seconds": 0.0}
    rows = []  # history.csv rows of the epochs already done
    if resume:
        state = load_resume_state(resume_path, model, optimizer)
        rows = read_history(out_dir / "history.csv", state["epoch"])
    augment = make_augment(config)
    baseline = identity_rmse(val_subset) if val_subset else None
    record = {
        "config": asdict(config),
        "architecture": asdict(info),
        "parameters": model.count_params(),
        "trainable_parameters": trainable,
        "macs_per_pixel": macs_per_pixel(model),
        "identity_val_rmse": baseline,
        "versions": versions(),
    }
    if teach is not None:
        record["teacher"] = {
            "path": str(config.teacher),
            "name": teacher_info.name,
            "version": teacher_info.version,
            "flips": config.teacher_flips,
            "weight": config.teacher_weight,
        }
    if resume:
        record["resumed"] = [
            *earlier.get("resumed", []),
            {"after_epoch": state["epoch"], "versions": record["versions"]},
        ]
    write_record(record, out_dir / "config.json")
    log(
        f"{len(train_pairs)} training pages, {len(val_pairs)} validation pages "
        + (
            f"({', '.join(config.split['val_groups'])}); identity RMSE {baseline:.4f} "
            f"on the {len(val_subset)} pages scored per epoch"
            if val_subset
            else "(every background group trains; no epoch is scored)"
        )
    )
    if config.unseen_text:
        dropped = config.split["dropped_shared_text_pages"]
        log(f"{len(dropped)} pages sharing a held-out page's text dropped from training")

    best = float("inf") if state["best"] is None else state["best"]
    best_epoch, last_epoch = state["best_epoch"], state["epoch"]
    start = time.monotonic()  # of this sitting; the history counts from the first
    if resume:
        log(f"resuming after epoch {state['epoch']} of {config.epochs}")
    logged = io.StringIO()  # the header and, resuming, the saved run's epochs: written whole
    csv.writer(logged).writerows([["epoch", "loss", "val_loss", "val_rmse", "seconds"], *rows])
    write_atomic(logged.getvalue().encode(), out_dir / "history.csv")
    with open(out_dir / "history.csv", "a", newline="") as fh:
        writer = csv.writer(fh)
        end = min(config.epochs, config.stop_after or config.epochs)
        for epoch in range(state["epoch"], end):
            patches = data_mod.make_patch_dataset(
                train_pages,
                config.patch,
                config.batch_size,
                config.steps_per_epoch,
                seed=config.seed * 100_003 + epoch,
                augment=augment,
                weights=weights,
                teacher=teach,
                mark_faded=config.loss == "faded-ink-mse",
            )
            history = model.fit(
                patches.repeat(),
                epochs=1,
                steps_per_epoch=config.steps_per_epoch,
                shuffle=False,
                verbose=0,
            )
            loss = history.history["loss"][-1]
            val_rmse = page_rmse(predictor, val_subset, info.size_multiple) if val_subset else None
            sitting = time.monotonic() - start
            elapsed = state["seconds"] + sitting
            scored = val_rmse is not None
            writer.writerow(
                [
                    epoch + 1,
                    f"{loss:.6f}",
                    f"{val_rmse**2:.6f}" if scored else "",
                    f"{val_rmse:.6f}" if scored else "",
                    f"{elapsed:.0f}",
                ]
            )
            fh.flush()
            if scored and val_rmse < best:
                best, best_epoch = val_rmse, epoch + 1
                if config.keep == "best":
                    save_model_atomic(model, out_dir / "model.keras")
            last_epoch = epoch + 1
            if config.keep == "last":
                save_model_atomic(model, out_dir / "model.keras")
            if last_epoch < config.epochs:
                progress = {
                    "epoch": last_epoch,
                    "best": best if best_epoch > 0 else None,
                    "best_epoch": best_epoch,
                    "seconds": elapsed,
                }
                save_resume_state(resume_path, model, optimizer, progress)
            else:
                resume_path.unlink(missing_ok=True)
            log(
                f"epoch {epoch + 1}/{config.epochs}: loss {loss:.5f}  "
                + (
                    f"val RMSE {val_rmse:.4f}  (best {best:.4f} @ {best_epoch}, "
                    f"identity {baseline:.4f})"
                    if scored
                    else "(not scored)"
                )
                + f"  {elapsed:.0f} s"
            )
            if config.max_minutes and sitting > 60 * config.max_minutes:
                log(f"stopping: time budget of {config.max_minutes} min reached")
                break
    result = {
        "best_val_rmse": best if best_epoch > 0 else None,
        "identity_val_rmse": baseline,
        "best_epoch": best_epoch if best_epoch > 0 else None,
        "kept_epoch": best_epoch if config.keep == "best" else last_epoch,
        "seconds": round(state["seconds"] + time.monotonic() - start, 1),
        "epochs_done": last_epoch,
    }
    record["result"] = result
    write_record(record, out_dir / "config.json")
    return result


def load_run_model(path: Path | str):
    """Load a ``model.keras`` written by :func:`fit` (custom layers registered)."""
    import keras

    from . import losses as _losses  # noqa: F401  (registers DistilledLoss)
    from . import model as _model  # noqa: F401  (registers ResidualSigmoid)

    custom = {loss.__name__: loss for loss in LOSSES.values() if callable(loss)}
    return keras.models.load_model(path, custom_objects=custom)


def average_runs(model_paths: list[Path | str], out_dir: Path | str) -> dict:
    """Average the weights of fine-tuned runs into a new run folder (a uniform model soup).

    Runs fine-tuned from the same model sit close enough in weight space that the mean of
    their weights is itself a good model, often better than either (Wortsman et al.,
    "Model soups", ICML 2022). Every weight is averaged, batch-normalization statistics
    included.

    Parameters
    ----------
    model_paths : list of path
        Two or more ``RUN/model.keras`` written by :func:`fit`, of one architecture and
        validated on the same held-out groups (each with its ``config.json``).
    out_dir : path
        New run folder; gets ``model.keras`` and a ``config.json`` that copies the first
        run's record and lists the runs averaged, so ``export`` can describe the model.

    Returns
    -------
    dict: the record written to ``config.json``.

    Raises
    ------
    ValueError
        Fewer than two runs, a run without ``config.json``, another architecture (weight
        shapes) or other validation groups than the first run; the message names the file.
    FileNotFoundError
        A model file does not exist.
    """
    paths = [Path(p) for p in model_paths]
    if len(paths) < 2:
        raise ValueError("average needs two or more runs")
    records = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        record_path = path.parent / "config.json"
        if not record_path.is_file():
            raise ValueError(f"{path}: no config.json beside it; not a fit run")
        records.append(json.loads(record_path.read_text()))
    models = [load_run_model(path) for path in paths]
    all_weights = [m.get_weights() for m in models]
    shapes = [w.shape for w in all_weights[0]]
    for path, weights, record in zip(paths[1:], all_weights[1:], records[1:], strict=True):
        if [w.shape for w in weights] != shapes:
            raise ValueError(f"{path}: another architecture than {paths[0]}; cannot average")
        if _val_groups(record) != _val_groups(records[0]):
            raise ValueError(
                f"{path}: validated on other groups than {paths[0]} "
                f"({_val_groups(record)} vs {_val_groups(records[0])}); cannot average"
            )
    models[0].set_weights([np.mean(ws, axis=0) for ws in zip(*all_weights, strict=True)])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_model_atomic(models[0], out_dir / "model.keras")
    record = dict(records[0])
    record["averaged_from"] = [str(p.resolve()) for p in paths]
    record["result"] = {}
    write_record(record, out_dir / "config.json")
    return record


def _val_groups(record: dict) -> list:
    return record.get("config", {}).get("split", {}).get("val_groups", [])
