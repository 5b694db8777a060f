"""Tests of scanclean.engine: tiled cleaning equals whole-page inference; cancel; progress."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_page
from scanclean.engine import Cancelled, clean_image, clean_image_untiled
from scanclean.model import ModelSession
from scanclean.tiling import pad_reflect


def _whole_page_reference(page, session):
    """Reference written out: reflect-pad the page to the size multiple, one run, crop."""
    m = session.info.size_multiple
    h, w = page.shape
    hp, wp = -(-h // m) * m, -(-w // m) * m
    padded = np.pad(page, [(0, hp - h), (0, wp - w)], mode="reflect")
    return np.clip(session.run(padded[None, :, :, None])[0, :h, :w, 0], 0, 1)


@pytest.mark.parametrize("fixture", ["tiny_model_path", "tiny_model_multiple8_path"])
@pytest.mark.parametrize("tile", [128, 96])
def test_tiled_equals_untiled_on_odd_page(request, fixture, tile):
    session = ModelSession(request.getfixturevalue(fixture), intra_op_threads=1)
    page = make_page(517, 389, seed=3)
    tiled = clean_image(page, session, tile=tile)
    whole = _whole_page_reference(page, session)
    assert tiled.shape == page.shape and tiled.dtype == np.float32
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)
    np.testing.assert_allclose(clean_image_untiled(page, session), whole, atol=1e-6, rtol=0)
    # the model does change the page (the comparison is not trivially true)
    assert np.abs(tiled - page).mean() > 0.01


def test_batched_tiles_equal_single_tiles(tiny_model_multiple8_path):
    session = ModelSession(tiny_model_multiple8_path, intra_op_threads=1)
    page = make_page(300, 250, seed=5)
    one = clean_image(page, session, tile=64, max_batch_pixels=1)
    many = clean_image(page, session, tile=64, max_batch_pixels=64 * 64 * 5)
    np.testing.assert_allclose(one, many, atol=1e-6, rtol=0)


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (9, 130)])
def test_tiny_pages(tiny_model_multiple8_path, shape):
    session = ModelSession(tiny_model_multiple8_path, intra_op_threads=1)
    page = make_page(*shape, seed=1)
    out = clean_image(page, session, tile=64)
    assert out.shape == shape
    padded, undo = pad_reflect(page, 8)
    ref = undo(session.run(padded[None, :, :, None])[0, :, :, 0])
    np.testing.assert_allclose(out, np.clip(ref, 0, 1), atol=1e-5, rtol=0)


def test_progress_counts_every_tile(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    calls = []
    clean_image(make_page(200, 150), session, tile=64, progress=lambda d, t: calls.append((d, t)))
    total = calls[-1][1]
    # 200 px rows with windows of 64 px and step 60: 4 rows; 150 px: 3 columns
    assert total == 4 * 3
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_cancel_raises_and_is_polled_before_each_tile(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    polls = []
    done = []

    def cancel():
        polls.append(1)
        return len(polls) > 3

    with pytest.raises(Cancelled):
        clean_image(
            make_page(200, 150),
            session,
            tile=64,
            cancel=cancel,
            progress=lambda d, t: done.append(d),
            max_batch_pixels=1,
        )
    assert done == [1, 2, 3]
    assert len(polls) == 4


def test_cancel_with_batched_tiles(tiny_model_path):
    from scanclean.engine import plan_tiles

    session = ModelSession(tiny_model_path, intra_op_threads=1)
    y0, y1, x0, x1 = plan_tiles(200, 150, session, tile=64)[0].window
    done = []
    with pytest.raises(Cancelled):
        clean_image(
            make_page(200, 150),
            session,
            tile=64,
            cancel=lambda: len(done) >= 4,
            progress=lambda d, t: done.append(d),
            max_batch_pixels=(y1 - y0) * (x1 - x0) * 4,  # four windows per session call
        )
    assert done == [1, 2, 3, 4]


def test_non_2d_page_is_an_error(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    with pytest.raises(ValueError, match="H, W"):
        clean_image(np.ones((4, 4, 3), np.float32), session)


def test_a_page_within_one_tiles_pixels_runs_as_one_window(tiny_model_multiple8_path):
    from scanclean.engine import plan_tiles

    session = ModelSession(tiny_model_multiple8_path, intra_op_threads=1)
    # 96 x 40 px is wider than a 64 px tile but has fewer px than 64 x 64: one window
    assert [t.window for t in plan_tiles(40, 96, session, tile=64)] == [(0, 40, 0, 96)]
    assert len(plan_tiles(72, 96, session, tile=64)) > 1  # more px than a tile: a grid
    page = make_page(40, 93, seed=2)
    calls = []
    out = clean_image(page, session, tile=64, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]
    np.testing.assert_allclose(out, _whole_page_reference(page, session), atol=1e-6, rtol=0)


@pytest.mark.parametrize("fixture", ["tiny_model_path", "tiny_model_multiple8_path"])
@pytest.mark.parametrize("flips", [2, 4])
def test_self_ensemble_averages_the_mirrored_pages(request, fixture, flips):
    session = ModelSession(request.getfixturevalue(fixture), intra_op_threads=1)
    page = make_page(301, 229, seed=7)
    m = session.info.size_multiple
    h, w = page.shape
    padded = np.pad(page, [(0, -h % m), (0, -w % m)], mode="reflect")
    # written out: run the padded page mirrored, mirror each output back, average, crop
    mirrors = [lambda a: a, np.fliplr, np.flipud, lambda a: np.flipud(np.fliplr(a))][:flips]
    outs = [
        f(session.run(np.ascontiguousarray(f(padded))[None, :, :, None])[0, :, :, 0])
        for f in mirrors
    ]
    reference = np.clip(np.mean(outs, axis=0)[:h, :w], 0, 1)
    tiled = clean_image(page, session, tile=96, flips=flips)
    np.testing.assert_allclose(tiled, reference, atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        clean_image_untiled(page, session, flips=flips), reference, atol=1e-5
    )
    one_by_one = clean_image(page, session, tile=96, flips=flips, max_batch_pixels=1)
    np.testing.assert_allclose(one_by_one, tiled, atol=1e-6, rtol=0)
    # the mirrored runs really differ from the plain one (the model is not symmetric)
    assert np.abs(tiled - clean_image(page, session, tile=96)).mean() > 1e-3


def test_flips_must_be_1_2_or_4(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    with pytest.raises(ValueError, match="flips"):
        clean_image(make_page(40, 40), session, flips=3)
