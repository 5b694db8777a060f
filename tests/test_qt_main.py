"""The main window: adding pages (drop, folders), background cleaning, cancel, errors, saving,
models and settings. pytest-qt with QT_QPA_PLATFORM=offscreen, tiny ONNX test models only."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import TINY_METADATA, make_page, write_onnx_model  # noqa: E402

pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from scanclean.qt.qt_main import QtMainWindow, expand_paths  # noqa: E402
from scanclean.qt.qt_queue import CANCELLED, DONE, FAILED, QUEUED  # noqa: E402

TIMEOUT = 60_000  # ms; generous, the machine is shared


def write_png(path: Path, pixels: np.ndarray, dpi=(300, 300)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L").save(path, dpi=dpi)
    return path


def write_tiff(path: Path, pages: list[np.ndarray], dpi=(200, 200)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.round(p * 255).astype(np.uint8), mode="L") for p in pages]
    images[0].save(path, save_all=True, append_images=images[1:], dpi=dpi)
    return path


@pytest.fixture
def ini_settings(tmp_path):
    """A QSettings on a temporary INI file: the user's real settings are never touched."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, tiny_model_path, ini_settings):
    windows = []

    def make(settings=None, model_path=tiny_model_path, tile=64, auto=True):
        settings = settings if settings is not None else ini_settings
        settings.setValue("clean/auto", auto)
        window = QtMainWindow(settings, model_path=model_path, intra_op_threads=1, tile=tile)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def settled(window):
    return not window._loaders and not window.is_cleaning() and not window._todo


def add_and_wait(qtbot, window, paths):
    window.add_paths(paths)
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)


def by_name(window):
    return {e.label: e for e in window.page_entries()}


def drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    return event


def test_expand_paths_recurses_into_folders_and_rejects_other_files(tmp_path):
    a = write_png(tmp_path / "a.png", make_page(20, 20))
    b = write_png(tmp_path / "sub" / "deep" / "B.PNG", make_page(20, 20))
    (tmp_path / "sub" / "notes.txt").write_text("not a scan")
    write_png(tmp_path / "sub" / ".hidden" / "h.png", make_page(20, 20))
    files, rejected = expand_paths([a, tmp_path / "sub", tmp_path / "x.txt", tmp_path / "gone.png"])
    assert files == [a, b]
    reasons = dict(rejected)
    assert "no such file" in reasons[tmp_path / "x.txt"]
    assert "no such file" in reasons[tmp_path / "gone.png"]


def test_drop_of_files_and_folders_adds_their_pages(qtbot, make_window, tmp_path):
    window = make_window(auto=False)
    single = write_png(tmp_path / "in" / "single.png", make_page(40, 60, seed=1))
    folder = tmp_path / "in" / "folder"
    write_png(folder / "one.png", make_page(30, 50, seed=2))
    write_tiff(folder / "sub" / "two.tif", [make_page(30, 40, seed=3), make_page(30, 40, seed=4)])
    notes = tmp_path / "in" / "notes.txt"
    notes.write_text("hello")

    with qtbot.waitSignal(window.loading_finished, timeout=TIMEOUT):
        event = drop(window, [single, folder, notes])
    assert event.isAccepted()

    entries = window.page_entries()
    loaded = sorted(e.label for e in entries if e.page is not None)
    assert loaded == ["one.png", "single.png", "two.tif — page 1/2", "two.tif — page 2/2"]
    (bad,) = [e for e in entries if e.page is None]
    assert bad.source == notes and bad.state == FAILED and "unsupported" in bad.message
    assert "notes.txt" in window.queue.state_text(bad.key)
    # auto-clean is off: pages wait for Clean
    assert all(e.state == QUEUED for e in entries if e.page is not None)
    assert not window.is_cleaning()
    single_entry = by_name(window)["single.png"]
    assert single_entry.size_text == "60×40 px · 0.0 MP"
    np.testing.assert_allclose(
        single_entry.page.pixels, np.asarray(Image.open(single)) / 255, atol=1e-6
    )

    # the same files again are not added twice
    with qtbot.waitSignal(window.loading_finished, timeout=TIMEOUT):
        drop(window, [single])
    assert len(window.page_entries()) == len(entries)


