"""Score ONNX models and classical baselines on paired pages: RMSE, PSNR, SSIM, ink F-measure.

Models run through the app's own engine (``scanclean.engine.clean_image``, tiled, via
onnxruntime), so the figures are those of what ships. Baselines on the same pages:

- ``identity``: the noisy page as it is.
- ``classical``: background estimation and division, then a threshold to white (the
  classic flat-field normalisation used by scanner software): the background is a grey
  dilation (15 px max filter, wider than a stroke) smoothed by a 15 px box filter; the
  page is divided by it, and values above 0.85 become paper.

Text survival is the F-measure of the Otsu-binarized output (N. Otsu, "A threshold
selection method from gray-level histograms", IEEE Trans. SMC, 1979) against the ink of
the clean page (clean < 0.75, so grey and faded ink count as ink), as in the DIBCO
binarization contests. It must not fall below Otsu on the raw noisy page. Its precision
(share of the pixels Otsu calls ink that are ink: low when stains are kept as ink) and
recall (share of the ink that Otsu keeps: low when ink is erased or left too faint) are
given too, and the same three figures for the clean page itself: what a perfect output
scores, since Otsu drops part of the anti-aliased rims that the ink mask counts. Page by
page, each method's count of pages whose F falls below the raw scan's is given, and how
many of those are pages where a perfect output's F does not (where the bar can be met).

By what is on the page: a data set made by ``scanclean-train synth`` has ``pages.json``,
which names each page's dirt kinds and hand-made marks; the report then also pools every
method's figures over the pages that have each of them (``by_tag``), so a change that helps
faint ink and harms bleed-through pages shows as such, not as one blended number.

Where the error lies: the pooled RMSE is also given over three regions of the clean page,
``ink`` (clean < 0.75, the F-measure's ink), ``edge`` (0.75 to 0.95: anti-aliased stroke
rims and the faintest ink) and ``paper`` (0.95 and above: what is left of the stains, or
paper damaged), with each region's mean signed error (``bias_<region>``: above 0 the output
is lighter than the clean page there, below 0 darker), which tells ink kept too light or
strokes grown thicker from an error that has no direction.

Thick strokes: the ink's pooled RMSE and mean signed error by depth inside the stroke
(``ink_depth``: px from each ink pixel of the clean page to the nearest non-ink pixel, in
bins up to 2, 4, 8, 16 px and beyond), so a model that hollows out the interiors of thick
strokes (marker, bold print at 600 dpi: NoisyOffice's ink is never more than 4 px deep)
shows a positive bias in the deep bins, however well it keeps the thin ones.

Light strokes: ``recall_light`` is the share (%) of the pixels of strokes drawn light in
the clean page itself (pencil, light pens, light grey print: ink of tone 0.4 or lighter
more than 2 px from any darker ink, so not the grey rims of dark strokes) that Otsu keeps
as ink, pooled over the pages. It measures faint ink that no dirt made faint, unlike the
faint sets made by fading.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from scanclean.engine import DEFAULT_TILE

from . import data as data_mod

INK_BELOW = 0.75
PAPER_FROM = 0.95
LIGHT_STROKE_FROM = 0.4
LIGHT_STROKE_CLEARANCE = 2
REGIONS = ("ink", "edge", "paper")
DEPTH_EDGES_PX = (2, 4, 8, 16)
INK_SCORES = ("f_measure", "ink_precision", "ink_recall")


def region_masks(clean: np.ndarray) -> dict[str, np.ndarray]:
    """Split a clean page into ``ink``, ``edge`` and ``paper`` pixels (see the module doc).

    Parameters
    ----------
    clean : (H, W) float32 in [0, 1]

    Returns
    -------
    dict: region name -> (H, W) bool; the three masks cover every pixel once.
    """
    ink, paper = clean < INK_BELOW, clean >= PAPER_FROM
    return {"ink": ink, "edge": ~ink & ~paper, "paper": paper}


def depth_bins(clean: np.ndarray) -> np.ndarray:
    """Each ink pixel's depth bin inside its stroke (see the module doc's *Thick strokes*).

    Depth is the Euclidean distance (px) from an ink pixel (clean < ``INK_BELOW``) to the
    nearest non-ink pixel (``scipy.ndimage.distance_transform_edt``): 1 on a stroke's rim,
    about half the width at its centre line.

    Parameters
    ----------
    clean : (H, W) float32 in [0, 1]

    Returns
    -------
    (H, W) int8: -1 off ink; 0 for depth up to 2 px, 1 up to 4, 2 up to 8, 3 up to 16,
    4 beyond (``DEPTH_EDGES_PX``).
    """
    ink = clean < INK_BELOW
    depth = ndimage.distance_transform_edt(ink)
    bins = np.searchsorted(np.array(DEPTH_EDGES_PX, dtype=np.float64), depth, side="left")
    return np.where(ink, bins, -1).astype(np.int8)


def depth_labels() -> list[str]:
    """``["0-2", "2-4", "4-8", "8-16", "16+"]``: the depth bins' names (px)."""
    edges = (0, *DEPTH_EDGES_PX)
    return [f"{a}-{b}" for a, b in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]


