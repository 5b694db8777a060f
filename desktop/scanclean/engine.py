"""Clean one page with a denoising autoencoder, tile by tile.

:func:`clean_image` runs a :class:`~scanclean.model.ModelSession` over a page in
overlapping tiles (see :mod:`scanclean.tiling`) so that memory is bounded by the tile,
not the page, and the result equals whole-page inference (:func:`clean_image_untiled`)
to float rounding. Cancel is polled before every tile; progress is reported after
every tile.

No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .model import ModelSession
from .tiling import crop_window, pad_reflect, round_up, tile_grid

__all__ = [
    "DEFAULT_TILE",
    "FLIPS",
    "Cancelled",
    "clean_image",
    "average_views",
    "clean_image_untiled",
    "mirror_views",
    "plan_tiles",
]

DEFAULT_TILE = 768
"""Default largest tile (window) side in px.

768 px windows (each side shrunk to the smallest that needs no more windows) put 1.32 px
through the network per page px on an A4 300-dpi page, against 1.57 for 512 px ones,
and cost about 100-200 MiB more peak memory (``benchmarks/bench_engine.py``; figures in
the README's Benchmarks section).
"""

MAX_BATCH_PIXELS = 512 * 512
"""Most input px sent to the session in one call; equal-shape tiles are batched up to this."""


FLIPS = (1, 2, 4)
"""Allowed numbers of mirror images averaged per window (see :func:`mirror_views`)."""


def _check_flips(flips: int) -> int:
    if flips not in FLIPS:
        raise ValueError(f"flips must be one of {FLIPS}, not {flips!r}")
    return flips


def _mirror(stack: np.ndarray, k: int) -> np.ndarray:
    """View ``k`` of a (n, h, w) stack: as is, left-right, upside down, both (self-inverse)."""
    return stack[:, :: -1 if k & 2 else 1, :: -1 if k & 1 else 1]


def mirror_views(windows: np.ndarray, flips: int) -> np.ndarray:
    """Stack each window's mirror images: the batch the self-ensemble runs.

    Parameters
    ----------
    windows : ndarray, (n, h, w) float32
    flips : int
        1 (as is), 2 (and mirrored left-right) or 4 (and upside down, and both).

    Returns
    -------
    ndarray, (flips * n, h, w) float32
        View ``k`` of window ``i`` at row ``k * n + i``; ``windows`` itself for 1.
    """
    if flips == 1:
        return windows  # one pass: no copy on the default path
    return np.concatenate([_mirror(windows, k) for k in range(flips)], axis=0)


def average_views(outputs: np.ndarray, flips: int) -> np.ndarray:
    """Mirror the model's outputs of :func:`mirror_views` back and average them.

    Parameters
    ----------
    outputs : ndarray, (flips * n, h, w) float32
    flips : int

    Returns
    -------
    ndarray, (n, h, w) float32
        ``outputs`` itself for 1.
    """
    if flips == 1:
        return outputs
    n = outputs.shape[0] // flips
    total = outputs[:n].copy()  # (n, h, w)
    for k in range(1, flips):
        total += _mirror(outputs[k * n : (k + 1) * n], k)
    total /= np.float32(flips)
    return total


class Cancelled(Exception):
    """Cleaning was cancelled by the caller's ``cancel()`` callback."""


def _check_page(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.ndim != 2:
        raise ValueError(f"page must be (H, W) grey, got shape {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(f"page has zero size {pixels.shape}")
    if pixels.dtype != np.float32:
        pixels = pixels.astype(np.float32)
    return pixels


def plan_tiles(height: int, width: int, session: ModelSession, tile: int = DEFAULT_TILE):
    """The tile grid :func:`clean_image` uses for a page of ``height`` x ``width`` px.

    A page whose padded size has no more px than one ``tile`` x ``tile`` window (a
    540 x 420 px NoisyOffice page under 768 px tiles, say) runs as one window: the same
    memory as one tile, and no px computed twice in overlaps. Larger pages get square
    windows of ``tile`` px.

    Returns
    -------
    list of scanclean.tiling.Tile
        In padded-page px (the page reflect-padded to the model's size multiple).

    Raises
    ------
    ValueError
        When ``tile`` is too small for the model's receptive field.
    """
    m = session.info.size_multiple
    hp, wp = round_up(height, m), round_up(width, m)
    if hp * wp <= tile * tile:
        tile = max(hp, wp)  # one window of the whole padded page
    return tile_grid(hp, wp, tile, session.info.receptive_field, m)


def clean_image(
    pixels: np.ndarray,
    session: ModelSession,
    tile: int = DEFAULT_TILE,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    flips: int = 1,
    max_batch_pixels: int = MAX_BATCH_PIXELS,
) -> np.ndarray:
    """Clean a grey page with the denoising autoencoder in overlapping tiles.

    The page is reflect-padded (virtually, without a copy) at the bottom and right to
    the model's size multiple; windows of ``tile`` px overlapping by at least the
    receptive field (one window when the page has no more px than a tile, see
    :func:`plan_tiles`) are cut from it, run through the model (equal-shape windows
    batched, at most ``max_batch_pixels`` px per call) and only each window's core is
    written into one preallocated output. The result equals whole-page inference
    (:func:`clean_image_untiled`) to float rounding (tested to 1e-5). Layout after
    chaiNNer's tiled upscaling (split into small layout helpers).

    With ``flips`` 2 or 4 every window also runs mirrored (left-right, upside down, both)
    and the un-mirrored outputs are averaged: the geometric self-ensemble of Timofte et
    al., "Seven ways to improve example-based single image super resolution" (CVPR 2016)
    and EDSR (Lim et al., CVPRW 2017). Our models are trained with these flips, so each
    view is an equally good guess; averaging them lowers the error at ``flips`` times the
    compute (see models/README.md for the figures).

    Parameters
    ----------
    pixels : ndarray, (H, W) float32 in [0, 1], 1 = paper
    session : ModelSession
    tile : int
        Largest window side in px (default :data:`DEFAULT_TILE`), rounded down to the
        model's size multiple.
    progress : callable or None
        ``progress(done_tiles, total_tiles)``, called after every tile.
    cancel : callable or None
        ``cancel() -> bool``, polled before every tile is cut (tiles batched into one
        session call are all polled before that call).
    flips : int
        Mirror images averaged per window (keyword only): 1 (default, fastest), 2 or 4.
    max_batch_pixels : int
        Most input px per session call (keyword only); 1 sends one tile (or one mirror
        image of a tile) per call, so memory stays that of one window whatever ``flips``.

    Returns
    -------
    ndarray, (H, W) float32 in [0, 1]
        Clipped to [0, 1].

    Raises
    ------
    Cancelled
        When ``cancel()`` returns true.
    ValueError
        When the page is not (H, W), ``tile`` is too small for the receptive field or
        ``flips`` is not 1, 2 or 4.
    """
    flips = _check_flips(flips)
    pixels = _check_page(pixels)
    h, w = pixels.shape
    tiles = plan_tiles(h, w, session, tile)
    total = len(tiles)
    out = np.empty((h, w), np.float32)
    wy0, wy1, wx0, wx1 = tiles[0].window
    th, tw = wy1 - wy0, wx1 - wx0  # every window of the grid has this shape
    per_call = max(1, max_batch_pixels // (th * tw))  # windows (or views) per session call
    tiles_per_group = max(1, per_call // flips)
    batch = np.empty((min(tiles_per_group, total), th, tw), np.float32)  # (N, th, tw)
    done = 0
    while done < total:
        group = tiles[done : done + tiles_per_group]
        for k, t in enumerate(group):
            if cancel is not None and cancel():
                raise Cancelled(f"cancelled after {done} of {total} tiles")
            batch[k] = crop_window(pixels, t.window)  # (th, tw)
        views = mirror_views(batch[: len(group)], flips)[..., None]  # (flips * n, th, tw, 1)
        calls = [session.run(views[i : i + per_call]) for i in range(0, len(views), per_call)]
        outputs = calls[0] if len(calls) == 1 else np.concatenate(calls)  # (flips * n, th, tw, 1)
        result = average_views(outputs[..., 0], flips)  # (n, th, tw)
        for k, t in enumerate(group):
            cy0, cy1, cx0, cx1 = t.core
            ys, xs = t.core_in_window
            # cores lie in the padded page; keep the part inside the real page (H, W)
            ry1, rx1 = min(cy1, h), min(cx1, w)
            if cy0 >= h or cx0 >= w:
                continue
            core = result[k, ys, xs][: ry1 - cy0, : rx1 - cx0]
            np.clip(core, 0.0, 1.0, out=out[cy0:ry1, cx0:rx1])
        del result
        for _ in group:
            done += 1
            if progress is not None:
                progress(done, total)
    return out


def clean_image_untiled(pixels: np.ndarray, session: ModelSession, flips: int = 1) -> np.ndarray:
    """Clean a page with one whole-page inference (the reference :func:`clean_image` matches).

    Memory grows with the page (the model's activations for the whole page); use only
    for small pages, tests and benchmarks.

    Parameters
    ----------
    pixels : ndarray, (H, W) float32 in [0, 1], 1 = paper
    session : ModelSession
    flips : int
        Mirror images of the padded page averaged, as in :func:`clean_image`.

    Returns
    -------
    ndarray, (H, W) float32 in [0, 1]
        Clipped to [0, 1].
    """
    flips = _check_flips(flips)
    pixels = _check_page(pixels)
    padded, undo = pad_reflect(pixels, session.info.size_multiple)  # (Hp, Wp)
    views = mirror_views(padded[None], flips)  # (flips, Hp, Wp)
    result = average_views(session.run(views[..., None])[..., 0], flips)  # (1, Hp, Wp)
    return np.clip(undo(result[0]), 0.0, 1.0)  # (H, W)