def test_drag_enter_accepts_urls_only(make_window, tmp_path):
    from PySide6.QtGui import QDragEnterEvent

    window = make_window(auto=False)
    with_urls = QMimeData()
    with_urls.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    text_only = QMimeData()
    text_only.setText("just text")
    results = []
    for mime in (with_urls, text_only):
        rest = (
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        try:  # PySide6 >= 6.12 takes a QPointF (the QPoint form is deprecated)
            event = QDragEnterEvent(QPointF(window.rect().center()), *rest)
        except TypeError:  # older PySide6: QPoint only
            event = QDragEnterEvent(window.rect().center(), *rest)
        window.dragEnterEvent(event)
        results.append(event.isAccepted())
    assert results == [True, False]


def test_batch_cleans_every_page_and_shows_the_cleaned_side(
    qtbot, make_window, tmp_path, tiny_model_path
):
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession

    window = make_window(tile=64)
    paths = [write_png(tmp_path / f"p{i}.png", make_page(90, 130, seed=i)) for i in range(3)]
    add_and_wait(qtbot, window, paths)

    session = ModelSession(tiny_model_path, intra_op_threads=1)
    entries = window.page_entries()
    assert [e.state for e in entries] == [DONE] * 3
    for entry in entries:
        expected = clean_image(entry.page.pixels, session, tile=64)
        np.testing.assert_allclose(entry.cleaned, expected, atol=1e-5)
        assert entry.cleaned.shape == entry.page.pixels.shape
    # the selected (first) page shows both sides, same size
    assert window.queue.current_key() == entries[0].key
    assert window.compare.left.has_image() and window.compare.right.has_image()
    assert window.compare.right.sceneRect() == window.compare.left.sceneRect()
    # selecting another page shows its cleaned version
    window.queue.select_key(entries[2].key)
    shown = window.compare.right._item.pixmap().toImage()
    assert (shown.width(), shown.height()) == (130, 90)
    expected_grey = np.clip(np.rint(entries[2].cleaned * 255), 0, 255).astype(np.uint8)
    assert shown.pixel(65, 45) & 0xFF == expected_grey[45, 65]
    assert not window.batch_progress.isVisible()
    assert "3 cleaned" in window.status_label.text()


def test_cancel_stops_the_batch(qtbot, make_window, tmp_path):
    window = make_window(tile=32)
    paths = [write_png(tmp_path / f"p{i:02d}.png", make_page(256, 256, seed=i)) for i in range(12)]
    cancelled = []

    def on_first(_key):
        if not cancelled:
            cancelled.append(True)
            window.cancel()

    window.page_cleaned.connect(on_first)
    with qtbot.waitSignals([window.loading_finished, window.batch_finished], timeout=TIMEOUT):
        window.add_paths(paths)
    states = [e.state for e in window.page_entries()]
    assert len(states) == 12
    assert states.count(DONE) >= 1
    assert states.count(CANCELLED) >= 1
    assert set(states) <= {DONE, CANCELLED}
    assert not window.is_cleaning()

    # Clean picks up the cancelled pages again
    with qtbot.waitSignal(window.batch_finished, timeout=TIMEOUT):
        window.clean()
    assert [e.state for e in window.page_entries()] == [DONE] * 12


def test_corrupt_file_is_marked_failed_while_the_others_finish(qtbot, make_window, tmp_path):
    window = make_window()
    good = [write_png(tmp_path / f"good{i}.png", make_page(60, 80, seed=i)) for i in range(2)]
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    add_and_wait(qtbot, window, [good[0], corrupt, empty, good[1]])
    entries = by_name(window)
    assert entries["good0.png"].state == DONE and entries["good1.png"].state == DONE
    for name in ("corrupt.png", "empty.jpg"):
        assert entries[name].state == FAILED
        assert name in entries[name].message
    window.queue.select_key(entries["corrupt.png"].key)
    assert "failed" in window.compare.status.text()


def test_event_loop_keeps_turning_during_a_batch(qtbot, make_window, tmp_path):
    window = make_window(tile=32)
    paths = [write_png(tmp_path / f"p{i}.png", make_page(256, 256, seed=i)) for i in range(6)]
    ticks_while_cleaning = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks_while_cleaning.append(1) if window.is_cleaning() else None)
    timer.start()
    add_and_wait(qtbot, window, paths)
    timer.stop()
    assert [e.state for e in window.page_entries()] == [DONE] * 6
    # if cleaning blocked the GUI thread, the timer could not tick while it ran
    assert len(ticks_while_cleaning) >= 3


