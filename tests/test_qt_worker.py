"""The QRunnable workers on their own: one result per page, tile progress, cooperative
cancel, errors per page, and the loader."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import make_page  # noqa: E402

pytest.importorskip("pytestqt")

from PySide6.QtCore import QThreadPool  # noqa: E402

from scanclean.qt.qt_worker import ModelSessionCache, QtCleanWorker, QtLoadWorker  # noqa: E402

TIMEOUT = 60_000


@pytest.fixture
def pool():
    pool = QThreadPool()
    yield pool
    pool.waitForDone(10_000)


def collect(worker):
    seen = {"progress": [], "result": [], "error": [], "started": [], "finished": []}
    sig = worker.signals
    sig.started.connect(lambda tag: seen["started"].append(tag))
    sig.progress.connect(lambda key, done, total: seen["progress"].append((key, done, total)))
    sig.result.connect(lambda key, value: seen["result"].append((key, value)))
    sig.error.connect(lambda key, message: seen["error"].append((key, message)))
    sig.finished.connect(lambda tag: seen["finished"].append(tag))
    return seen


def test_clean_worker_emits_one_result_per_page_with_tile_progress(qtbot, pool, tiny_model_path):
    from scanclean.engine import clean_image

    cache = ModelSessionCache(intra_op_threads=1)
    pages = [make_page(70, 90, seed=i) for i in range(3)]
    jobs = [(f"k{i}", p, f"page {i}") for i, p in enumerate(pages)]
    worker = QtCleanWorker(jobs, lambda: cache.get(tiny_model_path), tile=32, tag="T")
    seen = collect(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT) as blocker:
        pool.start(worker)
    assert blocker.args == ["T"]
    assert seen["started"] == ["T"] and seen["error"] == []
    assert [k for k, _ in seen["result"]] == ["k0", "k1", "k2"]
    session = cache.get(tiny_model_path)
    for (_key, cleaned), page in zip(seen["result"], pages, strict=True):
        assert isinstance(cleaned, np.ndarray) and cleaned.dtype == np.float32
        np.testing.assert_allclose(cleaned, clean_image(page, session, tile=32), atol=1e-5)
    k0 = [(d, t) for k, d, t in seen["progress"] if k == "k0"]
    total = k0[-1][1]
    assert total > 1 and k0[0] == (0, 0) and k0[-1] == (total, total)
    assert [d for d, _ in k0[1:]] == list(range(1, total + 1))


def test_clean_worker_cancel_stops_between_tiles(qtbot, pool, tiny_model_path):
    cache = ModelSessionCache(intra_op_threads=1)
    jobs = [(i, make_page(256, 256, seed=i), f"page {i}") for i in range(8)]
    worker = QtCleanWorker(jobs, lambda: cache.get(tiny_model_path), tile=16)
    seen = collect(worker)

    def cancel_after_some_tiles(key, done, total):
        if done >= 3:
            worker.cancel()

    worker.signals.progress.connect(cancel_after_some_tiles)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT):
        pool.start(worker)
    assert worker.cancelled
    assert len(seen["result"]) < len(jobs)
    assert seen["error"] == []


def test_clean_worker_reports_a_bad_page_and_goes_on(qtbot, pool, tiny_model_path):
    cache = ModelSessionCache(intra_op_threads=1)
    jobs = [
        ("good1", make_page(40, 40, seed=1), "good1.png"),
        ("bad", np.zeros((4, 4, 3), np.float32), "bad.png"),  # not an (H, W) page
        ("good2", make_page(40, 40, seed=2), "good2.png"),
    ]
    worker = QtCleanWorker(jobs, lambda: cache.get(tiny_model_path), tile=32)
    seen = collect(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT):
        pool.start(worker)
    assert [k for k, _ in seen["result"]] == ["good1", "good2"]
    ((key, message),) = seen["error"]
    assert key == "bad" and message.startswith("bad.png:")


def test_clean_worker_reports_an_unusable_model(qtbot, pool, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    cache = ModelSessionCache(intra_op_threads=1)
    worker = QtCleanWorker([("k", make_page(20, 20), "p")], lambda: cache.get(bad))
    seen = collect(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT):
        pool.start(worker)
    assert seen["result"] == []
    ((key, message),) = seen["error"]
    assert key is None and "bad.onnx" in message


def test_session_cache_opens_a_model_once(tiny_model_path, tmp_path):
    from scanclean.model import ModelError

    cache = ModelSessionCache(intra_op_threads=1)
    first = cache.get(tiny_model_path)
    assert cache.get(str(tiny_model_path)) is first
    assert cache.cached(tiny_model_path) is first
    with pytest.raises(ModelError):
        cache.get(tmp_path / "missing.onnx")
    assert cache.cached(tiny_model_path) is first  # a failure keeps the open model


def test_load_worker_reads_files_and_reports_unreadable_ones(qtbot, pool, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((10, 12), 200, np.uint8)).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    worker = QtLoadWorker([good, broken], tag=7)
    seen = collect(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT):
        pool.start(worker)
    ((key, pages),) = seen["result"]
    assert key == (7, good) and pages[0].pixels.shape == (10, 12)
    ((key, message),) = seen["error"]
    assert key == (7, broken) and "broken.png" in message
