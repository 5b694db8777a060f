"""Paired scans: discovery, background groups, held-out split and training patches.

A data directory holds ``noisy/`` and ``clean/`` with the same file names (the Kaggle
"Denoising Dirty Documents" layout ``train/`` + ``train_cleaned/`` is accepted too). An
optional ``backgrounds.json`` (``{"groups": {"G": ["1.png", ...]}}``) says which pages share
one stained background; validation holds out whole groups so no background is seen on
both sides of the split. Pages of a directory without it are each their own group.

Everything here is numpy + Pillow; only :func:`make_patch_dataset` imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
LAYOUTS = (("noisy", "clean"), ("train", "train_cleaned"))


class DataError(ValueError):
    """A data directory or one of its files cannot be used (the message names it)."""


@dataclass(frozen=True)
class Pair:
    """One noisy/clean page pair.

    Attributes
    ----------
    noisy, clean : Path
        The two image files (same name, same size).
    group : str
        Background group, ``"<data dir name>/<group>"``; pages of one group share a stained
        background.
    """

    noisy: Path
    clean: Path
    group: str

    @property
    def name(self) -> str:
        """File name shared by both sides."""
        return self.noisy.name


def read_grey(path: Path) -> np.ndarray:
    """Read an image file as grey.

    Parameters
    ----------
    path : Path
        Any image Pillow reads (RGB with equal channels is fine).

    Returns
    -------
    (H, W) float32 in [0, 1], 1 = paper.

    Raises
    ------
    DataError
        The file cannot be read or decoded (the message names it).
    """
    try:
        with Image.open(path) as im:
            im.load()
            grey = im.convert("L")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc})") from exc
    return np.asarray(grey, dtype=np.float32) / 255.0


def find_layout(data_dir: Path) -> tuple[Path, Path]:
    """Return the ``(noisy_dir, clean_dir)`` of a data directory.

    Raises
    ------
    DataError
        Neither ``noisy/`` + ``clean/`` nor ``train/`` + ``train_cleaned/`` exists.
    """
    for noisy, clean in LAYOUTS:
        if (data_dir / noisy).is_dir() and (data_dir / clean).is_dir():
            return data_dir / noisy, data_dir / clean
    raise DataError(
        f"{data_dir}: expected sub-folders noisy/ and clean/ (or train/ and train_cleaned/)"
    )


def _image_names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}


def read_groups(data_dir: Path) -> dict[str, str]:
    """Map file name -> background group from ``backgrounds.json`` (empty if absent)."""
    path = data_dir / "backgrounds.json"
    if not path.exists():
        return {}
    try:
        groups = json.loads(path.read_text())["groups"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a backgrounds file with a 'groups' object ({exc})") from exc
    return {name: str(group) for group, names in groups.items() for name in names}


def find_pairs(data_dir: Path | str) -> list[Pair]:
    """List the pairs of a data directory, checked.

    Every noisy page needs a clean partner of the same name and size, and every file
    must decode.

    Parameters
    ----------
    data_dir : Path or str
        Folder with ``noisy/`` + ``clean/`` (or ``train/`` + ``train_cleaned/``).

    Returns
    -------
    list of Pair, sorted by file name.

    Raises
    ------
    DataError
        Missing folder or partner, size mismatch, unreadable file: the message names the
        file and the reason.
    """
    data_dir = Path(data_dir)
    noisy_dir, clean_dir = find_layout(data_dir)
    noisy_names, clean_names = _image_names(noisy_dir), _image_names(clean_dir)
    if not noisy_names:
        raise DataError(f"{noisy_dir}: no images")
    for missing_side, names in (
        (clean_dir, noisy_names - clean_names),
        (noisy_dir, clean_names - noisy_names),
    ):
        if names:
            raise DataError(f"{missing_side / sorted(names)[0]}: missing partner file")
    groups = read_groups(data_dir)
    pairs = []
    for name in sorted(noisy_names, key=_natural_key):
        pair = Pair(noisy_dir / name, clean_dir / name, f"{data_dir.name}/{groups.get(name, name)}")
        sizes = []
        for path in (pair.noisy, pair.clean):
            try:
                with Image.open(path) as im:
                    sizes.append(im.size)
            except (OSError, UnidentifiedImageError) as exc:
                raise DataError(f"{path}: cannot read image ({exc})") from exc
        if sizes[0] != sizes[1]:
            raise DataError(
                f"{pair.noisy}: size {sizes[0][0]}x{sizes[0][1]} px differs from its clean "
                f"partner's {sizes[1][0]}x{sizes[1][1]} px"
            )
        pairs.append(pair)
    return pairs


def _natural_key(name: str) -> tuple:
    stem = Path(name).stem
    return (0, int(stem), name) if stem.isdigit() else (1, 0, name)


def choose_val_groups(groups: list[str], fraction: float, seed: int) -> list[str]:
    """Pick whole background groups for validation, deterministically by seed.

    Parameters
    ----------
    groups : list of str
        The distinct group names.
    fraction : float
        Share of groups to hold out (at least one group is held out, and one kept).
    seed : int
        Same seed, same groups.

    Returns
    -------
    list of str, sorted.
    """
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        raise DataError("need at least two background groups to hold one out for validation")
    n_val = min(len(distinct) - 1, max(1, round(fraction * len(distinct))))
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(distinct, size=n_val, replace=False).tolist())


def match_groups(pairs: list[Pair], names: list[str]) -> set[str]:
    """The full group names of ``pairs`` that ``names`` refer to (with or without prefix).

    Raises
    ------
    DataError
        A name matches no group.
    """
    known = {p.group for p in pairs}
    wanted: set[str] = set()
    for g in names:
        matches = {k for k in known if k == g or k.split("/", 1)[1] == g}
        if not matches:
            raise DataError(f"background group {g!r} not found; groups: {sorted(known)}")
        wanted |= matches
    return wanted


def find_group_pairs(data_dir: Path | str, groups: list[str] | None = None) -> list[Pair]:
    """:func:`find_pairs`, then only the pairs of the named background groups.

    Parameters
    ----------
    data_dir : Path or str
        A pair folder.
    groups : list of str or None
        Group names, with or without the ``"<data dir>/"`` prefix; None or empty: all pairs.

    Raises
    ------
    DataError
        As :func:`find_pairs`, or a named group does not exist.
    """
    pairs = find_pairs(data_dir)
    if groups:
        wanted = match_groups(pairs, list(groups))
        pairs = [p for p in pairs if p.group in wanted]
    return pairs


def split_pairs(pairs: list[Pair], val_groups: list[str]) -> tuple[list[Pair], list[Pair]]:
    """Split pairs into train and validation by whole background groups.

    A group name may be given with or without its ``"<data dir>/"`` prefix.

    Raises
    ------
    DataError
        A named group does not exist, or a side would be empty.
    """
    wanted = match_groups(pairs, val_groups)
    train = [p for p in pairs if p.group not in wanted]
    val = [p for p in pairs if p.group in wanted]
    if not train or not val:
        raise DataError("the split leaves no training or no validation pages")
    return train, val


def drop_shared_text(train: list[Pair], val: list[Pair]) -> tuple[list[Pair], list[Pair]]:
    """Drop training pairs whose clean page also appears on the validation side.

    NoisyOffice lays a few dozen documents on many stained backgrounds: of its 180 pairs
    only 54 clean pages differ, and each held-out background group shares its documents
    with training groups. A split by background groups alone therefore validates on
    unseen stains over seen text. Dropping the training pages whose clean page is
    pixel-identical to a validation page's makes the text unseen too.

    Parameters
    ----------
    train, val : list of Pair
        The two sides of a split by background groups.

    Returns
    -------
    kept, dropped : list of Pair
        The training pairs that keep their place, and those dropped (order kept).

    Raises
    ------
    DataError
        An image cannot be read (naming the file), or no training page is left.
    """
    seen = {pixel_digest(read_grey(p.clean)) for p in val}
    kept, dropped = [], []
    for p in train:
        (dropped if pixel_digest(read_grey(p.clean)) in seen else kept).append(p)
    if not kept:
        raise DataError("every training page shares its clean page with a validation page")
    return kept, dropped


def pixel_digest(page: np.ndarray) -> str:
    """SHA-1 of a decoded page's pixels: pixel-identical pages, same digest, whatever file."""
    return hashlib.sha1(np.ascontiguousarray(page).tobytes()).hexdigest()