def light_strokes(clean: np.ndarray) -> np.ndarray:
    """Pixels of the strokes drawn light in a clean page: pencil, light pens, light print.

    Ink (clean < ``INK_BELOW``) of tone ``LIGHT_STROKE_FROM`` (0.4) or lighter, more than
    ``LIGHT_STROKE_CLEARANCE`` (2) px from any darker pixel, so the grey anti-aliased rims
    of dark strokes do not count, while a pencil line that crosses print does, away from
    the print.

    Parameters
    ----------
    clean : (H, W) float32 in [0, 1]

    Returns
    -------
    (H, W) bool
    """
    dark = clean < LIGHT_STROKE_FROM
    light = ~dark & (clean < INK_BELOW)
    if dark.any():
        light &= ~ndimage.binary_dilation(dark, iterations=LIGHT_STROKE_CLEARANCE)
    return light


def otsu_ink(output: np.ndarray) -> np.ndarray:
    """Pixels Otsu's threshold calls ink: (H, W) bool (none on a flat page)."""
    from skimage.filters import threshold_otsu

    if output.max() - output.min() < 1e-6:
        return np.zeros(output.shape, bool)
    return output < threshold_otsu(output)


def estimate_background(noisy: np.ndarray, window: int) -> np.ndarray:
    """The paper (and stains) under the ink: grey dilation, then a box filter.

    Parameters
    ----------
    noisy : (H, W) float32 in [0, 1]
    window : int
        Max and box filter size (px); must exceed the stroke width.

    Returns
    -------
    (H, W) float32 in [0, 1]
    """
    return ndimage.uniform_filter(ndimage.maximum_filter(noisy, size=window), size=window).astype(
        np.float32
    )


def classical_clean(noisy: np.ndarray, window: int = 15, paper: float = 0.85) -> np.ndarray:
    """Background division and threshold (the classical baseline).

    Parameters
    ----------
    noisy : (H, W) float32 in [0, 1]
    window : int
        Max/box filter size (px); should exceed the thickest stroke.
    paper : float
        Normalised values above this become 1.

    Returns
    -------
    (H, W) float32 in [0, 1]
    """
    background = estimate_background(noisy, window)
    flat = np.clip(noisy / np.maximum(background, 1e-3), 0.0, 1.0)
    return np.where(flat > paper, 1.0, flat).astype(np.float32)


def ink_detection(
    output: np.ndarray, clean: np.ndarray, predicted: np.ndarray | None = None
) -> dict[str, float]:
    """Precision, recall and F-measure (%) of the Otsu-binarized ``output`` against the ink
    of ``clean`` (clean < ``INK_BELOW``).

    Parameters
    ----------
    output, clean : (H, W) float32 in [0, 1]
    predicted : (H, W) bool, optional
        ``otsu_ink(output)`` when the caller has it already.

    Returns
    -------
    dict: ``ink_precision``, ``ink_recall``, ``f_measure``, each a float in [0, 100]; all
    100 when neither has ink.
    """
    truth = clean < INK_BELOW
    if predicted is None:
        predicted = otsu_ink(output)
    if not truth.any() and not predicted.any():
        return {"ink_precision": 100.0, "ink_recall": 100.0, "f_measure": 100.0}
    tp = float(np.sum(predicted & truth))
    precision = tp / max(1.0, float(predicted.sum()))
    recall = tp / max(1.0, float(truth.sum()))
    f = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
    return {
        "ink_precision": 100.0 * precision,
        "ink_recall": 100.0 * recall,
        "f_measure": 100.0 * f,
    }


