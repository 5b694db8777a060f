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

__all__ = ["DEFAULT_TILE", "Cancelled", "clean_image", "clean_image_untiled", "plan_tiles"]

DEFAULT_TILE = 512
"""Default tile (window) side in px."""

MAX_BATCH_PIXELS = 512 * 512
"""Most input px sent to the session in one call; equal-shape tiles are batched up to this."""


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
    540 x 420 px NoisyOffice page under 512 px tiles, say) runs as one window: the same
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

    Parameters
    ----------
    pixels : ndarray, (H, W) float32 in [0, 1], 1 = paper
    session : ModelSession
    tile : int
        Window side in px (default 512), rounded down to the model's size multiple.
    progress : callable or None
        ``progress(done_tiles, total_tiles)``, called after every tile.
    cancel : callable or None
        ``cancel() -> bool``, polled before every tile is cut (tiles batched into one
        session call are all polled before that call).
    max_batch_pixels : int
        Most input px per session call (keyword only); 1 sends one tile per call.

    Returns
    -------
    ndarray, (H, W) float32 in [0, 1]
        Clipped to [0, 1].

    Raises
    ------
    Cancelled
        When ``cancel()`` returns true.
    ValueError
        When the page is not (H, W) or ``tile`` is too small for the receptive field.
    """
    pixels = _check_page(pixels)
    h, w = pixels.shape
    tiles = plan_tiles(h, w, session, tile)
    total = len(tiles)
    out = np.empty((h, w), np.float32)
    wy0, wy1, wx0, wx1 = tiles[0].window
    th, tw = wy1 - wy0, wx1 - wx0  # every window of the grid has this shape
    per_call = max(1, max_batch_pixels // (th * tw))
    batch = np.empty((min(per_call, total), th, tw, 1), np.float32)  # (N, th, tw, 1)
    done = 0
    while done < total:
        group = tiles[done : done + per_call]
        for k, t in enumerate(group):
            if cancel is not None and cancel():
                raise Cancelled(f"cancelled after {done} of {total} tiles")
            batch[k, :, :, 0] = crop_window(pixels, t.window)  # (th, tw)
        result = session.run(batch[: len(group)])  # (n, th, tw, 1)
        for k, t in enumerate(group):
            cy0, cy1, cx0, cx1 = t.core
            ys, xs = t.core_in_window
            # cores lie in the padded page; keep the part inside the real page (H, W)
            ry1, rx1 = min(cy1, h), min(cx1, w)
            if cy0 >= h or cx0 >= w:
                continue
            core = result[k, ys, xs, 0][: ry1 - cy0, : rx1 - cx0]
            np.clip(core, 0.0, 1.0, out=out[cy0:ry1, cx0:rx1])
        del result
        for _ in group:
            done += 1
            if progress is not None:
                progress(done, total)
    return out


def clean_image_untiled(pixels: np.ndarray, session: ModelSession) -> np.ndarray:
    """Clean a page with one whole-page inference (the reference :func:`clean_image` matches).

    Memory grows with the page (the model's activations for the whole page); use only
    for small pages, tests and benchmarks.

    Parameters
    ----------
    pixels : ndarray, (H, W) float32 in [0, 1], 1 = paper
    session : ModelSession

    Returns
    -------
    ndarray, (H, W) float32 in [0, 1]
        Clipped to [0, 1].
    """
    pixels = _check_page(pixels)
    padded, undo = pad_reflect(pixels, session.info.size_multiple)  # (Hp, Wp)
    result = session.run(padded[None, :, :, None])  # (1, Hp, Wp, 1)
    return np.clip(undo(result[0, :, :, 0]), 0.0, 1.0)  # (H, W)