def _snapshot(paths):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_save_and_save_all_write_files_and_leave_originals_untouched(
    qtbot, make_window, tmp_path, ini_settings
):
    out = tmp_path / "out"
    out.mkdir()
    ini_settings.setValue("folders/output", str(out))
    ini_settings.setValue("output/format", "PNG")
    ini_settings.setValue("output/pattern", "{stem}-clean")
    window = make_window()
    src = tmp_path / "src"
    paths = [
        write_png(src / f"scan{i}.png", make_page(50, 70, seed=i), dpi=(300, 300)) for i in range(3)
    ]
    before = _snapshot(paths)
    add_and_wait(qtbot, window, paths)
    entries = window.page_entries()

    window.queue.select_key(entries[1].key)
    written = window.save_current()
    assert written == [out / "scan1-clean.png"]
    with Image.open(written[0]) as image:
        assert image.mode == "L" and image.size == (70, 50)
        assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
        expected = np.clip(np.rint(entries[1].cleaned * 255), 0, 255).astype(np.uint8)
        assert np.abs(np.asarray(image).astype(int) - expected).max() <= 1

    ini_settings.setValue("output/format", "JPEG")
    written = window.save_all()
    assert sorted(p.name for p in written) == [
        "scan0-clean.jpg",
        "scan1-clean.jpg",
        "scan2-clean.jpg",
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert _snapshot(paths) == before
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))


def test_save_never_writes_over_an_original(qtbot, make_window, tmp_path, ini_settings):
    src = tmp_path / "src"
    path = write_png(src / "page.png", make_page(40, 40))
    before = _snapshot([path])
    ini_settings.setValue("folders/output", str(src))
    ini_settings.setValue("output/pattern", "{stem}")
    ini_settings.setValue("output/format", "PNG")
    window = make_window()
    add_and_wait(qtbot, window, [path])
    assert window.save_all() == []
    assert "original" in window.last_error and "page.png" in window.last_error
    assert _snapshot([path]) == before


def test_save_asks_before_replacing_an_existing_output(
    qtbot, make_window, tmp_path, ini_settings, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "scan-clean.png"
    existing.write_bytes(b"keep me")
    ini_settings.setValue("folders/output", str(out))
    window = make_window()
    add_and_wait(qtbot, window, [write_png(tmp_path / "scan.png", make_page(40, 60))])

    asked = []

    def answer_no(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    assert window.save_current() == []
    assert existing.read_bytes() == b"keep me"
    assert len(asked) == 1 and "scan-clean.png" in asked[0]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.save_current() == [existing]
    with Image.open(existing) as image:
        assert image.size == (60, 40)


def test_output_folder_is_asked_once_and_remembered(
    qtbot, make_window, tmp_path, ini_settings, monkeypatch
):
    from scanclean.qt import qt_dialogs

    out = tmp_path / "chosen"
    out.mkdir()
    calls = []

    def fake_exec(dialog):
        calls.append(1)
        dialog.folder_edit.setText(str(out))
        dialog.format_box.setCurrentText("TIFF")
        dialog.pattern_edit.setText("clean_{stem}")
        return qt_dialogs.QtOutputDialog.DialogCode.Accepted

    monkeypatch.setattr(qt_dialogs.QtOutputDialog, "exec", fake_exec)
    window = make_window()
    add_and_wait(
        qtbot,
        window,
        [write_png(tmp_path / f"s{i}.png", make_page(30, 30, seed=i)) for i in range(2)],
    )
    assert [p.name for p in window.save_all()] == ["clean_s0.tiff", "clean_s1.tiff"]
    window.queue.select_key(window.page_entries()[0].key)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.save_current() == [out / "clean_s0.tiff"]
    assert len(calls) == 1
    assert ini_settings.value("folders/output") == str(out)


def test_multi_page_tiff_saves_back_into_one_file(
    qtbot, make_window, tmp_path, ini_settings, monkeypatch
):
    out = tmp_path / "out"
    ini_settings.setValue("folders/output", str(out))
    out.mkdir()
    ini_settings.setValue("output/format", "TIFF")
    window = make_window()
    pages = [make_page(40, 50, seed=s) for s in range(3)]
    src = write_tiff(tmp_path / "doc.tif", pages, dpi=(200, 200))
    add_and_wait(qtbot, window, [src])
    assert len(window.page_entries()) == 3
    (written,) = window.save_all()
    with Image.open(written) as image:
        assert image.n_frames == 3
        assert tuple(round(v) for v in image.info["dpi"]) == (200, 200)
    assert written == out / "doc-clean.tiff"
    # other formats hold one page: a multi-page input still saves back as one TIFF
    ini_settings.setValue("output/format", "PNG")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.save_all() == [written]


def test_bad_model_is_refused_and_the_previous_model_stays(
    qtbot, make_window, tmp_path, tiny_model_path
):
    window = make_window()
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"this is not an onnx file")
    wrong_rank = write_onnx_model(tmp_path / "rank3.onnx", input_shape=["N", "H", "W"])
    for path in (bad, wrong_rank, tmp_path / "missing.onnx"):
        assert window.set_model(path) is False
        assert path.name in window.last_error
        assert window.model_path == tiny_model_path
    add_and_wait(qtbot, window, [write_png(tmp_path / "p.png", make_page(40, 40))])
    assert window.page_entries()[0].state == DONE


def test_switching_models_recleans_the_pages(qtbot, make_window, tmp_path, ini_settings):
    window = make_window()
    add_and_wait(
        qtbot,
        window,
        [write_png(tmp_path / f"p{i}.png", make_page(50, 50, seed=i)) for i in range(2)],
    )
    first = [e.cleaned.copy() for e in window.page_entries()]
    other = write_onnx_model(tmp_path / "other.onnx", seed=99)
    assert window.set_model(other) is True
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)
    assert window.model_path == other
    assert ini_settings.value("model/path") == str(other)
    second = [e.cleaned for e in window.page_entries()]
    assert all(e.state == DONE for e in window.page_entries())
    assert all(np.abs(a - b).max() > 1e-3 for a, b in zip(first, second, strict=True))


