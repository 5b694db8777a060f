"""Text-survival test pages made from real pairs: faint print at a higher scan resolution.

A second text-survival test that does not come from our synthetic generator: the stains
and the print are those of real (e.g. held-out NoisyOffice) pairs; only the ink strength
and the resolution change. Per pair:

1. the stain without the ink: ``evaluate.estimate_background`` (a ``window`` px grey
   dilation of the noisy page, wider than a stroke, smoothed by a box filter);
2. faint print on that stain: ``stain * (1 - contrast * (1 - clean))``, so
   ``contrast = 0.35`` prints the text at 35 % of black (light grey ink);
3. both sides resized by ``scale`` (bicubic), as a scan at that many times the DPI, and
   Gaussian noise (sigma 0.01) added to the noisy side.

The clean side is the target (ink where clean < 0.75, as in ``evaluate.ink_f_measure``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from . import data as data_mod
from .evaluate import estimate_background
from .synth import save_png_atomic


def resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    """Bicubic resize of (H, W) float32 by ``scale``; clipped to [0, 1]."""
    h, w = pixels.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = np.asarray(Image.fromarray(pixels, mode="F").resize(size, Image.Resampling.BICUBIC))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def fade_pair(
    noisy: np.ndarray,
    clean: np.ndarray,
    contrast: float,
    scale: float,
    rng: np.random.Generator,
    window: int = 9,
) -> tuple[np.ndarray, np.ndarray]:
    """Make one faint-print test pair from a real pair (see the module docstring).

    Parameters
    ----------
    noisy, clean : (H, W) float32 in [0, 1]
    contrast : float in (0, 1]
        Ink strength (1 = the original black print).
    scale : float
        Resolution factor (e.g. 2.5 turns a ~120-dpi page into a ~300-dpi one).
    rng : numpy Generator
        For the sensor noise.

    Returns
    -------
    faded_noisy, clean : (round(H * scale), round(W * scale)) float32 in [0, 1]

    Raises
    ------
    ValueError
        Shapes differ, or contrast is outside (0, 1].
    """
    if noisy.shape != clean.shape:
        raise ValueError(f"noisy {noisy.shape} and clean {clean.shape} differ in shape")
    if not 0.0 < contrast <= 1.0:
        raise ValueError(f"contrast must be in (0, 1], got {contrast}")
    faded = estimate_background(noisy, window) * (1.0 - contrast * (1.0 - clean))
    faded = resize(faded, scale)
    faded = np.clip(faded + rng.normal(0.0, 0.01, faded.shape), 0.0, 1.0).astype(np.float32)
    return faded, resize(clean, scale)


def write_faded_set(
    data_dir: Path | str,
    out: Path | str,
    groups: list[str] | None = None,
    contrast: float = 0.35,
    scale: float = 2.5,
    seed: int = 0,
) -> int:
    """Write faint-print pairs for the pages of ``data_dir`` (optionally only ``groups``).

    Parameters
    ----------
    data_dir : path of a data dir (``noisy/`` + ``clean/``)
    out : path of the new data dir; gets ``noisy/`` and ``clean/`` PNGs with the same
        names (written atomically)
    groups : background group names to keep, e.g. the held-out ones; None keeps all
    contrast, scale : see :func:`fade_pair`
    seed : int
        Seeds the noise; same arguments, same files.

    Returns
    -------
    int: pages written.

    Raises
    ------
    data.DataError
        Unusable data dir or unknown group (the message names it).
    """
    pairs = data_mod.find_group_pairs(data_dir, groups)
    out = Path(out)
    for sub in ("noisy", "clean"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for pair in pairs:
        noisy, clean = data_mod.read_grey(pair.noisy), data_mod.read_grey(pair.clean)
        faded, target = fade_pair(noisy, clean, contrast, scale, rng)
        name = Path(pair.name).with_suffix(".png").name
        save_png_atomic(target, out / "clean" / name)
        save_png_atomic(faded, out / "noisy" / name)
    return len(pairs)
