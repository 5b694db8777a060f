"""Synthetic soiled pages: paired clean/noisy scans for training the denoising autoencoder.

A clean page (printed text in varied fonts and sizes, plus handwriting, signatures, stamps,
underlines and highlighter, each at its own ink tone; paper = 1.0 exactly) is rendered by
:mod:`scanclean_train.synth_content`. The noisy scan of the same page follows

    noisy = clip(scanner(background * faded_ink) + noise)

where ``background`` is the product of multiplicative dirt fields from
:mod:`scanclean_train.synth_dirt` (grey/yellowed uneven paper, coffee rings and blotches,
folds and creases, crumpled-paper shading, footprints, smudges, watermark-like patterns,
bleed-through), ``faded_ink`` moves ink pixels toward the paper (input-only fading: the target
keeps the ink tone), and the scanner stage adds blur, a raised black level, sensor noise and
sometimes JPEG artefacts. Stains darken the paper but the ink stays darkest.

The dirt statistics at NoisyOffice scale (540 x 420 px, text 10-20 px tall) were matched to the
real NoisyOffice pairs with ``scanclean-train synth --stats REAL_DIR --stats SYNTH_DIR``
(see :func:`dataset_stats`). Medians, real vs 120 generated pages: noisy-vs-clean RMSE
0.149 vs 0.184, paper level 0.871 vs 0.837, paper texture (std) 0.073 vs 0.067; the generated
set deliberately spreads wider (RMSE 5-95 % range 0.10-0.33 against 0.12-0.23).

This module imports only numpy, Pillow and ScanClean's image I/O (``scanclean.pages``), so the tests and the app can use it cheaply.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from scanclean.pages import atomic_file

from . import synth_dirt as sd
from .synth_content import (
    DEEP_INK_KINDS,
    check_deep_kinds,
    deep_ink,
    render_clean_page,
    text_coverage,
)

__all__ = [
    "DIRT_KINDS",
    "generate_pair",
    "generate",
    "write_dataset",
    "page_seed",
    "MANIFEST",
    "check_dirt_kinds",
    "check_deep_ink",
    "check_dark_stains",
    "check_dark_beside_ink",
    "check_fade_range",
    "check_marks",
    "check_pen_tones",
    "MARK_KINDS",
    "dataset_stats",
    "add_arguments",
    "run",
]

#: Dirt kinds that can be asked for by name (``generate(..., dirt=...)``, ``--add-dirt``).
DIRT_KINDS = (
    "coffee",
    "fold",
    "crumple",
    "smudge",
    "footprint",
    "watermark",
    "bleed",
    "fade",
    "jpeg",
)

#: Hand-made marks that can be asked for on every page (``generate(..., marks=...)``,
#: ``--marks``).
MARK_KINDS = ("handwriting", "signature", "stamp")

#: File beside ``clean/`` and ``noisy/`` that says what went into each generated page.
MANIFEST = "pages.json"

#: NoisyOffice page size (W, H) in px.
NOISYOFFICE_SIZE = (540, 420)


def page_seed(seed: int, index: int) -> np.random.Generator:
    """The random generator of page *index* of a data set made with *seed*.

    Page i is the same whatever the number of pages written, because its generator is
    seeded from ``numpy.random.SeedSequence([seed, index])`` alone.
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def _default_dpi(rng: np.random.Generator, width: int, height: int) -> float:
    """A random DPI suited to the page size.

    Pages up to 600 px on the short side get 95-150 dpi (NoisyOffice scale: body text 10-20 px
    tall); larger ones a log-uniform DPI from 100 up to one giving at least ~8 body-text lines
    (at most 600 dpi).
    """
    short = min(width, height)
    if short <= 600:
        return float(rng.uniform(95.0, 150.0))
    hi = float(np.clip(short / 6.0, 100.0, 600.0))
    return float(np.exp(rng.uniform(np.log(100.0), np.log(hi))))


def _choose_dirt(rng: np.random.Generator) -> list[str]:
    kinds = []
    for kind, p in (
        ("crumple", 0.4),
        ("coffee", 0.4),
        ("fold", 0.3),
        ("smudge", 0.2),
        ("footprint", 0.1),
    ):
        if rng.random() < p:
            kinds.append(kind)
    if not kinds and rng.random() < 0.85:
        kinds.append(str(rng.choice(["crumple", "coffee", "fold"])))
    for kind, p in (("watermark", 0.1), ("bleed", 0.15), ("fade", 0.25), ("jpeg", 0.25)):
        if rng.random() < p:
            kinds.append(kind)
    return kinds