def test_best_quality_recleans_with_four_mirror_images_and_is_remembered(
    qtbot, make_window, tmp_path, ini_settings, tiny_model_path
):
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession

    window = make_window()
    page = make_page(70, 90, seed=4)
    add_and_wait(qtbot, window, [write_png(tmp_path / "p.png", page)])
    assert window.flips == 1 and "best quality" not in window.model_label.text()
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    pixels = window.page_entries()[0].page.pixels
    plain = window.page_entries()[0].cleaned.copy()
    np.testing.assert_allclose(plain, clean_image(pixels, session, tile=64), atol=1e-6)
    window.act_best.setChecked(True)  # Clean > Best quality
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)
    (entry,) = window.page_entries()
    assert entry.state == DONE and window.flips == 4
    np.testing.assert_allclose(
        entry.cleaned, clean_image(pixels, session, tile=64, flips=4), atol=1e-6
    )
    assert np.abs(entry.cleaned - plain).max() > 1e-3
    assert "best quality" in window.model_label.text()
    second = make_window(ini_settings)
    assert second.act_best.isChecked() and second.flips == 4


def test_best_quality_switched_mid_batch_leaves_no_one_pass_page(
    qtbot, make_window, tmp_path, tiny_model_path
):
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession

    window = make_window(tile=32)
    paths = [write_png(tmp_path / f"p{i}.png", make_page(200, 200, seed=i)) for i in range(5)]
    window.add_paths(paths)
    qtbot.waitUntil(lambda: any(e.state == DONE for e in window.page_entries()), timeout=TIMEOUT)
    assert window.is_cleaning()  # switched while the batch runs
    window.act_best.setChecked(True)
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    for entry in window.page_entries():
        assert entry.state == DONE
        expected = clean_image(entry.page.pixels, session, tile=32, flips=4)
        np.testing.assert_allclose(entry.cleaned, expected, atol=1e-6)


