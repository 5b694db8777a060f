"""Tests of scanclean.tiling: reflect pad with undo, reflect index, tile grid."""

from __future__ import annotations

import numpy as np
import pytest

from scanclean.tiling import (
    crop_window,
    margin_for,
    pad_reflect,
    reflect_index,
    tile_grid,
)


@pytest.mark.parametrize("shape", [(17, 9), (16, 16), (1, 3), (5, 1)])
@pytest.mark.parametrize("multiple", [1, 8])
def test_pad_reflect_and_undo(shape, multiple):
    img = np.random.default_rng(0).uniform(size=shape).astype(np.float32)
    padded, undo = pad_reflect(img, multiple)
    assert padded.shape[0] % multiple == 0 and padded.shape[1] % multiple == 0
    assert padded.shape[0] - shape[0] < multiple and padded.shape[1] - shape[1] < multiple
    np.testing.assert_array_equal(undo(padded), img)
    np.testing.assert_array_equal(
        padded,
        np.pad(
            img, [(0, padded.shape[0] - shape[0]), (0, padded.shape[1] - shape[1])], mode="reflect"
        ),
    )


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_reflect_index_matches_numpy_pad(size):
    data = np.arange(size)
    idx = np.arange(0, size + 40)
    expected = np.pad(data, (0, 40), mode="reflect")
    np.testing.assert_array_equal(data[reflect_index(idx, size)], expected)


def test_crop_window_equals_padded_page_slice():
    img = np.random.default_rng(1).uniform(size=(13, 10)).astype(np.float32)
    padded, _ = pad_reflect(img, 8)  # (16, 16)
    for window in [(0, 8, 0, 8), (8, 16, 8, 16), (4, 16, 0, 16), (0, 13, 0, 10)]:
        y0, y1, x0, x1 = window
        np.testing.assert_array_equal(crop_window(img, window), padded[y0:y1, x0:x1])


def _random_grids(n=40, seed=0):
    """Seeded (height, width, tile, rf, m) combinations with a tile large enough for rf."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = int(rng.choice([1, 8, 16]))
        rf = int(rng.integers(1, 120))
        smallest = 2 * margin_for(rf, m) + m
        tile = int(rng.integers(smallest, smallest + 300))
        height, width = (int(v) * m for v in rng.integers(1, 900 // m + 2, size=2))
        out.append((height, width, tile, rf, m))
    return out


@pytest.mark.parametrize(
    ("height", "width", "tile", "rf", "m"),
    [(520, 392, 128, 5, 1), (520, 392, 128, 20, 8), (64, 64, 512, 5, 1), (1000, 33, 100, 9, 1)]
    + _random_grids(),
)
def test_grid_cores_partition_page_with_margin(height, width, tile, rf, m):
    tiles = tile_grid(height, width, tile, rf, m)
    margin = margin_for(rf, m)
    cover = np.zeros((height, width), np.int32)
    shapes = set()
    for t in tiles:
        wy0, wy1, wx0, wx1 = t.window
        cy0, cy1, cx0, cx1 = t.core
        shapes.add((wy1 - wy0, wx1 - wx0))
        assert 0 <= wy0 and wy1 <= height and 0 <= wx0 and wx1 <= width
        assert wy0 % m == 0 and wx0 % m == 0
        assert (wy1 - wy0) % m == 0 and (wx1 - wx0) % m == 0
        # the core is at least `margin` inside its window, except at the page border
        assert cy0 == 0 or cy0 - wy0 >= margin
        assert cx0 == 0 or cx0 - wx0 >= margin
        assert cy1 == height or wy1 - cy1 >= margin
        assert cx1 == width or wx1 - cx1 >= margin
        cover[cy0:cy1, cx0:cx1] += 1
    assert (cover == 1).all()
    assert len(shapes) == 1  # equal windows (batchable)
    assert max(shapes.pop()) <= max(tile, m)


@pytest.mark.parametrize(
    ("length", "tile", "rf", "m"),
    [(3512, 768, 112, 8), (7016, 512, 112, 8), (2480, 1024, 112, 8), (1000, 100, 9, 1)],
)
def test_windows_are_the_smallest_that_need_no_more_of_them(length, tile, rf, m):
    rows = tile_grid(length, m, tile, rf, m)  # one column of windows along `length`
    side = rows[0].window[1] - rows[0].window[0]
    assert side <= tile
    assert tile_grid(length, m, side, rf, m) == rows  # `side` px windows: the same grid
    # a window one size multiple smaller needs more windows
    assert len(tile_grid(length, m, side - m, rf, m)) > len(rows)


def test_a4_300dpi_height_in_768px_tiles():
    # 3508 px padded to 3512; margin 56: 768 px windows step 656, so 6 are needed, and
    # 6 windows of 680 px reach 6 * 680 - 5 * 112 = 3520 >= 3512 px (672 px: 3472)
    rows = tile_grid(3512, 8, 768, 112, 8)
    assert [t.window[:2] for t in rows] == [(i * 568, i * 568 + 680) for i in range(5)] + [
        (2832, 3512)
    ]


def test_margin_covers_half_receptive_field_rounded_to_multiple():
    assert margin_for(5, 1) == 2
    assert margin_for(20, 8) == 16
    assert margin_for(1, 1) == 0


def test_tile_too_small_for_receptive_field_is_an_error():
    with pytest.raises(ValueError, match="at least"):
        tile_grid(400, 400, 60, 61, 1)


def test_page_not_multiple_is_an_error():
    with pytest.raises(ValueError, match="multiple"):
        tile_grid(100, 100, 64, 5, 8)