def ink_f_measure(output: np.ndarray, clean: np.ndarray) -> float:
    """F-measure (%) of the Otsu-binarized ``output`` against the ink of ``clean``
    (:func:`ink_detection`'s ``f_measure``): float in [0, 100]."""
    return ink_detection(output, clean)["f_measure"]


def page_scores(
    output: np.ndarray,
    clean: np.ndarray,
    light: np.ndarray | None = None,
    bins: np.ndarray | None = None,
) -> dict:
    """Per-page figures: squared error sum, px, RMSE, PSNR (dB), SSIM, ink precision, recall
    and F-measure (%, :func:`ink_detection`).

    Also the squared and signed error sums and px of each region (``sq_ink``, ``sum_ink``,
    ``px_ink``, ...; see :func:`region_masks`), and the px of light strokes
    (:func:`light_strokes`) and of those Otsu keeps as ink (``px_light``, ``kept_light``),
    and per depth bin inside the strokes the lists ``sq_depth``, ``sum_depth`` and
    ``px_depth`` (:func:`depth_bins`). SSIM is scikit-image's ``structural_similarity``
    (Wang et al., IEEE TIP 2004) with data range 1. *light* and *bins*:
    ``light_strokes(clean)`` and ``depth_bins(clean)`` when the caller scores several
    outputs of one page.
    """
    from skimage.metrics import structural_similarity

    diff = output.astype(np.float64) - clean
    sq = float(np.sum(diff**2))
    rmse = math.sqrt(sq / diff.size)
    regions = {}
    for region, mask in region_masks(clean).items():
        regions[f"sq_{region}"] = float(np.sum(diff[mask] ** 2))
        regions[f"sum_{region}"] = float(np.sum(diff[mask]))
        regions[f"px_{region}"] = int(mask.sum())
    if bins is None:
        bins = depth_bins(clean)
    masks = [bins == i for i in range(len(DEPTH_EDGES_PX) + 1)]
    depth = {
        "sq_depth": [float(np.sum(diff[m] ** 2)) for m in masks],
        "sum_depth": [float(np.sum(diff[m])) for m in masks],
        "px_depth": [int(m.sum()) for m in masks],
    }
    if light is None:
        light = light_strokes(clean)
    predicted = otsu_ink(output)
    return {
        **regions,
        **depth,
        "px_light": int(light.sum()),
        "kept_light": int(np.sum(light & predicted)),
        "sq": sq,
        "px": int(diff.size),
        "rmse": rmse,
        "psnr": psnr(rmse),
        "ssim": float(structural_similarity(clean, output.astype(np.float32), data_range=1.0)),
        **ink_detection(output, clean, predicted),
    }


def psnr(rmse: float) -> float:
    """PSNR (dB) for values in [0, 1]: ``20 log10(1 / RMSE)``; inf for 0."""
    return float("inf") if rmse == 0 else 20 * math.log10(1.0 / rmse)