def page_weights(
    sizes: list[int],
    first_fraction: float | None = None,
    source_fractions: list[float] | None = None,
) -> np.ndarray | None:
    """Per-page sampling probabilities giving each source a fixed share of patches.

    Parameters
    ----------
    sizes : list of int
        Page counts per source, first source first (e.g. [real pages, synthetic pages]).
    first_fraction : float in (0, 1] or None
        Share of patches drawn from the first source; the rest is spread over the other
        pages uniformly (so with three or more sources the others share it by page count).
    source_fractions : list of float or None
        Share of patches per source, one per entry of ``sizes``, each in (0, 1], summing
        to 1; within a source every page is equally likely. Excludes ``first_fraction``.
        With two sources ``[f, 1 - f]`` gives the same weights as ``first_fraction=f``.

    Returns
    -------
    (sum(sizes),) float64 summing to 1, or None when neither share is given (every page
    equally likely).

    Raises
    ------
    ValueError
        A fraction outside (0, 1], shares that do not sum to 1 or do not match the sources,
        both kinds of share given, or a share for a source with no pages.
    """
    if first_fraction is not None and source_fractions is not None:
        raise ValueError("give a first-source fraction or per-source fractions, not both")
    if source_fractions is not None:
        if len(source_fractions) != len(sizes):
            raise ValueError(
                f"{len(source_fractions)} source fractions for {len(sizes)} data sources"
            )
        check_fractions(source_fractions)
        shares = list(zip(sizes, source_fractions, strict=True))
    elif first_fraction is not None:
        if not 0.0 < first_fraction <= 1.0:
            raise ValueError(f"first-source fraction must be in (0, 1], got {first_fraction}")
        shares = [(sizes[0], first_fraction), (sum(sizes[1:]), 1.0 - first_fraction)]
    else:
        return None
    for index, (count, share) in enumerate(shares):
        if share > 0 and count == 0:  # also: a first fraction below 1 with one data dir
            raise ValueError(f"data source {index + 1} has no training pages for its share")
    weights = np.concatenate(
        [np.full(count, share / count) for count, share in shares if count > 0]
    )
    return weights / weights.sum()