def check_dirt_kinds(kinds: Iterable[str]) -> None:
    """Raise ValueError naming any kind not in :data:`DIRT_KINDS`."""
    unknown = sorted(set(kinds) - set(DIRT_KINDS))
    if unknown:
        raise ValueError(f"unknown dirt kind(s) {unknown}; known: {', '.join(DIRT_KINDS)}")


def check_marks(kinds: Iterable[str]) -> None:
    """ValueError naming any mark kind not in :data:`MARK_KINDS`."""
    unknown = [k for k in kinds if k not in MARK_KINDS]
    if unknown:
        raise ValueError(f"unknown mark kind(s) {unknown}; known: {', '.join(MARK_KINDS)}")


def check_pen_tones(low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` as floats; ValueError unless 0 <= low <= high < 0.75 (a pen's grey
    level; 0.75 and lighter would not count as ink)."""
    low, high = float(low), float(high)
    if not 0.0 <= low <= high < 0.75:
        raise ValueError(f"pen tones must satisfy 0 <= low <= high < 0.75, got {low}-{high}")
    return low, high


def check_fade_range(low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` as floats; ValueError unless 0 <= low <= high <= 0.85."""
    low, high = float(low), float(high)
    if not 0.0 <= low <= high <= 0.85:
        raise ValueError(f"fade range must satisfy 0 <= low <= high <= 0.85, got {low}-{high}")
    return low, high


def _check_probability(p: float, what: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} probability must be in 0-1, got {p}")


def check_dark_stains(dark: float) -> None:
    """ValueError unless *dark* (the share of pages with dark stains) is in 0-1."""
    _check_probability(dark, "dark stain")


def check_dark_beside_ink(beside: bool, deep: float, dark: float) -> None:
    """Raise ValueError if stains are to go beside thick ink without both thick ink and stains."""
    if beside and not (deep > 0 and dark > 0):
        raise ValueError("dark stains beside thick ink need both thick ink and dark stains")


def check_deep_ink(deep: float, kinds: Iterable[str]) -> None:
    """ValueError unless *deep* is a probability in 0-1 and *kinds* a non-empty choice from
    :data:`~scanclean_train.synth_content.DEEP_INK_KINDS`."""
    _check_probability(deep, "deep ink")
    check_deep_kinds(tuple(kinds))


def generate(
    rng: np.random.Generator,
    size: tuple[int, int] = NOISYOFFICE_SIZE,
    dpi: float | None = None,
    dirt: Iterable[str] | None = None,
    strength: float | None = None,
    marks: Sequence[str] = (),
    crop: bool | None = None,
    scanner_noise: float | None = None,
    paper_grain: float | None = None,
    add_dirt: Sequence[str] = (),
    fade_range: tuple[float, float] = (0.2, 0.6),
    pen_tones: tuple[float, float] | None = None,
    text: np.ndarray | None = None,
    deep: float = 0.0,
    deep_kinds: Sequence[str] = DEEP_INK_KINDS,
    dark: float = 0.0,
    dark_beside_ink: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One clean/noisy pair plus a description of what went into it.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness; the same generator state gives the same pair.
    size : (int, int)
        Page (width, height) in px.
    dpi : float, optional
        Scanning resolution in dots per inch (sets the text size: 9-14 pt body text, and the
        physical size of the dirt). Random when None: 95-150 dpi for NoisyOffice-sized pages,
        100-600 dpi otherwise.
    dirt : iterable of str, optional
        Dirt kinds from :data:`DIRT_KINDS` to apply (paper tone, grain and scanner noise are
        always applied). Random when None.
    strength : float, optional
        Scale of the dirt's darkness (1 = typical); random in [0.4, 1.4] when None.
    marks : sequence of str
        Hand-made marks that must appear: ``"stamp"``, ``"signature"``, ``"handwriting"``.
    crop : bool, optional
        True: a piece of a larger page (text runs off the edges, as in NoisyOffice);
        False: a whole page with office margins; random when None.
    scanner_noise : float, optional
        Standard deviation of the additive sensor noise (grey levels in [0, 1]); random in
        [0.003, 0.03] when None.
    paper_grain : float, optional
        Relative standard deviation of the paper's fibre grain; random in [0.004, 0.025]
        when None. (Both noise options exist to keep demo pages small as PNG.)
    add_dirt : sequence of str
        Dirt kinds added to the page's own (random or given) ones, e.g. ``("fade",)`` for
        a test set where every page's ink is faded.
    fade_range : (float, float)
        Range of the ``fade`` dirt's amount: the share of the way each ink pixel moves
        toward the paper, before the uneven patchiness (x 0.5-1) and specks; default
        0.2-0.6.
    pen_tones : (float, float), optional
        Grey-level range of every pen (handwriting, signatures, underlines) in the clean
        page, e.g. ``(0.4, 0.6)`` for pencil; by default black, blue, brown or faint. The
        page is otherwise the one the same generator state gives without it.
    text : (H, W) float32 in [0, 1], optional
        A clean page to soil instead of rendering one (e.g. a real data set's clean
        page, to tell what the generator's dirt does from what its rendered text does);
        ``size`` is then ignored and ``marks``, ``pen_tones`` and ``deep`` must be left
        unset.
    deep : float
        Probability in [0, 1] that the rendered page also gets one to three items of thick
        ink (:func:`~scanclean_train.synth_content.deep_ink`: marker writing, bold display
        type, solid bars, filled blots; their kinds join ``annotations``). They are drawn
        from a child of *rng* (``Generator.spawn``), which leaves *rng*'s own stream alone:
        every page is, apart from the thick ink, the one the same state gives with
        ``deep=0``. Default 0: none.
    deep_kinds : sequence of str
        The thick ink kinds to draw from (default all four), e.g. ``("marker", "display")``
        for strokes without filled areas; the same pages get thick ink either way.
    dark : float
        Probability in [0, 1] that the page also gets one or two stains as wide and dark
        as thick ink (:func:`~scanclean_train.synth_dirt.dark_stain`: dried puddles, dark
        streaks; ``"dark"`` then joins the dirt kinds and the stains' kinds the
        annotations). Drawn, like the thick ink, from a child of *rng* (a second one), so
        every page is, apart from these stains, the one the same state gives with
        ``dark=0``, with or without thick ink. Works on given ``text`` pages too.
    dark_beside_ink : bool
        On a page that gets both, put each dark stain beside the thick ink (its edge 3 mm
        inside to 6 mm outside a thick ink pixel), so that training patches show the two side
        by side: the same stains, moved (``dark_stain``'s ``beside``). Pages without thick
        ink or without stains are those of ``dark_beside_ink=False``, byte for byte. Needs
        ``deep`` and ``dark`` above 0. Default False.

    Returns
    -------
    clean : (H, W) float32 in [0, 1]
        Target: paper exactly 1.0, every ink at its own tone.
    noisy : (H, W) float32 in [0, 1]
        The soiled scan of the same page.
    info : dict
        ``dpi``, ``dirt`` (kinds used), ``strength``, ``annotations``, ``body_px`` (None
        for a given ``text`` page).

    Raises
    ------
    ValueError
        If the page is smaller than 8 x 8 px, the DPI is outside 20-2400, a dirt kind is
        unknown, the fade range is not within 0-0.85 in order, a mark kind is unknown or
        the pen tones are not within 0-0.75 in order, ``deep`` or ``dark`` is outside 0-1,
        ``deep_kinds`` is empty or unknown, marks, pen tones or thick ink come with a given
        ``text`` page, or ``dark_beside_ink`` comes without thick ink and dark stains.
    """
    check_deep_ink(deep, deep_kinds)
    check_dark_stains(dark)
    check_dark_beside_ink(dark_beside_ink, deep, dark)
    if text is not None:
        if marks or pen_tones is not None or deep > 0:
            raise ValueError(
                "marks, pen tones and thick ink need a rendered page, not a given text page"
            )
        size = (text.shape[1], text.shape[0])
    width, height = int(size[0]), int(size[1])
    if width < 8 or height < 8:
        raise ValueError(f"page size must be at least 8 x 8 px, got {width} x {height}")
    if dpi is None:
        dpi = _default_dpi(rng, width, height)
    dpi = float(dpi)
    if not 20.0 <= dpi <= 2400.0:
        raise ValueError(f"dpi must be in 20-2400, got {dpi}")
    kinds = _choose_dirt(rng) if dirt is None else list(dirt)
    kinds += [k for k in add_dirt if k not in kinds]
    lo, hi = check_fade_range(*fade_range)
    check_dirt_kinds(kinds)
    check_marks(marks)
    if pen_tones is not None:
        pen_tones = check_pen_tones(*pen_tones)
    if strength is None:
        strength = float(rng.uniform(0.4, 1.4))

    # children of rng for the optional extras (spawning leaves rng's own stream alone);
    # the first is the thick ink's, the second the dark stains', whichever is asked for
    children = rng.spawn(2) if deep > 0 or dark > 0 else None
    thick = None  # (H, W) float32 thick-ink layer, 1 = none; where dark_beside_ink puts stains
    if text is None:
        clean, info = render_clean_page(
            rng, width, height, dpi, crop=crop, force=tuple(marks), pen_tones=pen_tones
        )
        if deep > 0:
            child = children[0]
            if child.random() < deep:
                thick, kinds_drawn = deep_ink(
                    child, width, height, dpi, pen_tones, tuple(deep_kinds)
                )
                clean = np.minimum(clean, thick)
                info["annotations"] = [*info["annotations"], *kinds_drawn]
    else:
        clean = np.clip(np.asarray(text, dtype=np.float32), 0.0, 1.0)
        info = {"annotations": [], "body_px": None}
    mm = dpi / 25.4

    background = sd.paper(rng, height, width, dpi, grain=paper_grain)
    fields = {
        "crumple": sd.crumple,
        "coffee": sd.coffee,
        "fold": sd.fold,
        "smudge": sd.smudge,
        "footprint": sd.footprint,
        "watermark": sd.watermark,
    }
    for kind in kinds:
        if kind in fields:
            background *= fields[kind](rng, height, width, dpi, strength)
        elif kind == "bleed":
            back = text_coverage(rng, width, height, dpi)
            background *= sd.bleed_through(back, rng, dpi, strength)
    if dark > 0 and children[1].random() < dark:
        beside = None  # (K, 2) rows and columns of the thick ink's pixels, or None
        if dark_beside_ink and thick is not None:
            beside = np.argwhere(thick < 0.9)
            beside = beside if len(beside) else None
        stain, stain_kinds = sd.dark_stain(children[1], height, width, dpi, beside)
        background *= stain
        kinds = [*kinds, "dark"]
        info["annotations"] = [*info["annotations"], *stain_kinds]

    ink = clean
    if "fade" in kinds:
        # input-only fading: ink moves toward the local paper, unevenly (toner wear, old ink)
        amount = float(rng.uniform(lo, hi))
        patch = 0.75 + 0.25 * np.tanh(
            0.8 * sd.value_noise(rng, height, width, scale=120 * mm, octaves=1)
        )
        if rng.random() < 0.3:  # toner streaks along the paper feed
            band = sd.value_noise(rng, 1, width, scale=float(rng.uniform(3, 20)) * mm, octaves=2)
            patch = patch * (0.7 + 0.3 * np.tanh(band))
        speck = rng.random((height, width), dtype=np.float32) < float(rng.uniform(0.0, 0.1))
        f = np.clip(amount * patch + 0.3 * speck, 0, 0.85)
        ink = clean + f * (1.0 - clean)

    page = background * ink
    # scanner: optics blur, raised black level, sensor noise, sometimes JPEG
    sigma = float(rng.uniform(0.1, 0.6)) * max(1.0, dpi / 150.0) ** 0.7
    page = sd.gaussian_blur(page, sigma)
    black = float(rng.uniform(0.0, 0.1)) if rng.random() < 0.5 else 0.0
    gain = float(rng.uniform(0.97, 1.03))
    page = black + (gain - black) * page
    noise_sd = float(rng.uniform(0.003, 0.03))
    if scanner_noise is not None:
        noise_sd = float(scanner_noise)
    page = page + noise_sd * rng.standard_normal((height, width), dtype=np.float32)
    if rng.random() < 0.1:  # dust streak on the scanner glass
        col = int(rng.integers(0, width))
        w = max(1, int(rng.uniform(0.1, 0.4) * mm))
        page[:, col : col + w] *= float(rng.uniform(0.8, 0.95))
    page = np.clip(page, 0.0, 1.0)
    if "jpeg" in kinds:
        page = sd.jpeg(page, int(rng.integers(30, 90)))
    noisy = page.astype(np.float32)
    meta = {
        "dpi": dpi,
        "dirt": kinds,
        "strength": strength,
        "annotations": info["annotations"],
        "body_px": info["body_px"],
    }
    return clean.astype(np.float32), noisy, meta


def generate_pair(
    rng: np.random.Generator,
    size: tuple[int, int] = NOISYOFFICE_SIZE,
    dpi: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic (clean, noisy) page pair.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness; the same generator state gives the same pair.
    size : (int, int)
        Page (width, height) in px; default the NoisyOffice size 540 x 420.
    dpi : float, optional
        Scanning resolution (dots per inch); random when None (see :func:`generate`).

    Returns
    -------
    clean, noisy : (H, W) float32 in [0, 1]
        1 = paper. ``clean`` has paper exactly 1.0 and every ink at its own tone.

    Raises
    ------
    ValueError
        If the size or DPI is out of range.
    """
    clean, noisy, _ = generate(rng, size, dpi)
    return clean, noisy


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1] to (H, W) uint8 (rounded; 1.0 -> 255)."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_png_atomic(pixels: np.ndarray, path: Path, dpi: float | None = None) -> None:
    """Write (H, W) float32 in [0, 1] as an 8-bit grey PNG, atomically (temp file, os.replace)."""
    kw = {"dpi": (round(dpi), round(dpi))} if dpi else {}
    with atomic_file(path) as fh:
        Image.fromarray(to_uint8(pixels), "L").save(fh, format="PNG", **kw)


def _random_size(rng: np.random.Generator) -> tuple[tuple[int, int], float | None]:
    """Page size and DPI for data sets made without --size: NoisyOffice-like or high-DPI crops."""
    if rng.random() < 0.4:
        return NOISYOFFICE_SIZE, None
    w = int(rng.integers(4, 9)) * 128
    h = int(rng.integers(4, 9)) * 128
    dpi = float(np.exp(rng.uniform(np.log(150.0), np.log(600.0))))
    return (w, h), dpi


def write_dataset(
    out_dir: str | os.PathLike,
    count: int,
    seed: int,
    size: tuple[int, int] | None = None,
    dpi: float | None = None,
    progress=None,
    add_dirt: Sequence[str] = (),
    fade_range: tuple[float, float] = (0.2, 0.6),
    marks: Sequence[str] = (),
    pen_tones: tuple[float, float] | None = None,
    texts: Sequence[np.ndarray] = (),
    deep: float = 0.0,
    deep_kinds: Sequence[str] = DEEP_INK_KINDS,
    dark: float = 0.0,
    dark_beside_ink: bool = False,
) -> list[Path]:
    """Write *count* synthetic pairs as ``out_dir/clean/NAME.png`` and ``out_dir/noisy/NAME.png``.

    Parameters
    ----------
    out_dir : path
        Output folder (created if missing).
    count : int
        Number of pairs.
    seed : int
        Data set seed; page i uses :func:`page_seed` ``(seed, i)``, so it does not depend on
        *count*, and the same seed gives the same bytes (on the same fonts and Pillow).
    size : (int, int), optional
        Page (width, height) in px. When None each page is either NoisyOffice-sized
        (540 x 420 px at 95-150 dpi) or a 512-1024 px crop of a 150-600 dpi scan.
    dpi : float, optional
        Scanning resolution for every page; random when None.
    progress : callable, optional
        ``progress(done, total)`` after each pair.
    add_dirt, fade_range, marks, pen_tones, deep, deep_kinds, dark, dark_beside_ink
        As in :func:`generate`: dirt kinds added to every page, the ``fade`` amount range,
        hand-made marks on every page, the grey-level range of every pen, the probability
        of thick ink on a page (0 leaves every page as it was without the option), the
        thick ink kinds drawn from, the probability of dark stains on a page (likewise)
        and whether stains go beside the thick ink.
    texts : sequence of (H, W) float32 in [0, 1]
        Clean pages to soil instead of rendering text (``generate``'s ``text``): each pair
        soils one of them, drawn at random; *size* must then be None.

    Returns
    -------
    list of Path
        The clean-page paths written (the noisy ones have the same name under ``noisy/``).
        ``out_dir/pages.json`` (:data:`MANIFEST`, written atomically after the last page)
        records the data set seed and, per file name, what :func:`generate` put into the
        page: ``dpi``, ``dirt`` (kinds), ``strength``, ``annotations`` (hand-made marks) and
        ``body_px``; ``scanclean-train evaluate`` scores the pages by dirt kind and mark with
        it. It describes the pages of this call only.

    Raises
    ------
    ValueError
        If count is negative, size/dpi/deep/dark is out of range, a thick ink kind is unknown,
        a size or thick ink comes with *texts*, or *dark_beside_ink* comes without thick ink
        and dark stains.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if texts and size is not None:
        raise ValueError("a page size cannot be set for given text pages; they keep theirs")
    if texts and deep > 0:
        raise ValueError("thick ink needs rendered pages, not given text pages")
    check_deep_ink(deep, deep_kinds)
    check_dark_stains(dark)
    check_dark_beside_ink(dark_beside_ink, deep, dark)
    out = Path(out_dir)
    (out / "clean").mkdir(parents=True, exist_ok=True)
    (out / "noisy").mkdir(parents=True, exist_ok=True)
    written = []
    described = {}
    for i in range(count):
        rng = page_seed(seed, i)
        text = texts[int(rng.integers(len(texts)))] if texts else None
        if text is not None:
            page_size, page_dpi = NOISYOFFICE_SIZE, None  # generate takes the text's size
        elif size is None:
            page_size, page_dpi = _random_size(rng)
        else:
            page_size, page_dpi = size, None
        if dpi is not None:
            page_dpi = dpi
        clean, noisy, meta = generate(
            rng,
            page_size,
            page_dpi,
            add_dirt=add_dirt,
            fade_range=fade_range,
            marks=marks,
            pen_tones=pen_tones,
            text=text,
            deep=deep,
            deep_kinds=deep_kinds,
            dark=dark,
            dark_beside_ink=dark_beside_ink,
        )
        name = f"{i:06d}.png"
        save_png_atomic(clean, out / "clean" / name, meta["dpi"])
        save_png_atomic(noisy, out / "noisy" / name, meta["dpi"])
        written.append(out / "clean" / name)
        described[name] = {
            "dpi": round(float(meta["dpi"]), 2),
            "dirt": list(meta["dirt"]),
            "strength": round(float(meta["strength"]), 3),
            "annotations": list(meta["annotations"]),
            "body_px": None if meta["body_px"] is None else round(float(meta["body_px"]), 2),
        }
        if progress is not None:
            progress(i + 1, count)
    manifest = {
        "generator": "scanclean-train synth",
        "seed": int(seed),
        "add_dirt": list(add_dirt),
        "fade_range": [float(v) for v in fade_range],
        "marks": list(marks),
        "pen_tones": None if pen_tones is None else [float(v) for v in pen_tones],
        "deep_ink": float(deep),
        "deep_ink_kinds": list(deep_kinds),
        "dark_stains": float(dark),
        "dark_beside_ink": bool(dark_beside_ink),
        "pages": described,
    }
    with atomic_file(out / MANIFEST) as fh:
        fh.write(json.dumps(manifest, indent=1).encode("utf-8"))
    return written


def _load_grey(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), np.float32) / 255.0


def dataset_stats(directory: str | os.PathLike, limit: int | None = None) -> dict:
    """Noisy-vs-clean statistics of a paired data set (``clean/`` and ``noisy/`` with same names).

    Parameters
    ----------
    directory : path
        Folder with ``clean/*.png`` and ``noisy/*.png``.
    limit : int, optional
        Use at most this many pairs (sorted by name).

    Returns
    -------
    dict
        ``n`` (pairs used) and, for each of ``rmse`` (noisy vs clean), ``background``
        (median of noisy where clean > 0.9), ``texture`` (std of those pixels), ``ink``
        (median of noisy where clean < 0.3) and ``paper_fraction`` (share of clean pixels
        > 0.9), a dict of the 5th, 50th and 95th percentiles and the mean over pairs.

    Raises
    ------
    FileNotFoundError
        If a ``clean`` or ``noisy`` folder is missing.
    ValueError
        If no pair has the same size in both folders.
    """
    d = Path(directory)
    cdir, ndir = d / "clean", d / "noisy"
    for sub in (cdir, ndir):
        if not sub.is_dir():
            raise FileNotFoundError(f"{sub}: no such folder (expected clean/ and noisy/ in {d})")
    names = sorted(p.name for p in cdir.glob("*.png") if (ndir / p.name).exists())
    if limit is not None:
        names = names[:limit]
    rows: dict[str, list[float]] = {
        k: [] for k in ("rmse", "background", "texture", "ink", "paper_fraction")
    }
    for name in names:
        c, n = _load_grey(cdir / name), _load_grey(ndir / name)
        if c.shape != n.shape:
            print(
                f"{ndir / name}: size {n.shape} differs from clean {c.shape}; skipped",
                file=sys.stderr,
            )
            continue
        paper = c > 0.9
        rows["rmse"].append(float(np.sqrt(np.mean((n - c) ** 2))))
        rows["paper_fraction"].append(float(paper.mean()))
        if paper.any():
            rows["background"].append(float(np.median(n[paper])))
            rows["texture"].append(float(n[paper].std()))
        if (c < 0.3).any():
            rows["ink"].append(float(np.median(n[c < 0.3])))
    if not rows["rmse"]:
        raise ValueError(f"{d}: no clean/noisy pairs of the same size")
    out: dict = {"n": len(rows["rmse"])}
    for k, v in rows.items():
        a = np.asarray(v) if v else np.asarray([np.nan])
        p5, p50, p95 = np.percentile(a, [5, 50, 95])
        out[k] = {"p5": float(p5), "median": float(p50), "p95": float(p95), "mean": float(a.mean())}
    return out


def format_stats(stats: dict[str, dict]) -> str:
    """A comparison table of :func:`dataset_stats` results keyed by data set label."""
    keys = ("rmse", "background", "texture", "ink", "paper_fraction")
    lines = [f"{'data set':<28} {'n':>5}  " + "  ".join(f"{k + ' p5/med/p95':>26}" for k in keys)]
    for label, s in stats.items():
        cells = "  ".join(
            f"{s[k]['p5']:>8.3f}/{s[k]['median']:.3f}/{s[k]['p95']:.3f}".rjust(26) for k in keys
        )
        lines.append(f"{label[-28:]:<28} {s['n']:>5}  {cells}")
    return "\n".join(lines)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 540x420, got {text!r}") from None
    if w < 8 or h < 8:
        raise argparse.ArgumentTypeError(f"size must be at least 8x8 px, got {text!r}")
    return w, h


def _list_parser(check):
    """An argparse ``type`` for ``KIND[,KIND]`` that *check* validates."""

    def parse(text: str) -> list[str]:
        kinds = [k.strip() for k in text.split(",") if k.strip()]
        try:
            check(kinds)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return kinds

    return parse


def _range_parser(check, what: str):
    """An argparse ``type`` for ``LO,HI`` that *check* validates; *what* says the rule."""

    def parse(text: str) -> tuple[float, float]:
        try:
            return check(*text.split(","))
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r} ({exc})") from None

    return parse


def read_texts(
    data_dir: str | os.PathLike, groups: Sequence[str] | None = None
) -> list[np.ndarray]:
    """The distinct clean pages of a pair folder, to soil with :func:`write_dataset`.

    Parameters
    ----------
    data_dir : path
        A pair folder (``noisy/`` + ``clean/``, see ``scanclean_train.data``).
    groups : sequence of str, optional
        Only the pages of these background groups (``backgrounds.json``).

    Returns
    -------
    list of (H, W) float32 in [0, 1]
        Each pixel-identical clean page once (NoisyOffice lays one text on several
        backgrounds), in file-name order.

    Raises
    ------
    ValueError
        ``data.DataError`` for a bad folder or file, or a group not found.
    """
    from . import data as data_mod

    pages: dict[str, np.ndarray] = {}
    for p in data_mod.find_group_pairs(data_dir, groups):
        page = data_mod.read_grey(p.clean)
        pages.setdefault(data_mod.pixel_digest(page), page)
    return list(pages.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``scanclean-train synth`` options to *parser*."""
    parser.add_argument("--out", type=Path, help="output folder (gets clean/ and noisy/)")
    parser.add_argument("--count", type=int, default=100, help="number of pairs (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument(
        "--size",
        type=_parse_size,
        default=None,
        help="page size WxH in px (default: mix of 540x420 and 512-1024 px crops)",
    )
    parser.add_argument(
        "--dpi", type=float, default=None, help="scan resolution in dpi (default: random)"
    )
    parser.add_argument(
        "--add-dirt",
        type=_list_parser(check_dirt_kinds),
        default=[],
        metavar="KIND[,KIND]",
        help=f"dirt added to every page's own, from: {', '.join(DIRT_KINDS)} "
        "(e.g. fade, for a faint-ink test set)",
    )
    parser.add_argument(
        "--fade-range",
        type=_range_parser(
            check_fade_range, "range must look like 0.6,0.8 with 0 <= LO <= HI <= 0.85"
        ),
        default=(0.2, 0.6),
        metavar="LO,HI",
        help="amount of the fade dirt: share of the way ink moves toward the paper "
        "(default 0.2,0.6; at most 0.85)",
    )
    parser.add_argument(
        "--marks",
        type=_list_parser(check_marks),
        default=[],
        metavar="KIND[,KIND]",
        help=f"hand-made marks on every page, from: {', '.join(MARK_KINDS)}",
    )
    parser.add_argument(
        "--pen-tone",
        type=_range_parser(
            check_pen_tones, "pen tones must look like 0.4,0.6 with 0 <= LO <= HI < 0.75"
        ),
        default=None,
        metavar="LO,HI",
        help="grey level of every pen (handwriting, signatures, underlines), e.g. 0.4,0.6 "
        "for a pencil test set (default: black, blue, brown or faint pens)",
    )
    parser.add_argument(
        "--deep-ink",
        type=float,
        default=0.0,
        metavar="P",
        help="probability that a page also gets thick ink, from: "
        f"{', '.join(DEEP_INK_KINDS)} (sized in mm, so thick at every dpi; default 0)",
    )
    parser.add_argument(
        "--deep-ink-kinds",
        type=_list_parser(check_deep_kinds),
        default=list(DEEP_INK_KINDS),
        metavar="KIND[,KIND]",
        help="with --deep-ink: draw only these kinds (default all), e.g. marker,display for "
        "thick strokes without filled areas",
    )
    parser.add_argument(
        "--dark-stains",
        type=float,
        default=0.0,
        metavar="P",
        help="probability that a page also gets one or two stains as wide and dark as thick "
        f"ink, from: {', '.join(sd.DARK_STAIN_KINDS)} (default 0); rendered or --text-from pages",
    )
    parser.add_argument(
        "--dark-beside-ink",
        action="store_true",
        help="with --deep-ink and --dark-stains: on pages that get both, put the stains beside "
        "the thick ink (edge 3 mm inside to 6 mm outside it), so training patches hold both",
    )
    parser.add_argument(
        "--text-from",
        type=Path,
        default=None,
        metavar="DIR",
        help="soil the clean pages of the pair folder DIR (one drawn per pair, each distinct "
        "page alike) instead of rendering text",
    )
    parser.add_argument(
        "--text-groups",
        type=lambda text: [g for g in text.split(",") if g],
        default=None,
        metavar="G,G",
        help="with --text-from: only the clean pages of these background groups",
    )
    parser.add_argument(
        "--stats",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="print noisy-vs-clean statistics of DIR (clean/ + noisy/); repeatable, "
        "e.g. a real data set and a generated one, to compare them",
    )
    parser.add_argument(
        "--stats-limit", type=int, default=None, help="use at most N pairs per --stats DIR"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``scanclean-train synth`` with parsed *args*; returns the exit status."""
    if args.out is None and not args.stats:
        print(
            "scanclean-train synth: give --out DIR (to generate) and/or --stats DIR",
            file=sys.stderr,
        )
        return 2
    if args.text_groups and args.text_from is None:
        print("scanclean-train synth: --text-groups needs --text-from DIR", file=sys.stderr)
        return 2
    if args.out is not None:
        if args.count < 0:
            print(f"scanclean-train synth: --count must be >= 0, got {args.count}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                print(f"  {done}/{total} pairs", file=sys.stderr)

        try:
            texts = read_texts(args.text_from, args.text_groups) if args.text_from else ()
            write_dataset(
                args.out,
                args.count,
                args.seed,
                args.size,
                args.dpi,
                progress=progress,
                add_dirt=args.add_dirt,
                fade_range=args.fade_range,
                marks=args.marks,
                pen_tones=args.pen_tone,
                texts=texts,
                deep=args.deep_ink,
                deep_kinds=args.deep_ink_kinds,
                dark=args.dark_stains,
                dark_beside_ink=args.dark_beside_ink,
            )
        except (ValueError, OSError) as exc:
            print(f"scanclean-train synth: {exc}", file=sys.stderr)
            return 1
        dt = time.perf_counter() - t0
        print(f"wrote {args.count} pairs to {args.out} in {dt:.1f} s")
    if args.stats:
        results = {}
        for d in args.stats:
            try:
                results[str(d)] = dataset_stats(d, args.stats_limit)
            except (FileNotFoundError, ValueError) as exc:
                print(f"scanclean-train synth: {exc}", file=sys.stderr)
                return 1
        print(format_stats(results))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m scanclean_train.synth ...``."""
    parser = argparse.ArgumentParser(
        prog="scanclean-train synth", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