def pool(pages: list[dict]) -> dict:
    """Overall figures: pooled RMSE (every px counts once) and its PSNR; mean SSIM, ink
    precision, recall and F.

    ``rmse_ink``, ``rmse_edge`` and ``rmse_paper`` pool each region alone (None where no
    page has that region); ``bias_<region>`` is the region's mean signed error, output minus
    clean (above 0: lighter than the clean page; None likewise). ``px_share_<region>`` is
    the region's fraction of all px and ``error_share_<region>`` its fraction of the
    squared error (None for an error-free output or an absent region), both in [0, 1]:
    where a model's error lies, not only how large it is. ``recall_light`` (%) pools the
    light strokes' px kept as ink over the pages (None where no page has light strokes).
    """
    total_sq = sum(p["sq"] for p in pages)
    total_px = sum(p["px"] for p in pages)
    rmse = math.sqrt(total_sq / total_px)
    overall = {
        "rmse": rmse,
        "psnr": psnr(rmse),
        "ssim": float(np.mean([p["ssim"] for p in pages])),
        **{k: float(np.mean([p[k] for p in pages])) for k in INK_SCORES},
    }
    for region in REGIONS:
        px = sum(p.get(f"px_{region}", 0) for p in pages)
        sq = sum(p.get(f"sq_{region}", 0.0) for p in pages)
        overall[f"rmse_{region}"] = math.sqrt(sq / px) if px else None
        overall[f"bias_{region}"] = (
            sum(p.get(f"sum_{region}", 0.0) for p in pages) / px if px else None
        )
        overall[f"px_share_{region}"] = px / total_px
        overall[f"error_share_{region}"] = sq / total_sq if total_sq and px else None
    if all("px_depth" in p for p in pages):
        overall["ink_depth"] = pool_depth(pages)
    light_px = sum(p.get("px_light", 0) for p in pages)
    kept = sum(p.get("kept_light", 0) for p in pages)
    overall["recall_light"] = 100.0 * kept / light_px if light_px else None
    return overall


def pool_depth(pages: list[dict]) -> list[dict]:
    """Pool :func:`page_scores`' per-depth sums: one dict per depth bin, shallow first.

    Returns
    -------
    list of dict with ``depth_px`` (bin name, e.g. ``"8-16"``), ``px``, ``rmse`` and
    ``bias`` (mean signed error, output minus clean; above 0: lighter); ``rmse`` and
    ``bias`` are None for a bin with no px.
    """
    pooled = []
    for i, label in enumerate(depth_labels()):
        px = sum(p["px_depth"][i] for p in pages)
        sq = sum(p["sq_depth"][i] for p in pages)
        total = sum(p["sum_depth"][i] for p in pages)
        pooled.append(
            {
                "depth_px": label,
                "px": px,
                "rmse": math.sqrt(sq / px) if px else None,
                "bias": total / px if px else None,
            }
        )
    return pooled


