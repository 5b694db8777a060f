"""Tile layout for fully-convolutional inference: reflect pad, tile grid, window cut, stitch.

Small helpers that each do one layout step (after chaiNNer's tiling helpers), so that
cleaning a page tile by tile gives the same result as running the denoising
autoencoder on the whole page at once (to float rounding):

1. The whole page is (virtually) reflect-padded at the bottom and right to the
   model's ``size_multiple`` (:func:`pad_reflect` is the reference; the tiles read
   the same padded values through :func:`reflect_index` without copying the page).
2. :func:`tile_grid` splits the padded page into equal windows of at most ``tile`` px
   that overlap by at least the receptive field (each side shrunk to the smallest that
   needs no more windows, so little is computed twice). Window starts are multiples of
   ``size_multiple`` and windows are clipped to the padded page, never padded again,
   so a window at the page border sees exactly what whole-page inference sees there.
3. Each window keeps only its *core*; cores partition the page and lie at least
   ``margin >= receptive_field // 2`` px inside their window except at the page
   border, so the values there do not depend on where the window was cut.

No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Tile",
    "crop_window",
    "margin_for",
    "pad_reflect",
    "reflect_index",
    "round_up",
    "tile_grid",
]


def round_up(value: int, multiple: int) -> int:
    """Smallest multiple of ``multiple`` that is >= ``value`` (both int >= 0 / >= 1)."""
    return -(-value // multiple) * multiple


def margin_for(receptive_field: int, size_multiple: int = 1) -> int:
    """Margin in px kept around each tile core: ``receptive_field // 2`` rounded up to ``size_multiple``.

    Parameters
    ----------
    receptive_field : int
        Width in px of the input window that affects one output pixel.
    size_multiple : int
        The model's size multiple (window starts and sizes stay multiples of it).

    Returns
    -------
    int
        Margin in px; adjacent windows overlap by at least twice this (>= receptive field - 1).
    """
    return round_up(max(receptive_field, 1) // 2, size_multiple)


def pad_reflect(
    img: np.ndarray, multiple: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Reflect-pad an image at the bottom and right so H and W are multiples of ``multiple``.

    Parameters
    ----------
    img : ndarray, (H, W) or (H, W, C), any dtype
    multiple : int
        Size multiple (>= 1).

    Returns
    -------
    padded : ndarray, (Hp, W p[, C]) with Hp = round_up(H, multiple), Wp = round_up(W, multiple)
        ``img`` itself (no copy) when no padding is needed; else ``np.pad(..., "reflect")``.
    undo : callable
        ``undo(x)`` crops an array of the padded size (leading axes H, W) back to (H, W).
    """
    h, w = img.shape[:2]
    ph, pw = round_up(h, multiple) - h, round_up(w, multiple) - w

    def undo(x: np.ndarray) -> np.ndarray:
        # (Hp, Wp, ...) -> (H, W, ...)
        return x[:h, :w]

    if ph == 0 and pw == 0:
        return img, undo
    widths = [(0, ph), (0, pw)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, widths, mode="reflect"), undo


def reflect_index(index: np.ndarray, size: int) -> np.ndarray:
    """Map indices past ``[0, size)`` back into it the way ``np.pad(mode="reflect")`` does.

    Reflection without repeating the edge sample (``... 2 1 | 0 1 2 ... n-1 | n-2 ...``),
    periodic with period ``2 * (size - 1)``; a size of 1 maps everything to 0.

    Parameters
    ----------
    index : ndarray of int
    size : int
        Length of the axis (>= 1).

    Returns
    -------
    ndarray of int, same shape, values in [0, size)
    """
    index = np.asarray(index)
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    i = np.mod(index, period)
    return np.where(i >= size, period - i, i)


@dataclass(frozen=True)
class Tile:
    """One tile: the window sent to the model and the core it contributes, in padded-page px.

    Attributes
    ----------
    window : tuple (y0, y1, x0, x1)
        Input window (half-open); size (y1 - y0, x1 - x0) is the same for every tile
        of a grid and a multiple of the size multiple.
    core : tuple (y0, y1, x0, x1)
        Output region kept from this tile; the cores of a grid partition the padded page.
    """

    window: tuple[int, int, int, int]
    core: tuple[int, int, int, int]

    @property
    def core_in_window(self) -> tuple[slice, slice]:
        """Slices of the core inside the window's output (rows, columns)."""
        wy0, _, wx0, _ = self.window
        cy0, cy1, cx0, cx1 = self.core
        return slice(cy0 - wy0, cy1 - wy0), slice(cx0 - wx0, cx1 - wx0)


