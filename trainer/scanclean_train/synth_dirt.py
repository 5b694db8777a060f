"""Dirt for the synthetic soiled-page generator.

Each function returns a multiplicative background field, (H, W) float32 in (0, 1], that darkens
the paper: coffee rings and blotches, folds and creases, crumpled-paper shading, footprints and
smudges, grey/yellowed uneven paper, watermark-like patterns, bleed-through, and (optional,
:func:`dark_stain`) stains as wide and dark as thick ink. The scanner
stage (blur, noise, JPEG) and input-only ink fading are applied to the composed page in
:mod:`scanclean_train.synth`.

Sizes are physical: a coffee cup is 6-9 cm across whatever the DPI, so fields scale with
``dpi``. Smooth fields are computed at a reduced resolution and resized with Pillow (bicubic
on mode ``'F'`` images), so an A4 page at 300 dpi stays fast. Only numpy and Pillow are used.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "gaussian_blur",
    "value_noise",
    "paper",
    "coffee",
    "fold",
    "crumple",
    "smudge",
    "dark_stain",
    "DARK_STAIN_KINDS",
    "footprint",
    "watermark",
    "bleed_through",
    "jpeg",
]

_LOWRES = 400  # long side (px) of the grids smooth fields are computed on


def _resize(a: np.ndarray, width: int, height: int, resample=Image.BICUBIC) -> np.ndarray:
    """Resize a float32 array with Pillow (mode 'F')."""
    return np.array(
        Image.fromarray(np.ascontiguousarray(a, np.float32), "F").resize((width, height), resample)
    )


def _exact_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with a sampled kernel of radius ceil(3 sigma), edge replication."""
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2).astype(np.float32)
    k /= k.sum()
    out = a
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = k[0] * (p[:n] if axis == 0 else p[:, :n])
        for i in range(1, len(k)):
            acc += k[i] * (p[i : i + n] if axis == 0 else p[:, i : i + n])
        out = acc
    return out