def read_page_tags(data_dir: str | Path) -> dict[str, list[str]]:
    """What ``scanclean-train synth`` put on each page, from ``DATA_DIR/pages.json``.

    Parameters
    ----------
    data_dir : path
        A data directory; one without ``pages.json`` (real scans) has no tags.

    Returns
    -------
    dict: file name -> tags, the page's dirt kinds (``coffee``, ``bleed``, ``fade``, ...)
    then its hand-made marks (``stamp``, ``signature``, ``handwriting``, ...); empty when
    there is no ``pages.json``.

    Raises
    ------
    data.DataError
        ``pages.json`` is unreadable or not a synth manifest (the message names the file).
    """
    from .synth import MANIFEST

    path = Path(data_dir) / MANIFEST
    if not path.is_file():
        return {}
    try:
        pages = json.loads(path.read_text(encoding="utf-8"))["pages"]
        return {
            str(name): [str(t) for t in (*info["dirt"], *info["annotations"])]
            for name, info in pages.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise data_mod.DataError(f"{path}: not a synth page manifest ({exc!r})") from None


def pool_by_tag(methods: dict[str, list[dict]], tags: dict[str, list[str]]) -> dict:
    """Each method's :func:`pool` over the pages that carry each tag.

    Parameters
    ----------
    methods : dict
        method name -> list of :func:`page_scores` dicts, each with its ``page`` name.
    tags : dict
        page name -> tags (:func:`read_page_tags`); pages without an entry count for no tag.

    Returns
    -------
    dict: tag -> ``{"pages": n, "methods": {name: pooled figures}}``, tags sorted by name.
    """
    names = sorted({t for page_tags in tags.values() for t in page_tags})
    result = {}
    for tag in names:
        per_method = {
            name: [p for p in pages if tag in tags.get(p["page"], ())]
            for name, pages in methods.items()
        }
        count = len(next(iter(per_method.values()), []))
        if count:
            result[tag] = {
                "pages": count,
                "methods": {name: pool(pages) for name, pages in per_method.items()},
            }
    return result


def count_pages_below_raw(
    methods: dict[str, list[dict]], perfect: dict[str, float]
) -> dict[str, dict[str, int]]:
    """The issue's text-survival bar page by page: pages where a method's ink F falls
    below Otsu on the raw scan (``identity``).

    Parameters
    ----------
    methods : dict
        method name -> list of :func:`page_scores` dicts with their ``page`` name; must
        hold ``identity``.
    perfect : dict
        page name -> the clean page's own ink F (%): a perfect output's score, which on a
        lightly soiled page can be below the raw scan's, since the stain's darkening pushes
        anti-aliased rims that the ink mask counts under Otsu's threshold.

    Returns
    -------
    dict: method name -> ``pages_below_raw`` (F below the raw scan's) and
    ``pages_below_raw_avoidable`` (those of them where a perfect output's F is not below
    the raw scan's: there the bar can be met, and the method loses ink or keeps stain
    that a perfect output would not).
    """
    raw = {p["page"]: p["f_measure"] for p in methods["identity"]}
    counts = {}
    for name, pages in methods.items():
        below = [p for p in pages if p["f_measure"] < raw[p["page"]]]
        counts[name] = {
            "pages_below_raw": len(below),
            "pages_below_raw_avoidable": sum(perfect[p["page"]] >= raw[p["page"]] for p in below),
        }
    return counts


def evaluate_pages(
    model_paths: list[str | Path],
    pairs: list[data_mod.Pair],
    tile: int = DEFAULT_TILE,
    threads: int | None = None,
    flips: tuple[int, ...] = (1,),
    tags: dict[str, list[str]] | None = None,
) -> dict:
    """Clean every pair's noisy page with each model and score it and the baselines.

    Parameters
    ----------
    model_paths : list of path
        ONNX models (opened with ``scanclean.model.ModelSession``).
    pairs : list of data.Pair
    tile : int
        Largest tile side (px) for ``scanclean.engine.clean_image`` (results equal
        whole-page inference whatever the tile).
    flips : tuple of int
        Each model runs once per value, as ``clean_image(..., flips=f)`` (the mirror
        self-ensemble; 1 = plain); runs with ``f > 1`` are named ``<model>+flips<f>``.
    tags : dict, optional
        page name -> tags (:func:`read_page_tags`); when given, the report has ``by_tag``
        (:func:`pool_by_tag`).

    Returns
    -------
    dict: ``rmse`` (the first model's pooled RMSE, with the first ``flips``), ``pages``,
    ``methods`` (name -> overall figures, plus ``mp_per_s`` for models), ``ink_ceiling``
    (the mean ink precision, recall and F of the clean pages themselves: a perfect
    output's scores, and its ``recall_light``), ``ink_ceiling_per_page`` (page -> the same
    three), and ``per_page`` (name -> page -> RMSE, PSNR, SSIM, ink F, precision and recall, and the RMSE of each
    region, None where the page lacks it). Each method's overall figures also hold
    ``pages_below_raw`` and ``pages_below_raw_avoidable`` (:func:`count_pages_below_raw`).
    """
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession

    sessions = [ModelSession(p, intra_op_threads=threads) for p in model_paths]
    runs = [
        (s, f, s.info.name if f == 1 else f"{s.info.name}+flips{f}")
        for s in sessions
        for f in flips
    ]
    methods: dict[str, list[dict]] = {}
    seconds: dict[str, float] = {}
    megapixels = 0.0
    ceiling: list[dict] = []
    light_ceiling = [0, 0]  # light-stroke px, of those kept by Otsu on the clean page
    for pair in pairs:
        noisy, clean = data_mod.read_grey(pair.noisy), data_mod.read_grey(pair.clean)
        megapixels += noisy.size / 1e6
        clean_ink = otsu_ink(clean)
        ceiling.append(ink_detection(clean, clean, clean_ink))
        light, bins = light_strokes(clean), depth_bins(clean)  # once per page, every method
        light_ceiling[0] += int(light.sum())
        light_ceiling[1] += int(np.sum(light & clean_ink))
        outputs = {"identity": noisy, "classical": classical_clean(noisy)}
        for session, f, name in runs:
            start = time.perf_counter()
            outputs[name] = clean_image(noisy, session, tile=tile, flips=f)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        for name, out in outputs.items():
            methods.setdefault(name, []).append(
                {"page": pair.name, **page_scores(out, clean, light, bins)}
            )
    overall = {name: pool(pages) for name, pages in methods.items()}
    perfect = {pair.name: c for pair, c in zip(pairs, ceiling, strict=True)}
    below = count_pages_below_raw(methods, {p: c["f_measure"] for p, c in perfect.items()})
    for name, counts in below.items():
        overall[name].update(counts)
    for name, secs in seconds.items():
        overall[name]["mp_per_s"] = megapixels / secs
    first = runs[0][2]
    report = {
        "rmse": overall[first]["rmse"],
        "model": first,
        "pages": len(pairs),
        "megapixels": megapixels,
        "methods": overall,
        "ink_ceiling": {
            **{k: float(np.mean([c[k] for c in ceiling])) for k in INK_SCORES},
            "recall_light": (
                100.0 * light_ceiling[1] / light_ceiling[0] if light_ceiling[0] else None
            ),
        },
        "ink_ceiling_per_page": perfect,
        "per_page": {
            name: {
                p["page"]: {
                    **{k: p[k] for k in ("rmse", "psnr", "ssim", *INK_SCORES)},
                    **{
                        f"rmse_{r}": math.sqrt(p[f"sq_{r}"] / p[f"px_{r}"])
                        if p[f"px_{r}"]
                        else None
                        for r in REGIONS
                    },
                }
                for p in pages
            }
            for name, pages in methods.items()
        },
    }
    if tags:
        report["by_tag"] = pool_by_tag(methods, tags)
    return report


def evaluate_dir(
    model_paths: list[str | Path],
    data_dir: str | Path,
    groups: list[str] | None = None,
    tile: int = DEFAULT_TILE,
    threads: int | None = None,
    flips: tuple[int, ...] = (1,),
    without_tags: tuple[str, ...] = (),
) -> dict:
    """:func:`evaluate_pages` on a data directory, optionally only some background groups.

    A ``pages.json`` from ``scanclean-train synth`` in *data_dir* adds ``by_tag`` to the
    report (:func:`read_page_tags`). *without_tags* leaves out the pages that have any of
    these tags (e.g. ``("fade",)``: only the pages whose ink the generator did not fade);
    the report's ``without_tags`` says so.

    Raises
    ------
    data.DataError
        Unusable data directory, unknown group, unreadable ``pages.json``, tags asked for
        without a ``pages.json``, or no page left.
    """
    pairs = data_mod.find_group_pairs(data_dir, groups)
    tags = read_page_tags(data_dir)
    if without_tags:
        if not tags:
            raise data_mod.DataError(f"{data_dir}: no pages.json, so no page tags to leave out")
        pairs = [p for p in pairs if not set(without_tags) & set(tags.get(p.name, []))]
        if not pairs:
            raise data_mod.DataError(
                f"{data_dir}: every page has one of the tags {', '.join(without_tags)}"
            )
    report = evaluate_pages(model_paths, pairs, tile=tile, threads=threads, flips=flips, tags=tags)
    report["data"] = str(data_dir)
    report["groups"] = sorted({p.group for p in pairs})
    if without_tags:
        report["without_tags"] = list(without_tags)
    return report


def format_depth(methods: dict) -> list[str]:
    """Report lines: each method's ink RMSE (mean signed error) by depth in the stroke."""
    rows = {n: m["ink_depth"] for n, m in methods.items() if m.get("ink_depth")}
    if not rows:
        return []
    first = next(iter(rows.values()))
    lines = [
        "ink RMSE (mean signed error; above 0: lighter) by depth inside the stroke, px: "
        + " | ".join(f"{b['depth_px']} ({b['px']} px)" for b in first)
    ]
    for name, bins in rows.items():
        cells = ["-" if b["rmse"] is None else f"{b['rmse']:.3f} ({b['bias']:+.3f})" for b in bins]
        lines.append(f"  {name:<22}" + " | ".join(cells))
    return lines


def format_report(report: dict, per_page: bool = False) -> str:
    """A plain-text table of :func:`evaluate_pages`' report."""
    lines = []
    if per_page:
        names = list(report["per_page"])
        lines.append("page".ljust(16) + "".join(f"{n[:14]:>16}" for n in names) + "   (RMSE)")
        for page in report["per_page"][names[0]]:
            lines.append(
                page.ljust(16)
                + "".join(f"{report['per_page'][n][page]['rmse']:16.4f}" for n in names)
            )
        lines.append("")
    groups = report.get("groups", [])
    named = ", ".join(groups) if len(groups) <= 8 else f"{len(groups)} (e.g. {groups[0]})"
    lines.append(f"{report['pages']} pages, {report['megapixels']:.2f} MP, groups: {named or '-'}")
    if report.get("without_tags"):
        lines.append(f"left out: the pages tagged {', '.join(report['without_tags'])}")
    lines.append(
        f"{'method':<24}{'RMSE':>8}{'PSNR dB':>9}{'SSIM':>8}{'ink F %':>9}{'P %':>7}{'R %':>7}"
        f"{'MP/s':>7}   RMSE on ink / edge / paper       share of squared error "
        "(ink / edge / paper)"
    )
    for name, m in report["methods"].items():
        speed = f"{m['mp_per_s']:7.2f}" if "mp_per_s" in m else " " * 7
        regions = " / ".join(
            "-" if m.get(f"rmse_{r}") is None else f"{m[f'rmse_{r}']:.4f}" for r in REGIONS
        )
        shares = " / ".join(
            "-" if m.get(f"error_share_{r}") is None else f"{100 * m[f'error_share_{r}']:.0f} %"
            for r in REGIONS
        )
        lines.append(
            f"{name:<24}{m['rmse']:8.4f}{m['psnr']:9.2f}{m['ssim']:8.4f}{m['f_measure']:9.2f}"
            f"{m['ink_precision']:7.1f}{m['ink_recall']:7.1f}{speed}   {regions:<32} {shares}"
        )
    first = next(iter(report["methods"].values()), {})
    if all(first.get(f"px_share_{r}") is not None for r in REGIONS):
        lines.append(
            "share of px (ink / edge / paper): "
            + " / ".join(f"{100 * first[f'px_share_{r}']:.0f} %" for r in REGIONS)
        )
    lines.extend(format_depth(report["methods"]))
    light = {
        n: m["recall_light"]
        for n, m in report["methods"].items()
        if m.get("recall_light") is not None
    }
    perfect_light = report.get("ink_ceiling", {}).get("recall_light")
    if perfect_light is not None:
        light["a perfect output"] = perfect_light
    if light:
        lines.append(
            "light strokes (pencil, light pens) kept as ink: "
            + "; ".join(f"{name} {value:.1f} %" for name, value in light.items())
        )
    if "ink_ceiling" in report:
        c = report["ink_ceiling"]
        lines.append(
            f"ink F of a perfect output (the clean pages): {c['f_measure']:.2f} % "
            f"(P {c['ink_precision']:.1f}, R {c['ink_recall']:.1f}); "
            "P: pixels kept as ink that are ink, R: ink kept"
        )
    counted = [
        (name, m)
        for name, m in report["methods"].items()
        if "pages_below_raw" in m and name != "identity"  # the raw scan is the reference
    ]
    if counted:
        lines.append(
            "pages whose ink F is below Otsu on the raw scan (of those, where a perfect "
            "output's is not): "
            + "; ".join(
                f"{name} {m['pages_below_raw']} ({m['pages_below_raw_avoidable']})"
                for name, m in counted
            )
            + f" of {report['pages']}"
        )
    if report.get("by_tag"):
        names = list(report["methods"])
        lines.append("")
        lines.append(
            "by what the generator put on the page (pages.json): RMSE / ink F % over the pages "
            "that have it"
        )
        lines.append("tag".ljust(14) + "pages" + "".join(f"{n[:18]:>20}" for n in names))
        for tag, entry in report["by_tag"].items():
            lines.append(
                tag[:13].ljust(14)
                + f"{entry['pages']:5d}"
                + "".join(
                    f"{entry['methods'][n]['rmse']:12.4f} / {entry['methods'][n]['f_measure']:5.1f}"
                    for n in names
                )
            )
    return "\n".join(lines)