def check_fractions(fractions: list[float]) -> list[float]:
    """Check per-source patch shares: each in (0, 1], summing to 1 (to 1e-6).

    Raises
    ------
    ValueError
        Naming the shares and what is wrong with them.
    """
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions):
        raise ValueError(f"source fractions must each be in (0, 1], got {list(fractions)}")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(
            f"source fractions must sum to 1, got {list(fractions)} = {sum(fractions):g}"
        )
    return list(fractions)


def load_images(pairs: list[Pair]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Read pairs into memory as ``(noisy, clean)``, each (H, W) float32 in [0, 1]."""
    return [(read_grey(p.noisy), read_grey(p.clean)) for p in pairs]


# --- augmentation -------------------------------------------------------------------------
# Why these (measured, see ../shared/design/layout.md and models/README.md): a DAE trained
# only on NoisyOffice's low-resolution black print erased grey and brown handwriting on real
# 300-dpi scans. Input-only ink fading teaches it that faint ink is ink; scale jitter shows
# it strokes as thick as a 300-600 dpi scan has; tone jitter covers grey paper and ink.


def crop_scaled(
    noisy: np.ndarray, clean: np.ndarray, patch: int, scale: float, rng: np.random.Generator
):
    """Cut a random window of ``patch / scale`` px and resize it up to ``patch`` px.

    Emulates a scan at ``scale`` times the resolution (scale jitter). Both sides get the
    same crop; bilinear resampling.

    Returns
    -------
    noisy, clean : (patch, patch) float32
    """
    h, w = noisy.shape
    side = int(round(patch / scale))
    side = max(8, min(side, h, w))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    out = []
    for img in (noisy, clean):
        win = img[y : y + side, x : x + side]
        if side != patch:
            win = np.asarray(
                Image.fromarray(win, mode="F").resize((patch, patch), Image.Resampling.BILINEAR)
            )
        out.append(win.astype(np.float32, copy=False))
    return out[0], out[1]


def fade_ink(
    noisy: np.ndarray,
    clean: np.ndarray,
    amount: float,
    window: int = 9,
    mask: str = "stroke",
    floor: float = 0.0,
) -> np.ndarray:
    """Lower the contrast of the noisy patch's strokes toward the local background (input only).

    Faded toner, pencil and light ink lower the optical density of the whole stroke, its
    anti-aliased rim included. So every pixel of a stroke moves the same ``amount`` toward
    the local background: ``noisy + amount * (background - noisy)``. The local background
    is a ``window`` px grey dilation of the noisy patch (ink is darker than paper, so a
    maximum filter wider than the strokes wipes it out). A stroke is where the clean patch
    is below 0.9, rims included, with a ramp to 0.98 so that no faint outline is left;
    paper (clean 0.98 and above), with its stain and noise, is left as it was.

    ``mask="core"`` is the per-pixel mask of versions up to 2.1 of the default model,
    ``(0.75 - clean) / 0.5``: it fades the stroke cores more than their rims and so draws
    a dark outline around a light core, which real faint ink does not have. It is kept so
    that those models' training can be repeated.

    ``floor > 0`` stops the fading where the ink would sink into the paper's own texture:
    no pixel is lifted above ``level - floor * spread``, where ``level`` and ``spread``
    are the mean and standard deviation of the nearby paper (clean 0.98 and above, 3 px
    or more from a stroke; Gaussian-weighted, sigma ``window * 4 / 3`` px). Ink faded to
    within a paper std of the paper level cannot be told from the paper by any cleaner;
    asking the model to restore it as ink teaches it to turn paper texture and stain
    edges into ink. With the default 0 nothing changes.

    Parameters
    ----------
    noisy, clean : (H, W) float32 in [0, 1]
    amount : float in [0, 1]
        0 leaves the patch, 1 turns the strokes into background.
    window : int
        Max filter size (px); scale it with the strokes (``sample_patch`` uses 9 px times
        the scale-jitter factor).
    mask : {"stroke", "core"}
        Which pixels fade: whole strokes alike (default) or, as up to version 2.1, cores
        more than rims.
    floor : float >= 0
        Least darkness kept below the local paper level, in local paper std (0: none).

    Returns
    -------
    (H, W) float32 in [0, 1]: the faded noisy patch; the target stays as it was.

    Raises
    ------
    ValueError
        An unknown ``mask`` or a negative ``floor``.
    """
    if mask == "stroke":
        weight = np.clip((0.98 - clean) / 0.08, 0.0, 1.0)  # 1 on strokes and rims, 0 on paper
    elif mask == "core":
        weight = np.clip((0.75 - clean) / 0.5, 0.0, 1.0)  # 1 on ink cores, less on rims
    else:
        raise ValueError(f"fade mask must be 'stroke' or 'core', not {mask!r}")
    if floor < 0:
        raise ValueError(f"fade floor must be 0 or more, not {floor}")
    background = ndimage.maximum_filter(noisy, size=window)
    faded = noisy + amount * weight * (background - noisy)  # (H, W)
    if floor > 0:
        level, spread = paper_level(noisy, clean, sigma=window * 4 / 3)
        faded = np.minimum(faded, np.maximum(noisy, level - floor * spread))
    return faded.astype(np.float32)


def paper_level(
    noisy: np.ndarray, clean: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Local mean and standard deviation of the bare paper of a noisy patch.

    Paper is where the clean patch is 0.98 or more, 3 px or more from any stroke (so the
    scanner's blur of the ink does not count). The figures are Gaussian-weighted averages
    over paper pixels only (normalized convolution); where no paper lies within reach,
    the level falls back to the patch's paper mean (or its brightest pixel).

    Parameters
    ----------
    noisy, clean : (H, W) float32 in [0, 1]
    sigma : float
        Gaussian sigma (px) of the neighbourhood.

    Returns
    -------
    level, spread : (H, W) float32
        Paper level in [0, 1] and its standard deviation (>= 0) at every pixel.
    """
    paper = ~ndimage.binary_dilation(clean < 0.98, iterations=3)  # (H, W) bool
    if not paper.any():
        top = np.full_like(noisy, float(noisy.max()))
        return top, np.zeros_like(noisy)
    w = ndimage.gaussian_filter(paper.astype(np.float32), sigma)  # (H, W) paper share
    x = np.where(paper, noisy, 0.0).astype(np.float32)
    mean_all = float(noisy[paper].mean())
    ok = w > 1e-3
    safe = np.where(ok, w, 1.0)
    level = np.where(ok, ndimage.gaussian_filter(x, sigma) / safe, mean_all)
    square = np.where(ok, ndimage.gaussian_filter(x * x, sigma) / safe, mean_all**2)
    spread = np.sqrt(np.maximum(square - level * level, 0.0))
    return level.astype(np.float32), spread.astype(np.float32)


def add_bleed_through(
    noisy: np.ndarray, clean: np.ndarray, rng: np.random.Generator, scale: float = 1.0
) -> np.ndarray:
    """Show the patch's own text through from the back of the sheet (input only).

    Bleed-through is text on the other side: mirrored, blurred by the paper, faint. Faded
    strokes at a high scan resolution are faint and blurry too, so a model trained to
    restore faint ink learns to bring bleed-through out as ink unless it also sees
    bleed-through it must remove. The patch's clean text, mirrored left-right and shifted
    by a random offset, is blurred (Gaussian sigma 1-4 px times ``scale``) and darkens the
    noisy patch by 5-30 % where it lies: ``noisy * (1 - a * ghost)``. The synthetic pages'
    bleed-through (``synth_dirt.bleed_through``) is made the same way, from another page.

    Parameters
    ----------
    noisy, clean : (H, W) float32 in [0, 1]
    rng : numpy Generator
    scale : float
        The patch's scale-jitter factor (blur grows with it).

    Returns
    -------
    (H, W) float32 in [0, 1]: the noisy patch with bleed-through; the target stays.
    """
    h, w = clean.shape
    ink = 1.0 - clean[:, ::-1]  # (H, W) ink coverage of the "back", mirrored
    ink = np.roll(ink, (int(rng.integers(h)), int(rng.integers(w))), axis=(0, 1))
    ghost = ndimage.gaussian_filter(ink, float(rng.uniform(1.0, 4.0)) * scale)
    a = float(rng.uniform(0.05, 0.3))
    return np.clip(noisy * (1.0 - a * ghost), 0.0, 1.0).astype(np.float32)


def jitter_tone(noisy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random contrast and paper-level change of the noisy patch (input only).

    ``out = paper * (1 - contrast * (1 - noisy))`` with contrast in [0.6, 1.1] and paper in
    [0.75, 1.0]: greyer paper, weaker ink.
    """
    contrast = rng.uniform(0.6, 1.1)
    paper = rng.uniform(0.75, 1.0)
    return np.clip(paper * (1.0 - contrast * (1.0 - noisy)), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Augment:
    """Augmentation settings (probabilities and ranges); ``Augment.none()`` turns all off."""

    max_scale: float = 3.0
    p_scale: float = 0.5
    p_fade: float = 0.6
    max_fade: float = 0.85
    fade_mask: str = "stroke"
    fade_floor: float = 0.0
    p_tone: float = 0.4
    flips: bool = True
    p_bleed: float = 0.0

    @classmethod
    def none(cls) -> Augment:
        """No augmentation: plain random crops."""
        return cls(max_scale=1.0, p_scale=0.0, p_fade=0.0, p_tone=0.0, flips=False)


def sample_patch(
    pages: list[tuple[np.ndarray, np.ndarray]],
    patch: int,
    rng: np.random.Generator,
    augment: Augment,
    weights: np.ndarray | None = None,
    info: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one augmented training patch pair.

    Parameters
    ----------
    pages : list of (noisy, clean), each (H, W) float32 in [0, 1]
    patch : int
        Patch side (px).
    rng : numpy Generator
    augment : Augment
    weights : (len(pages),) float64 summing to 1, optional
        Probability of drawing each page (default: uniform).
    info : dict, optional
        Filled with ``"faded"``: whether the patch's ink was faded (``fade_ink``).

    Returns
    -------
    noisy, clean : (patch, patch) float32 in [0, 1]
    """
    index = (
        int(rng.integers(len(pages))) if weights is None else int(rng.choice(len(pages), p=weights))
    )
    noisy, clean = pages[index]
    scale = rng.uniform(1.0, augment.max_scale) if rng.random() < augment.p_scale else 1.0
    x, y = crop_scaled(noisy, clean, patch, scale, rng)
    faded = rng.random() < augment.p_fade
    if info is not None:
        info["faded"] = faded
    if faded:
        x = fade_ink(
            x,
            y,
            rng.uniform(0.2, augment.max_fade),
            window=2 * round(4.5 * scale) + 1,
            mask=augment.fade_mask,
            floor=augment.fade_floor,
        )
    if augment.p_bleed and rng.random() < augment.p_bleed:
        x = add_bleed_through(x, y, rng, scale)
    if rng.random() < augment.p_tone:
        x = jitter_tone(x, rng)
    if augment.flips:
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def make_patch_dataset(
    pages: list[tuple[np.ndarray, np.ndarray]],
    patch: int,
    batch_size: int,
    steps: int,
    seed: int,
    augment: Augment,
    weights: np.ndarray | None = None,
    teacher=None,
    mark_faded: bool = False,
):
    """A ``tf.data.Dataset`` of augmented patch batches for one epoch.

    Same seed, same patches. Yields ``(noisy, clean)``, each (batch, patch, patch, 1)
    float32 in [0, 1]. ``weights`` as in :func:`sample_patch`. With ``teacher`` (a
    function from a (batch, patch, patch, 1) float32 noisy batch to its output of the same
    shape), the target is (batch, patch, patch, 2): the clean patch, then the teacher's
    output on the augmented noisy patch (``losses.DistilledLoss`` reads both). With
    ``mark_faded`` the target is (batch, patch, patch, 2) too: the clean patch, then 1.0
    over every patch whose ink was faded and 0.0 over the others (``faded-ink-mse`` reads
    both); the noisy patches are those drawn without it.

    Raises
    ------
    ValueError
        ``teacher`` and ``mark_faded`` together (both use the second target channel).
    """
    import tensorflow as tf

    if teacher is not None and mark_faded:
        raise ValueError("a teacher and mark_faded both use the second target channel")

    def generate():
        rng = np.random.default_rng(seed)
        for _ in range(steps):
            infos = [{} for _ in range(batch_size)]
            xs, ys = zip(
                *(sample_patch(pages, patch, rng, augment, weights, info) for info in infos),
                strict=True,
            )
            x, y = np.stack(xs)[..., None], np.stack(ys)[..., None]  # (B, P, P, 1) each
            if teacher is not None:
                y = np.concatenate([y, teacher(x).astype(np.float32)], axis=-1)  # (B, P, P, 2)
            elif mark_faded:
                flags = np.array([i["faded"] for i in infos], np.float32)[:, None, None, None]
                y = np.concatenate([y, np.broadcast_to(flags, y.shape)], axis=-1)  # (B, P, P, 2)
            yield x, y

    spec = tf.TensorSpec((batch_size, patch, patch, 1), tf.float32)
    two = teacher is not None or mark_faded
    target = tf.TensorSpec((batch_size, patch, patch, 2 if two else 1), tf.float32)
    return tf.data.Dataset.from_generator(generate, output_signature=(spec, target)).prefetch(2)