def gaussian_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a 2-D float array (exact for small sigma, resampled for large).

    Parameters
    ----------
    a : (H, W) float32
    sigma : float
        Standard deviation in px.

    Returns
    -------
    (H, W) float32

    Notes
    -----
    Sigmas under 1.5 px use a sampled separable kernel. Larger ones are done on a grid
    reduced by ``f = sigma / 1.2`` (Pillow box reduction), blurred there with the remaining
    sigma and resized back with a bicubic filter: the result is smooth at the scale of the
    blur, which is all the generator needs, and costs O(H W) whatever sigma.
    """
    a = np.asarray(a, np.float32)
    if sigma <= 0.05:
        return a
    if sigma < 1.5:
        return _exact_blur(a, sigma)
    h, w = a.shape
    f = sigma / 1.2
    sw, sh = max(2, int(round(w / f))), max(2, int(round(h / f)))
    small = _resize(a, sw, sh, Image.BOX)
    # a box of width f already has variance f^2 / 12
    rest = np.sqrt(max(sigma * sigma - f * f / 12.0, 0.25)) * sw / w
    small = _exact_blur(small, rest) if rest > 0.3 else small
    return _resize(small, w, h, Image.BICUBIC)


def value_noise(
    rng: np.random.Generator,
    height: int,
    width: int,
    scale: float,
    octaves: int = 4,
    persistence: float = 0.5,
) -> np.ndarray:
    """Smooth fractal noise, roughly zero mean and unit standard deviation.

    Parameters
    ----------
    rng : numpy.random.Generator
    height, width : int
        Output size in px.
    scale : float
        Feature size of the coarsest octave in px.
    octaves : int
        Number of octaves (each halves the feature size).
    persistence : float
        Amplitude ratio between successive octaves.

    Returns
    -------
    (H, W) float32
    """
    long_side = max(height, width)
    f = max(1.0, long_side / _LOWRES)
    lh, lw = max(2, int(round(height / f))), max(2, int(round(width / f)))
    total = np.zeros((lh, lw), np.float32)
    amp, norm = 1.0, 0.0
    s = scale / f
    for _ in range(octaves):
        gh, gw = (
            max(2, int(np.ceil(lh / max(s, 1.0))) + 2),
            max(2, int(np.ceil(lw / max(s, 1.0))) + 2),
        )
        g = rng.standard_normal((gh, gw)).astype(np.float32)
        total += amp * _resize(g, lw, lh)
        norm += amp * amp
        amp *= persistence
        s /= 2.0
        if s < 1.0:
            break
    total /= np.sqrt(norm) * 0.8
    return _resize(total, width, height) if (lh, lw) != (height, width) else total


def _grid(height: int, width: int, f: float = 1.0):
    """Pixel-centre coordinates (x, y) of a grid subsampled by *f*, in full-resolution px."""
    lh, lw = max(2, int(round(height / f))), max(2, int(round(width / f)))
    y = (np.arange(lh, dtype=np.float32) + 0.5) * (height / lh)
    x = (np.arange(lw, dtype=np.float32) + 0.5) * (width / lw)
    return np.meshgrid(x, y), (lh, lw)


def _lowres_factor(height: int, width: int, detail_px: float) -> float:
    """Subsampling factor keeping features of *detail_px* px (>= 2 grid cells) sharp."""
    return float(np.clip(detail_px / 2.0, 1.0, max(height, width) / 256.0))


def paper(
    rng: np.random.Generator,
    height: int,
    width: int,
    dpi: float,
    level: float | None = None,
    grain: float | None = None,
) -> np.ndarray:
    """Grey or yellowed, uneven paper with fibre grain.

    Parameters
    ----------
    level : float, optional
        Mean paper brightness; random (0.78-1.0) when None.
    grain : float, optional
        Relative standard deviation of the fibre grain; random (0.004-0.025) when None.

    Returns
    -------
    (H, W) float32 in (0, 1]
        Paper brightness (1 = white).
    """
    if level is None:
        level = float(rng.choice([rng.uniform(0.9, 1.0), rng.uniform(0.78, 0.95)]))
    mm = dpi / 25.4
    uneven = value_noise(rng, height, width, scale=float(rng.uniform(40, 150)) * mm, octaves=2)
    out = level * (1.0 - float(rng.uniform(0.0, 0.03)) * (uneven + 1.5).clip(0, None))
    # fibre grain: fine noise about 0.05-0.2 mm
    g = rng.standard_normal((height, width)).astype(np.float32)
    g = gaussian_blur(g, max(0.5, float(rng.uniform(0.05, 0.15)) * mm))
    g /= g.std() + 1e-6
    amp = float(rng.uniform(0.004, 0.025))
    out *= 1.0 + (amp if grain is None else float(grain)) * g
    # sometimes a shadowed page edge (book-like or lid not closed)
    if rng.random() < 0.15:
        side = int(rng.integers(0, 4))
        n = width if side < 2 else height
        d = np.arange(n, dtype=np.float32)
        if side % 2:
            d = d[::-1]
        prof = 1.0 - float(rng.uniform(0.1, 0.4)) * np.exp(-d / (float(rng.uniform(2, 10)) * mm))
        out *= prof[None, :] if side < 2 else prof[:, None]
    return np.clip(out, 0.05, 1.0).astype(np.float32)


def coffee(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Coffee rings (cup bottoms, often partial) and blotches with darker rims, and drops.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    f = _lowres_factor(height, width, 0.6 * mm)
    (x, y), (lh, lw) = _grid(height, width, f)
    dark = np.zeros((lh, lw), np.float32)
    n_rings = int(rng.integers(1, 4)) if rng.random() < 0.85 else 0
    n_blots = int(rng.integers(1, 3)) if (rng.random() < 0.3 or n_rings == 0) else 0
    for _ in range(n_rings):
        r = float(rng.uniform(25, 45)) * mm
        # the ring crosses the page: centre within r/2 outside the page at most
        cx = float(rng.uniform(-0.5 * r, width + 0.5 * r))
        cy = float(rng.uniform(-0.5 * r, height + 0.5 * r))
        ang = np.arctan2(y - cy, x - cx)
        # wobbly radius, partial arc, varying ring width
        wob = sum(
            float(rng.normal(0, 0.012)) * np.cos(k * ang + float(rng.uniform(0, 6.3)))
            for k in range(2, 7)
        )
        d = np.hypot(x - cx, y - cy) / r - 1.0 - wob
        wid = float(rng.uniform(0.035, 0.1)) * (
            1.0 + 0.5 * np.cos(ang - float(rng.uniform(0, 6.3)))
        )
        # sharp outer edge, soft inner edge (coffee-ring effect)
        prof = np.where(d > 0, np.exp(-((d / (wid * 0.35)) ** 2)), np.exp(-((d / wid) ** 2)))
        arc_c, arc_w = float(rng.uniform(0, 6.3)), float(rng.uniform(1.5, 7.0))
        arc = (
            np.clip((np.cos(ang - arc_c) - np.cos(arc_w / 2)) * 4.0 + 0.3, 0, 1)
            if arc_w < 6.2
            else 1.0
        )
        inside = (d < 0) * float(rng.uniform(0.0, 0.25)) * np.clip(1.0 + d * 3, 0, 1)
        a = float(rng.uniform(0.2, 0.55)) * strength
        dark = np.maximum(dark, a * (prof * arc + inside))
    for _ in range(n_blots):
        r = float(rng.uniform(6, 30)) * mm
        cx = float(rng.uniform(0.0, 1.0)) * width
        cy = float(rng.uniform(0.0, 1.0)) * height
        nz = value_noise(rng, lh, lw, scale=r * 0.8 / f, octaves=3)
        d = np.hypot(x - cx, y - cy) / r - 1.0 + 0.35 * nz
        body = np.clip(-d * 3.0, 0, 1)
        rim = np.exp(-((d / 0.1) ** 2)) * np.clip(1.0 - d / 0.03, 0, 1)
        a = float(rng.uniform(0.1, 0.35)) * strength
        dark = np.maximum(dark, a * (0.5 * body + rim))
    for _ in range(int(rng.integers(0, 8))):  # drops
        r = float(rng.uniform(0.5, 4)) * mm
        cx, cy = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        d = np.hypot(x - cx, y - cy) / r - 1.0
        dark = np.maximum(
            dark,
            float(rng.uniform(0.1, 0.4))
            * strength
            * (np.clip(-d * 4, 0, 1) * 0.5 + np.exp(-((d / 0.15) ** 2))),
        )
    grain = 1.0 + 0.35 * value_noise(rng, lh, lw, scale=2 * mm / f, octaves=3)
    field = 1.0 - np.clip(dark * grain, 0, 0.75)
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.05, 1.0).astype(np.float32)


def fold(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Folds and creases: straight lines with a shaded side and a thin dark crease.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    f = _lowres_factor(height, width, 0.3 * mm)
    (x, y), (lh, lw) = _grid(height, width, f)
    field = np.ones((lh, lw), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.6:  # letter folds: near-horizontal or near-vertical
            theta = float(rng.choice([0.0, np.pi / 2])) + float(rng.normal(0, 0.03))
        else:
            theta = float(rng.uniform(0, np.pi))
        nx, ny = np.cos(theta), np.sin(theta)
        px, py = float(rng.uniform(0.1, 0.9)) * width, float(rng.uniform(0.1, 0.9)) * height
        d = (x - px) * nx + (y - py) * ny
        d = d + float(rng.uniform(0.0, 1.0)) * mm * value_noise(
            rng, lh, lw, scale=30 * mm / f, octaves=2
        )
        side = float(rng.uniform(3, 25)) * mm
        shade = float(rng.uniform(0.03, 0.2)) * strength
        sgn = 1.0 if rng.random() < 0.5 else -1.0
        field *= 1.0 - shade * np.exp(-np.abs(d) / side) * np.where(d * sgn > 0, 1.0, 0.25)
        w = float(rng.uniform(0.15, 0.5)) * mm
        crease = float(rng.uniform(0.1, 0.45)) * strength
        # broken crease: its darkness varies along the line
        along = value_noise(rng, lh, lw, scale=20 * mm / f, octaves=2)
        field *= 1.0 - crease * np.clip(0.7 + 0.5 * along, 0, 1) * np.exp(-((d / w) ** 2))
        if rng.random() < 0.5:  # bright ridge beside the crease
            field *= 1.0 + 0.05 * strength * np.exp(-(((d - 2 * w * sgn) / w) ** 2))
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.05, 1.0).astype(np.float32)


def crumple(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Crumpled-paper shading: many short creases lit from one side, like NoisyOffice's wrinkles.

    The paper is modelled as a height field made of many short creases (windowed ridges and
    valleys); its shading is the Lambertian term of the surface normal under a grazing light.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    f = max(_lowres_factor(height, width, 0.5 * mm), max(height, width) / 256.0)
    (x, y), (lh, lw) = _grid(height, width, f)
    # gradient of the height field, accumulated crease by crease
    gx = np.zeros((lh, lw), np.float32)
    gy = np.zeros((lh, lw), np.float32)
    area_cm2 = height * width / (mm * 10) ** 2
    density = float(rng.uniform(0.6, 2.0))
    n = int(np.clip(area_cm2 * density, 12, 600))
    size = float(rng.uniform(6, 20)) * mm
    bend = (
        value_noise(rng, lh, lw, scale=15 * mm / f, octaves=2) * float(rng.uniform(0.5, 2.5)) * mm
    )
    xs, ys = x[0], y[:, 0]
    for _ in range(n):
        theta = float(rng.uniform(0, np.pi))
        nx, ny = np.cos(theta), np.sin(theta)
        px, py = float(rng.uniform(-0.1, 1.1)) * width, float(rng.uniform(-0.1, 1.1)) * height
        ln = size * float(rng.uniform(0.4, 1.5))
        wd = ln * float(rng.uniform(0.25, 0.6))
        ext = 2.0 * max(ln, wd)  # window is < 2 % beyond this
        i0, i1 = np.searchsorted(ys, [py - ext, py + ext])
        j0, j1 = np.searchsorted(xs, [px - ext, px + ext])
        if i1 <= i0 or j1 <= j0:
            continue
        xx, yy = x[i0:i1, j0:j1] - px, y[i0:i1, j0:j1] - py
        d = xx * nx + yy * ny + bend[i0:i1, j0:j1] * (1 if rng.random() < 0.5 else -1)
        t = xx * -ny + yy * nx
        win = np.exp(-(t * t) * (1.0 / (ln * ln)) - (d * d) * (1.0 / (wd * wd)))
        a = float(rng.normal(0, 0.7)) * win * np.clip(d * (1.0 / (0.5 * mm)), -1.0, 1.0)
        gx[i0:i1, j0:j1] += a * nx
        gy[i0:i1, j0:j1] += a * ny
    # small-scale wrinkles
    wr = value_noise(rng, lh, lw, scale=5 * mm / f, octaves=2)
    gy_w, gx_w = np.gradient(wr)
    gx += 0.08 * gx_w * 5 * mm / f
    gy += 0.08 * gy_w * 5 * mm / f
    light = float(rng.uniform(0, 2 * np.pi))
    lx, ly = np.cos(light), np.sin(light)
    slope = float(rng.uniform(0.8, 1.6))
    shade = np.tanh((gx * lx + gy * ly) * slope)
    s = float(rng.uniform(0.15, 0.3)) * strength
    # bright facets saturate at the paper white, as on a real scanner
    field = np.minimum(
        1.0, 1.0 - s * (0.5 - shade + 0.25 * np.tanh((gx * gx + gy * gy) * slope * slope))
    )
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.05, 1.0).astype(np.float32)


def smudge(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Greasy smudges, rubbed graphite and fingerprints.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    f = _lowres_factor(height, width, 0.25 * mm)
    (x, y), (lh, lw) = _grid(height, width, f)
    xs, ys = x[0], y[:, 0]
    dark = np.zeros((lh, lw), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        th = float(rng.uniform(0, np.pi))
        finger = rng.random() < 0.5
        if finger:  # fingerprint: ridges ~0.5 mm apart in a 12-18 x 16-24 mm oval
            a, b = float(rng.uniform(6, 9)) * mm, float(rng.uniform(8, 12)) * mm
        else:  # rubbed smear, elongated
            a, b = float(rng.uniform(15, 60)) * mm, float(rng.uniform(4, 15)) * mm
        ext = max(a, b) * (1.05 if finger else 1.6)
        i0, i1 = np.searchsorted(ys, [cy - ext, cy + ext])
        j0, j1 = np.searchsorted(xs, [cx - ext, cx + ext])
        if i1 - i0 < 2 or j1 - j0 < 2:
            continue
        xx, yy = x[i0:i1, j0:j1] - cx, y[i0:i1, j0:j1] - cy
        u = xx * np.cos(th) + yy * np.sin(th)
        v = -xx * np.sin(th) + yy * np.cos(th)
        r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        ph, pw = r.shape
        if finger:
            wobble = 2 * value_noise(rng, ph, pw, 4 * mm / f, 2)
            ridges = 0.5 + 0.5 * np.sin(r * a / (0.5 * mm) * 2 * np.pi + wobble)
            env = np.clip(1.0 - r, 0, 1) ** 0.5
            val = float(rng.uniform(0.08, 0.3)) * strength * ridges * env
        else:
            streak = 0.6 + 0.4 * value_noise(rng, ph, pw, scale=2 * mm / f, octaves=2)
            env = np.exp(-(r**2) * 2.0)
            val = float(rng.uniform(0.05, 0.25)) * strength * env * np.clip(streak, 0, 1.5)
        dark[i0:i1, j0:j1] = np.maximum(dark[i0:i1, j0:j1], val)
    field = 1.0 - np.clip(dark, 0, 0.9)
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.05, 1.0).astype(np.float32)


#: Kinds of :func:`dark_stain`.
DARK_STAIN_KINDS = ("puddle", "streak")


def dark_stain(
    rng: np.random.Generator,
    height: int,
    width: int,
    dpi: float,
    beside: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """One or two stains as wide and as dark as thick ink: dried puddles and dark streaks.

    The other dirt fields mostly darken the paper by less than 0.3 over wide areas (coffee
    blotches, smudges), while thick ink (marker strokes, bold type, filled areas) is dark
    far from any paper. These stains are dark over areas as wide as the thick ink, so a
    network trained on both has to tell them apart by edge and texture, not by tone.
    A ``puddle`` is a dried spill 8-40 mm across with a ragged outline and a faint halo
    just outside it; a ``streak`` is a soft-edged dark smear 3-15 mm wide and 20-120 mm
    long (a scuff, a greasy rub). At its darkest a stain darkens the paper by about
    0.35-0.85 (grain included; checked on 23 single stains at 300 dpi: puddles 0.46-0.85,
    streaks 0.37-0.85). Their darkness does not follow the page's dirt strength. Centres
    fall inside the page.

    Parameters
    ----------
    rng : numpy.random.Generator
    height, width : int
        Page size in px.
    dpi : float
        Scanning resolution (the stains' sizes are in mm).
    beside : (K, 2) int array of (row, column) px, optional
        Ink pixels to put each stain beside (e.g. a page's thick ink), so that a training
        patch holds both: a puddle's outline, or a streak's side, passes 3 mm inside to
        6 mm outside one of them, drawn at random. The placing draws from a child of *rng*
        (``Generator.spawn``), so the stains are those *rng* gives without it (kinds, sizes,
        shapes, darkness), moved. None (default): centres anywhere on the page.

    Returns
    -------
    field : (H, W) float32 in [0.15, 1]
        Multiplicative background field.
    kinds : list of str
        The kinds drawn, one per stain, from :data:`DARK_STAIN_KINDS`.
    """
    mm = dpi / 25.4
    f = _lowres_factor(height, width, 0.3 * mm)
    (x, y), (lh, lw) = _grid(height, width, f)
    dark = np.zeros((lh, lw), np.float32)
    kinds = []
    place = rng.spawn(1)[0] if beside is not None else None  # leaves rng's stream alone
    for _ in range(int(rng.integers(1, 3))):
        kind = str(rng.choice(DARK_STAIN_KINDS))
        kinds.append(kind)
        cx, cy = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        if kind == "puddle":
            r = float(rng.uniform(4, 20)) * mm
            if beside is not None:
                cx, cy = _place_beside(place, beside, mm, r, None, height, width)
            nz = value_noise(rng, lh, lw, scale=r * 0.6 / f, octaves=2)
            d = np.hypot(x - cx, y - cy) / r - 1.0 + 0.4 * nz  # < 0 inside the outline
            body = np.clip(-d * 4.0, 0, 1)
            rim = np.exp(-((d / 0.06) ** 2)) * (d < 0.1)
            val = float(rng.uniform(0.35, 0.8)) * np.clip(0.8 * body + 0.3 * rim, 0, 1)
        else:
            th = float(rng.uniform(0, np.pi))
            half_w = float(rng.uniform(1.5, 7.5)) * mm
            half_l = float(rng.uniform(10, 60)) * mm
            if beside is not None:
                cx, cy = _place_beside(place, beside, mm, half_w, (th, half_l), height, width)
            u = (x - cx) * np.cos(th) + (y - cy) * np.sin(th)
            v = -(x - cx) * np.sin(th) + (y - cy) * np.cos(th)
            along = np.exp(-((u / half_l) ** 4))
            across = np.exp(-2.0 * (v / half_w) ** 2)
            rub = 0.75 + 0.25 * value_noise(rng, lh, lw, scale=8 * mm / f, octaves=2)
            val = float(rng.uniform(0.3, 0.7)) * along * across * np.clip(rub, 0, 1.2)
        dark = np.maximum(dark, val.astype(np.float32))
    grain = 1.0 + 0.15 * value_noise(rng, lh, lw, scale=1.5 * mm / f, octaves=2)
    field = 1.0 - np.clip(dark * grain, 0, 0.85)
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.15, 1.0).astype(np.float32), kinds


def _place_beside(
    rng: np.random.Generator,
    beside: np.ndarray,
    mm: float,
    reach: float,
    streak: tuple[float, float] | None,
    height: int,
    width: int,
) -> tuple[float, float]:
    """A stain centre (x, y) in px whose edge, *reach* px from it, passes by an ink pixel.

    The gap between the edge and the ink pixel is 3 mm inside to 6 mm outside. A puddle's
    centre lies in a random direction from the pixel; a streak (``streak`` = its angle th
    in radians and half length in px) lies across its own width from the pixel, anywhere
    along its middle half. Clipped to the page.
    """
    row, col = beside[int(rng.integers(len(beside)))]
    off = reach + float(rng.uniform(-3.0, 6.0)) * mm
    if streak is None:
        phi = float(rng.uniform(0, 2 * np.pi))
        dx, dy = off * np.cos(phi), off * np.sin(phi)
    else:
        th, half_l = streak
        side = 1.0 if rng.random() < 0.5 else -1.0
        along = float(rng.uniform(-0.5, 0.5)) * half_l
        dx = along * np.cos(th) - side * off * np.sin(th)  # along the axis, then across it
        dy = along * np.sin(th) + side * off * np.cos(th)
    return float(np.clip(col + dx, 0, width - 1)), float(np.clip(row + dy, 0, height - 1))


def footprint(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """A (partial) shoe print: a sole outline filled with a tread pattern, unevenly inked.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    f = _lowres_factor(height, width, 1.0 * mm)
    (x, y), (lh, lw) = _grid(height, width, f)
    length = float(rng.uniform(240, 300)) * mm
    cx = float(rng.uniform(0.2, 0.8)) * width
    cy = float(rng.uniform(0.2, 0.8)) * height
    th = float(rng.uniform(0, 2 * np.pi))
    u = (x - cx) * np.cos(th) + (y - cy) * np.sin(th)  # along the sole
    v = -(x - cx) * np.sin(th) + (y - cy) * np.cos(th)
    fore = ((u - 0.18 * length) / (0.32 * length)) ** 2 + (v / (0.19 * length)) ** 2
    heel = ((u + 0.33 * length) / (0.17 * length)) ** 2 + (v / (0.14 * length)) ** 2
    sole = np.clip((1.0 - np.minimum(fore, heel)) * 8, 0, 1)
    pitch = float(rng.uniform(4, 10)) * mm
    kind = int(rng.integers(0, 3))
    if kind == 0:  # bars
        tread = np.sin(u / pitch * 2 * np.pi) > 0.0
    elif kind == 1:  # zigzag
        tread = (
            np.sin((u + 0.5 * pitch * np.abs(np.sin(v / pitch * np.pi))) / pitch * 2 * np.pi) > 0.2
        )
    else:  # blocks
        tread = (np.sin(u / pitch * 2 * np.pi) > -0.2) & (np.sin(v / pitch * 2 * np.pi) > -0.2)
    patchy = np.clip(0.5 + 0.7 * value_noise(rng, lh, lw, scale=12 * mm / f, octaves=4), 0, 1)
    grit = np.clip(0.5 + 0.5 * value_noise(rng, lh, lw, scale=1.5 * mm / f, octaves=2), 0, 1)
    tread = gaussian_blur(tread.astype(np.float32), 0.5 * mm / f)
    a = float(rng.uniform(0.2, 0.5)) * strength
    dark = a * sole * (0.35 + 0.65 * tread) * patchy * (0.5 + 0.5 * grit)
    field = 1.0 - np.clip(dark, 0, 0.9)
    if (lh, lw) != (height, width):
        field = _resize(field, width, height)
    return np.clip(field, 0.05, 1.0).astype(np.float32)


def watermark(
    rng: np.random.Generator, height: int, width: int, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Watermark-like patterns: big faint diagonal words or a fine guilloche of wavy lines.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    if rng.random() < 0.5:
        word = str(rng.choice(["COPY", "DRAFT", "CONFIDENTIAL", "SAMPLE", "VOID", "ORIGINAL"]))
        try:
            font = ImageFont.load_default(size=max(8, int(float(rng.uniform(15, 40)) * mm)))
        except TypeError:
            font = ImageFont.load_default()
        im = Image.new("L", (width, height), 0)
        d = ImageDraw.Draw(im)
        step = int(max(font.getbbox(word)[3] * 2.5, 10))
        for yy in range(-height, 2 * height, step):
            xx = int(rng.uniform(-width * 0.5, 0))
            d.text((xx, yy), (word + "   ") * 8, fill=255, font=font)
        im = im.rotate(float(rng.uniform(-50, 50)), resample=Image.BICUBIC)
        cov = np.asarray(im, np.float32) / 255.0
        cov = gaussian_blur(cov, 0.3 * mm)
    else:
        (x, y), _ = _grid(height, width, 1.0)
        p = float(rng.uniform(0.8, 2.5)) * mm
        amp = float(rng.uniform(1, 5)) * mm
        k = 2 * np.pi / (float(rng.uniform(10, 40)) * mm)
        wave = np.sin((y + amp * np.sin(x * k)) / p * 2 * np.pi)
        cov = np.clip(wave * 3 - 2, 0, 1).astype(np.float32)
    a = float(rng.uniform(0.03, 0.12)) * strength
    return np.clip(1.0 - a * cov, 0.05, 1.0).astype(np.float32)


def bleed_through(
    coverage: np.ndarray, rng: np.random.Generator, dpi: float, strength: float = 1.0
) -> np.ndarray:
    """Text from the back of the sheet showing through: mirrored, blurred, faint.

    Parameters
    ----------
    coverage : (H, W) float32 in [0, 1]
        Ink coverage of the back page (1 = ink), before mirroring.

    Returns
    -------
    (H, W) float32 in (0, 1]
    """
    mm = dpi / 25.4
    back = coverage[:, ::-1]
    back = gaussian_blur(back, float(rng.uniform(0.1, 0.4)) * mm)
    a = float(rng.uniform(0.06, 0.3)) * strength
    return np.clip(1.0 - a * back, 0.05, 1.0).astype(np.float32)


def jpeg(page: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip a page through JPEG at *quality* (1-95) with Pillow; (H, W) float32 in [0, 1]."""
    im = Image.fromarray(np.round(np.clip(page, 0, 1) * 255).astype(np.uint8), "L")
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("L"), np.float32) / 255.0