def _axis_windows(
    length: int, tile: int, margin: int, multiple: int = 1
) -> list[tuple[int, int, int, int]]:
    """Windows and cores along one axis: list of (w0, w1, c0, c1).

    ``length`` and ``tile`` are multiples of ``multiple`` (the size multiple), as is
    ``2 * margin``. The axis needs ``n`` windows of at most ``tile`` px stepping by
    ``window - 2 * margin``; the window is then shrunk to the smallest multiple of
    ``multiple`` that still covers the axis with ``n`` windows, so the overlaps are as
    small as the margin allows instead of the last window overlapping its neighbour by up
    to a whole step (an A4 300-dpi page in 768 px tiles: 1.32 instead of 1.63 px through
    the network per page px).
    """
    if length <= tile:
        return [(0, length, 0, length)]
    n = 1 + round_up(length - tile, tile - 2 * margin) // (tile - 2 * margin)
    # n windows of side t cover the axis when n * t - (n - 1) * 2 * margin >= length
    tile = min(tile, round_up(-(-(length + 2 * margin * (n - 1)) // n), multiple))
    step = tile - 2 * margin
    starts = [min(i * step, length - tile) for i in range(n)]
    out = []
    for i, s in enumerate(starts):
        # core boundaries: middle of the overlap with the neighbour (>= margin inside both)
        c0 = 0 if i == 0 else (starts[i - 1] + tile + s) // 2
        c1 = length if i == n - 1 else (s + tile + starts[i + 1]) // 2
        out.append((s, s + tile, c0, c1))
    return out


def tile_grid(
    height: int, width: int, tile: int, receptive_field: int, size_multiple: int = 1
) -> list[Tile]:
    """Split a padded page into equal, overlapping windows and their non-overlapping cores.

    Parameters
    ----------
    height, width : int
        Padded page size in px, multiples of ``size_multiple``.
    tile : int
        Largest window side in px (rounded down to ``size_multiple``); pages smaller
        than a tile give one window of the page's size.
    receptive_field : int
        The model's receptive field in px.
    size_multiple : int
        The model's size multiple.

    Returns
    -------
    list of Tile
        Row-major order; every window has the same shape, at most ``(tile, tile)``:
        along each axis as many windows as ``tile`` px windows would need, each the
        smallest multiple of ``size_multiple`` that still covers the axis with them.

    Raises
    ------
    ValueError
        When the page is not a multiple of ``size_multiple``, or ``tile`` leaves no core
        (``tile < 2 * margin + size_multiple``); the message gives the smallest tile.
    """
    m = size_multiple
    if height % m or width % m:
        raise ValueError(f"padded page {height}x{width} px is not a multiple of {m}")
    margin = margin_for(receptive_field, m)
    tile = (tile // m) * m
    smallest = 2 * margin + m
    if tile < smallest and (height > tile or width > tile):
        raise ValueError(
            f"tile {tile} px is too small for receptive field {receptive_field} px "
            f"(size multiple {m}); use a tile of at least {smallest} px"
        )
    rows = _axis_windows(height, tile, margin, m)  # (n_rows,) of (w0, w1, c0, c1)
    cols = _axis_windows(width, tile, margin, m)
    return [
        Tile(window=(wy0, wy1, wx0, wx1), core=(cy0, cy1, cx0, cx1))
        for (wy0, wy1, cy0, cy1) in rows
        for (wx0, wx1, cx0, cx1) in cols
    ]


def crop_window(img: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    """Cut a window of the reflect-padded page from the unpadded page.

    Equal to ``pad_reflect(img, m)[0][y0:y1, x0:x1]`` but without padding the whole
    page: a plain view when the window lies inside ``img``, else a gather with
    :func:`reflect_index`.

    Parameters
    ----------
    img : ndarray, (H, W) float32
        The unpadded page.
    window : tuple (y0, y1, x0, x1)
        In padded-page px (may extend past H and W).

    Returns
    -------
    ndarray, (y1 - y0, x1 - x0) float32
    """
    y0, y1, x0, x1 = window
    h, w = img.shape[:2]
    if y1 <= h and x1 <= w:
        return img[y0:y1, x0:x1]
    rows = reflect_index(np.arange(y0, y1), h)
    cols = reflect_index(np.arange(x0, x1), w)
    return img[np.ix_(rows, cols)]