def test_model_that_fails_in_the_worker_marks_pages_failed(qtbot, make_window, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage")
    window = make_window(model_path=bad)
    add_and_wait(qtbot, window, [write_png(tmp_path / "p.png", make_page(30, 30))])
    (entry,) = window.page_entries()
    assert entry.state == FAILED and "bad.onnx" in entry.message
    assert "bad.onnx" in window.last_error


def test_model_info_shows_the_metadata(make_window):
    from scanclean.qt.qt_dialogs import QtModelInfoDialog

    window = make_window()
    info = window.current_model_info()
    assert info is not None and info.name == "tiny-test"
    dialog = QtModelInfoDialog(info)
    rows = dict(dialog.rows)
    assert rows["Name"] == "tiny-test"
    assert rows["Receptive field"] == "5 px"
    assert rows["Training data"] == "none"
    assert "tiny-test" in window.model_label.text()


def test_settings_persist_across_two_windows(qtbot, make_window, tmp_path, tiny_model_path):
    ini = str(tmp_path / "persist.ini")
    other = write_onnx_model(tmp_path / "other.onnx", seed=7)
    first = make_window(QSettings(ini, QSettings.Format.IniFormat), auto=False)
    assert first.set_model(other)
    first.act_auto.setChecked(True)
    first.act_auto.setChecked(False)
    first.settings.output_format = "WEBP"
    first.settings.name_pattern = "{stem}_done"
    first.settings.output_folder = str(tmp_path)
    first.resize(720, 530)  # fits the 800 x 600 offscreen screen
    first.close()

    settings = QSettings(ini, QSettings.Format.IniFormat)
    second = QtMainWindow(settings, intra_op_threads=1)  # model not given: remembered one
    qtbot.addWidget(second)
    assert second.model_path == other
    assert second.act_auto.isChecked() is False
    assert second.settings.output_format == "WEBP"
    assert second.settings.name_pattern == "{stem}_done"
    assert second.settings.output_folder == str(tmp_path)
    assert (second.width(), second.height()) == (720, 530)


def test_model_menu_lists_shipped_models_and_switches(qtbot, make_window, tmp_path, monkeypatch):
    import scanclean.model

    other = write_onnx_model(
        tmp_path / "other.onnx", dict(TINY_METADATA, description="For faint pencil."), seed=5
    )
    window = make_window()
    shipped = {"tiny-test": window.model_path, "other-model": other}
    monkeypatch.setattr(scanclean.model, "shipped_models", lambda: dict(shipped))
    window._populate_model_menu()  # what Model > aboutToShow does
    actions = {a.text(): a for a in window.model_menu.actions() if a.isCheckable()}
    assert list(actions) == ["tiny-test", "other-model"]
    # the metadata's description tells the models apart; without one, the file's path
    assert actions["other-model"].toolTip() == "For faint pencil."
    assert actions["other-model"].statusTip() == f"For faint pencil. ({other})"
    assert actions["tiny-test"].statusTip() == str(window.model_path)
    assert actions["tiny-test"].isChecked() and not actions["other-model"].isChecked()
    actions["other-model"].trigger()
    assert window.model_path == other
    checked = [a.text() for a in window.model_menu.actions() if a.isCheckable() and a.isChecked()]
    assert checked == ["other-model"]


def test_warm_up_opens_the_model_in_the_background(
    qtbot, make_window, tiny_model_path, monkeypatch
):
    import scanclean.model

    monkeypatch.setattr(scanclean.model, "shipped_models", lambda: {"tiny-test": tiny_model_path})
    window = make_window()
    assert window.sessions.cached(tiny_model_path) is None
    window.warm_up()
    qtbot.waitUntil(lambda: not window._calls, timeout=TIMEOUT)
    assert window.sessions.cached(tiny_model_path) is not None
    assert window._shipped == {"tiny-test": tiny_model_path}
    assert "tiny-test (v0)" in window.model_label.text()


def test_clean_action_cleans_when_auto_clean_is_off(qtbot, make_window, tmp_path):
    window = make_window(auto=False, tile=16)
    add_and_wait(
        qtbot,
        window,
        [write_png(tmp_path / f"p{i}.png", make_page(256, 256, seed=i)) for i in range(4)],
    )
    assert [e.state for e in window.page_entries()] == [QUEUED] * 4
    assert "Clean" in window.compare.status.text()
    seen = []  # (batch progress bar visible, state text) at every change of a state cell

    def watch(item, column):
        if column == 1:
            seen.append((window.batch_progress.isVisible(), item.text(1)))

    window.queue.itemChanged.connect(watch)
    window.act_clean.trigger()
    assert window.is_cleaning()
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)
    assert [e.state for e in window.page_entries()] == [DONE] * 4
    cleaning = [(visible, text) for visible, text in seen if text.startswith("cleaning ")]
    assert cleaning and all(visible for visible, _ in cleaning)
    assert any(text.endswith("%") for _, text in cleaning)


def test_load_model_dialog_and_open_files_dialog(qtbot, make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    other = write_onnx_model(tmp_path / "picked.onnx", seed=3)
    window = make_window(auto=False)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    assert window.load_model_dialog() is True
    assert window.model_path == other

    scans = [
        write_png(tmp_path / "scans" / f"s{i}.png", make_page(30, 30, seed=i)) for i in range(2)
    ]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in scans], "")
    )
    with qtbot.waitSignal(window.loading_finished, timeout=TIMEOUT):
        window.act_open.trigger()
    assert sorted(e.label for e in window.page_entries()) == ["s0.png", "s1.png"]
    assert window.settings.open_folder == str(tmp_path / "scans")


def test_remove_and_clear_the_queue(qtbot, make_window, tmp_path):
    window = make_window(auto=False)
    paths = [write_png(tmp_path / f"r{i}.png", make_page(30, 30, seed=i)) for i in range(3)]
    add_and_wait(qtbot, window, paths)
    first = window.page_entries()[0]
    window.queue.clearSelection()
    window.queue.select_key(first.key)
    window.remove_selected()
    assert [e.label for e in window.page_entries()] == ["r1.png", "r2.png"]
    window.clear_queue()
    assert window.page_entries() == [] and window.queue.topLevelItemCount() == 0
    assert not window.compare.left.has_image()
