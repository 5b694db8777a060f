"""ScanClean's main window: page queue, side-by-side compare view, background cleaning."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QToolBar,
    QWidget,
)

from scanclean.engine import DEFAULT_TILE
from scanclean.qt.qt_compare import QtCompareView
from scanclean.qt.qt_images import array_to_qimage, thumbnail_pixmap
from scanclean.qt.qt_queue import (
    CANCELLED,
    CLEANING,
    DONE,
    FAILED,
    QUEUED,
    PageEntry,
    QtPageQueue,
)
from scanclean.qt.qt_settings import QtAppSettings
from scanclean.qt.qt_worker import ModelSessionCache, QtCallWorker, QtCleanWorker, QtLoadWorker

log = logging.getLogger(__name__)

APP_TITLE = "ScanClean"
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Turn dropped or opened paths into image files (no Qt involved).

    Parameters
    ----------
    paths : iterable of str or Path
        Files and folders.

    Returns
    -------
    files : list of Path
        Image files with a suffix in ``scanclean.pages.SUPPORTED_SUFFIXES``; folders are
        walked recursively by ``scanclean.batch.find_images`` (sorted, hidden files and
        folders skipped).
    rejected : list of (Path, str)
        Paths that cannot be cleaned, with the reason naming the path.
    """
    from scanclean.batch import find_images
    from scanclean.pages import SUPPORTED_SUFFIXES

    files: list[Path] = []
    rejected: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = find_images(path)
            if not found:
                rejected.append((path, f"{path}: no image files in this folder"))
            files += found
        elif not path.exists():
            rejected.append((path, f"{path}: no such file"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            rejected.append(
                (
                    path,
                    f"{path}: unsupported file type {path.suffix or '(no suffix)'}; "
                    f"ScanClean reads {', '.join(sorted(SUPPORTED_SUFFIXES))}",
                )
            )
        else:
            files.append(path)
    return files, rejected


def _scan_shipped_models() -> tuple[dict[str, Path], dict[Path, str]]:
    """The shipped models by name and, by path, the description each file's metadata gives
    (shown when the pointer is on the model in the *Model* menu)."""
    from scanclean.model import model_description, shipped_models

    shipped = shipped_models()
    return shipped, {path: model_description(path) for path in shipped.values()}


def _model_title(info) -> str:
    return f"{info.name} (v{info.version})" if info.version else info.name


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Local file and folder paths in dropped data (non-local URLs are ignored)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class QtMainWindow(QMainWindow):
    """The ScanClean window.

    Parameters
    ----------
    settings : QSettings or None
        Where settings are remembered (None: the user's ``QSettings("ScanClean",
        "ScanClean")``; tests pass a temporary ``IniFormat`` file).
    model_path : str, Path or None
        Model to use; None: the remembered one, else the default shipped model.
    intra_op_threads : int or None
        onnxruntime threads of the model session (None: onnxruntime's default).
    tile : int
        Largest tile side for ``scanclean.engine.clean_image`` (px; default
        ``scanclean.engine.DEFAULT_TILE``).

    Signals
    -------
    loading_finished()
        Every file handed to :meth:`add_paths` so far was read (or failed).
    batch_finished()
        Cleaning stopped: nothing left to clean, or cancelled.
    page_cleaned(key)
        Page ``key`` was cleaned.
    """

    loading_finished = Signal()
    batch_finished = Signal()
    page_cleaned = Signal(object)

    def __init__(
        self,
        settings=None,
        model_path: str | Path | None = None,
        intra_op_threads: int | None = None,
        tile: int = DEFAULT_TILE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = QtAppSettings(settings)
        self.sessions = ModelSessionCache(intra_op_threads)
        self.tile = tile
        self.entries: dict[int, PageEntry] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)  # one loader and one cleaner at a time
        self.last_error = ""
        self._loaders: dict[int, QtLoadWorker] = {}
        self._loader_ids = 0
        self._loading_sources: set[Path] = set()
        self._held_loaders: set[int] = set()
        self._calls: dict[object, QtCallWorker] = {}
        self._worker: QtCleanWorker | None = None
        self._generation = 0
        self._todo: list[int] = []
        self._run_keys: list[int] = []
        self._user_cancelled = False
        self._shipped: dict[str, Path] | None = None
        self._model_tips: dict[Path, str] = {}
        self._model_name = ""
        self.model_path: Path | None = self._initial_model(model_path)

        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self._build_ui()
        self._build_actions()
        self._restore_window()
        self._update_model_label()
        self._update_actions()

    # ------------------------------------------------------------------ construction
    def _build_ui(self) -> None:
        self.queue = QtPageQueue()
        self.queue.current_changed.connect(self._show_entry)
        self.queue.setMinimumWidth(260)
        self.compare = QtCompareView()
        self.compare.scale_changed.connect(self._update_zoom_label)
        for widget in (self.queue, self.queue.viewport(), self.compare.left, self.compare.right):
            widget.setAcceptDrops(False)  # drops go to the window
        for view in (self.compare.left, self.compare.right):
            view.viewport().setAcceptDrops(False)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.queue)
        self.splitter.addWidget(self.compare)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 1000])
        self.setCentralWidget(self.splitter)

        bar = self.statusBar()
        self.status_label = QLabel("Drop scans here, or File > Open files…")
        self.model_label = QLabel("")
        self.zoom_label = QLabel("")
        self.batch_label = QLabel("")
        self.batch_label.setMinimumWidth(
            self.batch_label.fontMetrics().horizontalAdvance("page 888/888 · tile 88888/88888")
        )
        self.batch_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.batch_progress = QProgressBar()
        self.batch_progress.setRange(0, 1000)
        self.batch_progress.setMaximumWidth(220)
        self.batch_progress.setFormat("%p%")
        self.batch_progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.batch_label)
        bar.addPermanentWidget(self.batch_progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.zoom_label)
        bar.addPermanentWidget(self.model_label)

    def _action(self, text, slot, shortcut=None, icon=None, tip=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda *_: slot())
        return action

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        KS = QKeySequence.StandardKey
        self.act_open = self._action(
            "&Open files…",
            self.open_files_dialog,
            KS.Open,
            SP.SP_DialogOpenButton,
            "Add image files",
        )
        self.act_open_folder = self._action(
            "Open &folder…",
            self.open_folder_dialog,
            "Ctrl+Shift+O",
            SP.SP_DirOpenIcon,
            "Add every image in a folder and its subfolders",
        )
        self.act_save = self._action(
            "&Save",
            self.save_current,
            KS.Save,
            SP.SP_DialogSaveButton,
            "Save the current page's cleaned file to the output folder",
        )
        self.act_save_all = self._action(
            "Save &all",
            self.save_all,
            "Ctrl+Shift+S",
            SP.SP_DriveHDIcon,
            "Save every cleaned page to the output folder",
        )
        self.act_output = self._action(
            "Output &settings…",
            self.ask_output_settings,
            None,
            None,
            "Output folder, format and name pattern",
        )
        self.act_remove = self._action("&Remove selected", self.remove_selected, KS.Delete)
        self.act_clear = self._action("Clear &queue", self.clear_queue)
        self.act_quit = self._action("&Quit", self.close, KS.Quit)
        self.act_clean = self._action(
            "&Clean", self.clean, "Ctrl+R", SP.SP_MediaPlay, "Clean every page not cleaned yet"
        )
        self.act_cancel = self._action(
            "C&ancel", self.cancel, "Esc", SP.SP_MediaStop, "Stop cleaning"
        )
        self.act_auto = QAction("Clean &automatically", self, checkable=True)
        self.act_auto.setChecked(self.settings.auto_clean)
        self.act_auto.setStatusTip("Clean added pages straight away")
        self.act_auto.toggled.connect(self._set_auto_clean)
        self.act_best = QAction("&Best quality (4 mirror images, 4x slower)", self, checkable=True)
        self.act_best.setChecked(self.settings.best_quality)
        self.act_best.setStatusTip(
            "Average the model over 4 mirror images of each tile: less error, 4 times the time"
        )
        self.act_best.toggled.connect(self._set_best_quality)
        self.act_fit = self._action(
            "&Fit to window", self.compare.fit_to_window, "Ctrl+0", None, "Show the whole page"
        )
        self.act_100 = self._action(
            "&Actual size (100%)",
            self.compare.actual_size,
            "Ctrl+1",
            None,
            "One image pixel per screen pixel",
        )
        self.act_zoom_in = self._action("Zoom &in", self.compare.zoom_in, KS.ZoomIn)
        self.act_zoom_out = self._action("Zoom &out", self.compare.zoom_out, KS.ZoomOut)
        self.act_load_model = self._action(
            "&Load model…", self.load_model_dialog, None, None, "Use another .onnx model"
        )
        self.act_model_info = self._action(
            "Model &info…",
            self.show_model_info,
            None,
            None,
            "Name, version, training data and metrics of the model",
        )
        self.act_about = self._action("&About ScanClean", self._about)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for a in (
            self.act_open,
            self.act_open_folder,
            None,
            self.act_save,
            self.act_save_all,
            self.act_output,
            None,
            self.act_remove,
            self.act_clear,
            None,
            self.act_quit,
        ):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        clean_menu = menu.addMenu("&Clean")
        for a in (self.act_clean, self.act_cancel, None, self.act_auto, self.act_best):
            clean_menu.addSeparator() if a is None else clean_menu.addAction(a)
        view_menu = menu.addMenu("&View")
        for a in (self.act_fit, self.act_100, self.act_zoom_in, self.act_zoom_out):
            view_menu.addAction(a)
        self.model_menu = menu.addMenu("&Model")
        self.model_menu.aboutToShow.connect(self._populate_model_menu)
        self.model_menu.setToolTipsVisible(True)
        self.model_group = QActionGroup(self)
        self.model_group.setExclusive(True)
        self._populate_model_menu(scan=False)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.act_about)

        tools = QToolBar("Main")
        tools.setObjectName("main-toolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (
            self.act_open,
            self.act_open_folder,
            None,
            self.act_clean,
            self.act_cancel,
            None,
            self.act_save,
            self.act_save_all,
            None,
            self.act_fit,
            self.act_100,
        ):
            tools.addSeparator() if a is None else tools.addAction(a)
        self.addToolBar(tools)
        self.toolbar = tools

    def _restore_window(self) -> None:
        geometry = self.settings.geometry
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1320, 820)

    def _initial_model(self, model_path: str | Path | None) -> Path | None:
        if model_path is not None:
            return Path(model_path)
        remembered = self.settings.model_path
        if remembered and Path(remembered).is_file():
            return Path(remembered)
        from scanclean.model import default_model_path

        try:
            return default_model_path()
        except FileNotFoundError as exc:
            log.warning("%s", exc)
            return None

    # ------------------------------------------------------------------ adding pages
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        paths = paths_from_mime(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    def open_files_dialog(self) -> None:
        """File > Open files…: pick image files to add."""
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open scans", self.settings.open_folder, FILE_FILTER
        )
        if files:
            self.settings.open_folder = str(Path(files[0]).parent)
            self.add_paths(files)

    def open_folder_dialog(self) -> None:
        """File > Open folder…: add every image in a folder, recursively."""
        folder = QFileDialog.getExistingDirectory(
            self, "Open folder of scans", self.settings.open_folder
        )
        if folder:
            self.settings.open_folder = folder
            self.add_paths([folder])

    def add_paths(self, paths: Sequence[str | Path]) -> int:
        """Add files and folders (folders recursively) to the queue.

        Parameters
        ----------
        paths : sequence of str or Path

        Returns
        -------
        int
            Number of image files handed to the background loader. Unsupported or
            missing paths get a failed row with the reason; files already in the queue
            are skipped. :attr:`loading_finished` fires once they are read.
        """
        files, rejected = expand_paths(paths)
        listed = {(e.source, e.message) for e in self.entries.values() if e.page is None}
        for path, reason in rejected:
            log.warning("%s", reason)
            if (path, reason) not in listed:
                self._add_entry(PageEntry(source=path, state=FAILED, message=reason))
        loaded = {e.source.resolve() for e in self.entries.values() if e.page is not None}
        known = loaded | self._loading_sources
        new: list[Path] = []
        for path in files:
            resolved = path.resolve()
            if resolved in known:
                continue
            known.add(resolved)
            new.append(path)
        # a file that failed before is read again: its old row goes
        retry = {p.resolve() for p in new}
        stale = [
            k for k, e in self.entries.items() if e.page is None and e.source.resolve() in retry
        ]
        if stale:
            self._remove(stale)
        if not new:
            if files:
                self.status_label.setText("Those files are already in the queue")
            elif not rejected:
                self.status_label.setText("No image files found")
            if not self._loaders:
                QTimer.singleShot(0, self.loading_finished.emit)
            return 0
        self._loader_ids += 1
        worker = QtLoadWorker(new, tag=self._loader_ids)
        worker.signals.result.connect(self._on_loaded)
        worker.signals.error.connect(self._on_load_error)
        worker.signals.finished.connect(self._on_loader_finished)
        self._loaders[self._loader_ids] = worker
        self._loading_sources |= {p.resolve() for p in new}
        self.status_label.setText(f"Reading {len(new)} file{'s' if len(new) != 1 else ''}…")
        self.pool.start(worker)
        return len(new)

    @Slot(object, object)
    def _on_loaded(self, key, pages: list) -> None:
        tag, path = key
        self._loading_sources.discard(Path(path).resolve())
        held = tag in self._held_loaders  # its drop was cancelled: do not auto-clean
        for page in pages:
            entry = PageEntry(source=Path(path), page=page)
            if held:
                entry.state = CANCELLED
            self._add_entry(entry, thumbnail_pixmap(page.pixels, QtPageQueue.THUMB))
            if self.act_auto.isChecked() and not held:
                self._todo.append(entry.key)
        self._start_cleaning()
        self._update_batch_progress()

    @Slot(object, str)
    def _on_load_error(self, key, message: str) -> None:
        if key is None:
            self.error_dialog("Cannot read files", message)
            return
        _tag, path = key
        self._loading_sources.discard(Path(path).resolve())
        self._add_entry(PageEntry(source=Path(path), state=FAILED, message=message))

    @Slot(object)
    def _on_loader_finished(self, tag) -> None:
        self._loaders.pop(tag, None)
        self._held_loaders.discard(tag)
        if not self._loaders:
            self._loading_sources.clear()
            n = sum(1 for e in self.entries.values() if e.page is not None)
            failed = sum(1 for e in self.entries.values() if e.page is None)
            text = f"{n} page{'s' if n != 1 else ''} in the queue"
            if failed:
                text += f", {failed} file{'s' if failed != 1 else ''} could not be read"
            if not self.act_auto.isChecked() and self._pending_keys():
                text += " — press Clean (Ctrl+R)"
            if self._worker is None:
                self.status_label.setText(text)
            self.loading_finished.emit()
        self._update_actions()

    def _add_entry(self, entry: PageEntry, thumbnail=None) -> None:
        self.entries[entry.key] = entry
        self.queue.add_entry(entry, thumbnail)
        if self.queue.current_key() is None:
            self.queue.select_key(entry.key)
        self._update_actions()

    def remove_selected(self) -> None:
        """Remove the selected rows (cancels their cleaning)."""
        keys = self.queue.selected_keys()
        if not keys:
            return
        self._remove(keys)

    def clear_queue(self) -> None:
        """Remove every page."""
        self._remove(list(self.entries))

    def _remove(self, keys: list[int]) -> None:
        gone = set(keys)
        if self._worker is not None and gone & set(self._run_keys):
            self._restart_cleaning()
        self._todo = [k for k in self._todo if k not in gone]
        self._run_keys = [k for k in self._run_keys if k not in gone]
        for key in keys:
            self.entries.pop(key, None)
        self.queue.remove_keys(keys)
        if not self.entries:
            self.compare.set_pages(None, None)
            self.compare.set_status("")
        self._update_actions()

    # ------------------------------------------------------------------ cleaning
    def page_entries(self) -> list[PageEntry]:
        """Every row of the queue, in order."""
        return list(self.entries.values())

    def is_cleaning(self) -> bool:
        """True while a clean worker runs."""
        return self._worker is not None

    def _pending_keys(self) -> list[int]:
        return [
            k
            for k, e in self.entries.items()
            if e.page is not None and e.state in (QUEUED, CANCELLED)
        ]

    def clean(self, keys: Iterable[int] | None = None) -> None:
        """Clean pages in the background (Clean button, Ctrl+R).

        Parameters
        ----------
        keys : iterable of int or None
            Entries to clean; None: every page that is not cleaned yet (queued,
            cancelled or failed while cleaning).
        """
        if keys is None:
            keys = [k for k, e in self.entries.items() if e.page is not None and e.state != DONE]
        for key in keys:
            entry = self.entries.get(key)
            if entry is None or entry.page is None or key in self._todo:
                continue
            if (
                self._worker is not None
                and key in self._run_keys
                and entry.state in (QUEUED, CLEANING)
            ):
                continue
            entry.state, entry.message, entry.tiles = QUEUED, "", (0, 0)
            self.queue.update_entry(entry)
            self._todo.append(key)
        self._start_cleaning()
        self._refresh_current()

    def cancel(self) -> None:
        """Stop cleaning (Cancel button, Esc); pages not cleaned are marked cancelled."""
        if self._worker is None and not self._todo:
            return
        self._user_cancelled = True
        self._held_loaders |= set(self._loaders)  # pages still being read are not cleaned
        for key in self._todo:
            self._set_state(key, CANCELLED)
        self._todo.clear()
        if self._worker is not None:
            self._worker.cancel()
            self.status_label.setText("Cancelling…")
        else:
            self._finish_run()

    def _restart_cleaning(self) -> None:
        """Stop the worker without marking pages; what is queued is started again."""
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()
            for key in self._run_keys:
                entry = self.entries.get(key)
                if (
                    entry is not None
                    and entry.state in (QUEUED, CLEANING)
                    and key not in self._todo
                ):
                    self._todo.append(key)

    def _start_cleaning(self) -> None:
        if self._worker is not None:
            return  # the running worker's `finished` starts the next batch
        self._todo = [
            k for k in self._todo if k in self.entries and self.entries[k].page is not None
        ]
        if not self._todo:
            return
        if self.model_path is None:
            self.status_label.setText("No model — use Model > Load model… to pick an .onnx file")
            return
        keys, self._todo = self._todo, []
        self._user_cancelled = False
        self._run_keys += [k for k in keys if k not in self._run_keys]
        jobs = []
        for key in keys:
            entry = self.entries[key]
            entry.state, entry.message, entry.tiles, entry.cleaned = QUEUED, "", (0, 0), None
            self.queue.update_entry(entry)
            jobs.append(((self._generation, key), entry.page.pixels, entry.label))
        worker = QtCleanWorker(
            jobs,
            functools.partial(self.sessions.get, self.model_path),
            tile=self.tile,
            tag=self._generation,
            flips=self.flips,
        )
        worker.signals.progress.connect(self._on_progress)
        worker.signals.result.connect(self._on_result)
        worker.signals.error.connect(self._on_clean_error)
        worker.signals.finished.connect(self._on_worker_finished)
        self._worker = worker
        self.batch_progress.show()
        self.cancel_button.show()
        self._update_batch_progress()
        self._update_actions()
        self.pool.start(worker)
        self._refresh_current()

    def _live_key(self, key) -> int | None:
        gen, entry_key = key
        if gen != self._generation or entry_key not in self.entries:
            return None
        return entry_key

    @Slot(object, int, int)
    def _on_progress(self, key, done: int, total: int) -> None:
        entry_key = self._live_key(key)
        if entry_key is None:
            return
        entry = self.entries[entry_key]
        entry.state, entry.tiles = CLEANING, (done, total)
        self.queue.update_entry(entry)
        self._update_batch_progress()
        if self.queue.current_key() == entry_key:
            self._show_state(entry)

    @Slot(object, object)
    def _on_result(self, key, cleaned) -> None:
        entry_key = self._live_key(key)
        if entry_key is None:
            return
        entry = self.entries[entry_key]
        entry.state, entry.cleaned, entry.message = DONE, cleaned, ""
        self.queue.update_entry(entry)
        if not self._model_name and self.model_path is not None:
            session = self.sessions.cached(self.model_path)
            if session is not None:
                self._model_name = _model_title(session.info)
                self._update_model_label()
        self._update_batch_progress()
        if self.queue.current_key() == entry_key:
            self.compare.set_cleaned(array_to_qimage(cleaned))
            self._show_state(entry)
        self._update_actions()
        self.page_cleaned.emit(entry_key)

    @Slot(object, str)
    def _on_clean_error(self, key, message: str) -> None:
        if key is None:  # the model could not be opened: every page of this run fails
            if self._worker is None or self._worker.tag != self._generation:
                return  # a worker stopped for a model switch: its model no longer matters
            log.error("model error: %s", message)
            for k in self._run_keys:
                entry = self.entries.get(k)
                if entry is not None and entry.state in (QUEUED, CLEANING):
                    self._set_state(k, FAILED, f"no usable model: {message}")
            self.error_dialog("Cannot use the model", message)
            return
        entry_key = self._live_key(key)
        if entry_key is None:
            return
        log.error("%s", message)
        self._set_state(entry_key, FAILED, message)

    @Slot(object)
    def _on_worker_finished(self, tag) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and worker.cancelled and self._user_cancelled:
            for key in self._run_keys:
                entry = self.entries.get(key)
                if entry is not None and entry.state in (QUEUED, CLEANING):
                    self._set_state(key, CANCELLED)
        if self._todo and not self._user_cancelled:
            self._start_cleaning()
            if self._worker is not None:
                return
        self._finish_run()

    def _finish_run(self) -> None:
        states = [self.entries[k].state for k in self._run_keys if k in self.entries]
        done, failed = states.count(DONE), states.count(FAILED)
        cancelled = states.count(CANCELLED)
        self._run_keys = []
        self.batch_progress.hide()
        self.cancel_button.hide()
        self.batch_label.setText("")
        parts = [f"{done} cleaned"]
        if failed:
            parts.append(f"{failed} failed")
        if cancelled:
            parts.append(f"{cancelled} cancelled")
        if states:
            self.status_label.setText("Batch finished: " + ", ".join(parts))
        self._update_actions()
        self._refresh_current()
        self.batch_finished.emit()

    def _set_state(self, key: int, state: str, message: str = "") -> None:
        entry = self.entries.get(key)
        if entry is None:
            return
        entry.state, entry.message = state, message
        if state != CLEANING:
            entry.tiles = (0, 0)
        self.queue.update_entry(entry)
        if self.queue.current_key() == key:
            self._show_state(entry)
        self._update_batch_progress()

    def _update_batch_progress(self) -> None:
        keys = [k for k in self._run_keys if k in self.entries]
        keys += [k for k in self._todo if k in self.entries and k not in self._run_keys]
        if not keys:
            return
        finished = 0.0
        current = ""
        for index, key in enumerate(keys):
            entry = self.entries[key]
            if entry.state in (DONE, FAILED, CANCELLED):
                finished += 1
            elif entry.state == CLEANING and entry.tiles[1]:
                finished += entry.tiles[0] / entry.tiles[1]
                current = f"page {index + 1}/{len(keys)} · tile {entry.tiles[0]}/{entry.tiles[1]}"
        self.batch_progress.setValue(round(1000 * finished / len(keys)))
        self.batch_label.setText(current or f"{int(finished)}/{len(keys)} pages")
        if self._worker is not None and not self._user_cancelled:
            self.status_label.setText(f"Cleaning {len(keys)} page{'s' if len(keys) != 1 else ''}…")

    # ------------------------------------------------------------------ display
    @Slot(object)
    def _show_entry(self, key) -> None:
        entry = self.entries.get(key) if key is not None else None
        if entry is None or entry.page is None:
            self.compare.set_pages(None, None)
            if entry is not None:
                self._show_state(entry)
            else:
                self.compare.set_status("")
            self._update_actions()
            return
        original = array_to_qimage(entry.page.pixels)
        cleaned = array_to_qimage(entry.cleaned) if entry.cleaned is not None else None
        self.compare.set_pages(original, cleaned)
        self._show_state(entry)
        self._update_actions()

    def _refresh_current(self) -> None:
        key = self.queue.current_key()
        if key in self.entries:
            self._show_state(self.entries[key])

    def _show_state(self, entry: PageEntry) -> None:
        name = f" — {self._model_name}" if self._model_name else ""
        self.compare.right_title.setText(f"Cleaned{name}")
        dpi = ""
        if entry.page is not None and entry.page.dpi:
            dpi = f" · {entry.page.dpi[0]:.0f} dpi"
        self.compare.left_title.setText(
            f"Original — {entry.label}{dpi}" if entry.page else "Original"
        )
        if entry.state == CLEANING:
            done, total = entry.tiles
            self.compare.set_status(
                f"cleaning… {done}/{total} tiles" if total else "cleaning…", done, total
            )
        elif entry.state == FAILED:
            self.compare.set_status(f"failed: {entry.message}")
        elif entry.state == QUEUED:
            waiting = entry.key in self._todo or entry.key in self._run_keys
            self.compare.set_status(
                "queued" if waiting else "not cleaned yet — press Clean (Ctrl+R)"
            )
        elif entry.state == CANCELLED:
            self.compare.set_status("cancelled — press Clean (Ctrl+R) to clean it")
        else:
            self.compare.set_status("")

    def _update_zoom_label(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f}%")

    def _update_actions(self) -> None:
        current = self.entries.get(self.queue.current_key()) if self.queue.current_key() else None
        self.act_save.setEnabled(current is not None and current.cleaned is not None)
        self.act_save_all.setEnabled(any(e.cleaned is not None for e in self.entries.values()))
        self.act_cancel.setEnabled(self._worker is not None)
        self.act_clean.setEnabled(
            any(e.page is not None and e.state != DONE for e in self.entries.values())
        )
        self.act_clear.setEnabled(bool(self.entries))
        self.act_remove.setEnabled(bool(self.entries))

    # ------------------------------------------------------------------ saving
    def ask_output_settings(self) -> bool:
        """Ask for the output folder, format and name pattern; True when accepted."""
        from scanclean.qt.qt_dialogs import QtOutputDialog

        s = self.settings
        folder = s.output_folder or s.open_folder or str(Path.home())
        dialog = QtOutputDialog(folder, s.output_format, s.name_pattern, self)
        if dialog.exec() != QtOutputDialog.DialogCode.Accepted:
            return False
        folder, fmt, pattern = dialog.values()
        if not folder:
            return False
        s.output_folder, s.output_format, s.name_pattern = folder, fmt, pattern
        s.sync()
        return True

    def save_current(self) -> list[Path]:
        """Save the current page's cleaned file (Ctrl+S).

        The page goes to the output folder (asked once, then remembered) with the output
        format and name pattern. A page of a multi-page input writes the whole document as
        one multi-page TIFF once all its pages are cleaned.

        Returns
        -------
        list of Path
            Files written.
        """
        key = self.queue.current_key()
        entry = self.entries.get(key) if key is not None else None
        if entry is None or entry.cleaned is None:
            self.status_label.setText("The current page is not cleaned yet")
            return []
        group = [
            e for e in self.entries.values() if e.page is not None and e.source == entry.source
        ]
        if self.settings.output_format != "TIFF" or entry.page.n_pages == 1:
            group = [entry]
        return self._save(group)

    def save_all(self) -> list[Path]:
        """Save every cleaned page to the output folder (asked once, then remembered).

        Returns
        -------
        list of Path
            Files written.
        """
        entries = [e for e in self.entries.values() if e.page is not None]
        if not any(e.cleaned is not None for e in entries):
            self.status_label.setText("No cleaned pages to save yet")
            return []
        return self._save(entries, ask_each=True)

    def _save(self, entries: list[PageEntry], ask_each: bool = False) -> list[Path]:
        from scanclean.pages import save_pages
        from scanclean.qt.qt_output import plan_saves

        s = self.settings
        if not s.output_folder or not Path(s.output_folder).is_dir():
            if not self.ask_output_settings():
                return []
        folder, fmt, pattern = Path(s.output_folder), s.output_format, s.name_pattern
        originals = [e.source for e in self.entries.values()]
        try:
            jobs = plan_saves(entries, folder, fmt, pattern, originals)
        except ValueError as exc:
            self.error_dialog("Cannot save", str(exc))
            return []
        problems = [job.problem for job in jobs if job.problem]
        jobs = [job for job in jobs if not job.problem]
        written: list[Path] = []
        replace_all = False
        Btn = QMessageBox.StandardButton
        for job in jobs:
            if job.path.exists() and not replace_all:
                buttons = Btn.Yes | Btn.No
                if ask_each and len(jobs) > 1:
                    buttons |= Btn.YesToAll | Btn.Cancel
                answer = QMessageBox.question(
                    self,
                    "Replace file?",
                    f"{job.path} already exists.\nReplace it with the cleaned page?",
                    buttons,
                    Btn.No,
                )
                if answer == Btn.Cancel:
                    break
                if answer == Btn.YesToAll:
                    replace_all = True
                elif answer != Btn.Yes:
                    continue
            page = job.entries[0].page
            try:
                save_pages(
                    [e.cleaned for e in job.entries], job.path, dpi=page.dpi, format=job.format
                )
            except (ValueError, OSError) as exc:
                log.error("%s", exc)
                problems.append(str(exc))
                continue
            log.info("saved %s", job.path)
            written.append(job.path)
            QApplication.processEvents()
        if problems:
            self.error_dialog(
                "Some pages were not saved",
                "\n".join(problems[:20]) + ("\n…" if len(problems) > 20 else ""),
            )
        if written:
            where = written[0] if len(written) == 1 else folder
            self.status_label.setText(
                f"Saved {len(written)} file{'s' if len(written) != 1 else ''} to {where}"
            )
        return written

    # ------------------------------------------------------------------ models
    def warm_up(self) -> None:
        """Open the model and list the shipped models in the background.

        Called once the window is shown, so onnxruntime is imported while the person looks
        at the window instead of when the first page is dropped or the Model menu opens.
        """
        path = self.model_path

        def work():
            shipped = _scan_shipped_models()
            session = self.sessions.get(path) if path is not None else None
            return shipped, session

        worker = QtCallWorker(work, tag="warm-up")
        worker.signals.result.connect(self._on_warmed_up)
        worker.signals.finished.connect(self._on_call_finished)
        self._calls["warm-up"] = worker
        self.pool.start(worker)

    @Slot(object, object)
    def _on_warmed_up(self, _tag, value) -> None:
        (shipped, tips), session = value
        if self._shipped is None:
            self._shipped, self._model_tips = shipped, tips
        if (
            session is not None
            and self.model_path is not None
            and session.path == self.model_path.resolve()
        ):
            self._model_name = _model_title(session.info)
            self._update_model_label()
            self._refresh_current()

    @Slot(object)
    def _on_call_finished(self, tag) -> None:
        self._calls.pop(tag, None)

    def _populate_model_menu(self, scan: bool = True) -> None:
        menu = self.model_menu
        menu.clear()
        for action in self.model_group.actions():
            self.model_group.removeAction(action)
        if scan and self._shipped is None:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self._shipped, self._model_tips = _scan_shipped_models()
            finally:
                QApplication.restoreOverrideCursor()
        current = self.model_path.resolve() if self.model_path else None
        listed = False
        for name, path in (self._shipped or {}).items():
            action = QAction(name, self, checkable=True)
            tip = self._model_tips.get(path, "")
            action.setStatusTip(f"{tip} ({path})" if tip else str(path))
            action.setToolTip(tip or str(path))
            action.setChecked(current is not None and Path(path).resolve() == current)
            listed |= action.isChecked()
            action.triggered.connect(lambda _=False, p=path: self.set_model(p))
            self.model_group.addAction(action)
            menu.addAction(action)
        if current is not None and not listed:
            action = QAction(self._model_name or current.stem, self, checkable=True)
            action.setStatusTip(str(current))
            action.setChecked(True)
            self.model_group.addAction(action)
            menu.addAction(action)
        if not menu.actions():
            placeholder = menu.addAction("(no model shipped)")
            placeholder.setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.act_load_model)
        menu.addAction(self.act_model_info)

    def load_model_dialog(self) -> bool:
        """Model > Load model…: pick an ``.onnx`` file; True when it is now in use."""
        start = str(self.model_path.parent) if self.model_path else self.settings.open_folder
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", start, "ONNX models (*.onnx);;All files (*)"
        )
        if not path:
            return False
        return self.set_model(path)

    def set_model(self, path: str | Path) -> bool:
        """Use another model; the pages in the queue are cleaned again with it.

        Parameters
        ----------
        path : str or Path
            An ``.onnx`` denoising autoencoder.

        Returns
        -------
        bool
            True when the model opened. A bad file gets an error dialog naming the file
            and the reason, and the previous model stays in use.
        """
        path = Path(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            session = self.sessions.get(path)
        except Exception as exc:
            QApplication.restoreOverrideCursor()
            log.error("cannot use model %s: %s", path, exc)
            self.error_dialog("Cannot use this model", f"{exc}\n\nThe previous model stays in use.")
            self._populate_model_menu(scan=False)
            return False
        QApplication.restoreOverrideCursor()
        self.model_path = path
        self.settings.model_path = str(path)
        self._model_name = _model_title(session.info)
        self._update_model_label()
        log.info("model %s (%s)", path, self._model_name)
        self._clean_again()
        self._populate_model_menu(scan=False)
        return True

    @property
    def flips(self) -> int:
        """Mirror images averaged per tile: 4 with Clean > Best quality, else 1."""
        return 4 if self.act_best.isChecked() else 1

    def _set_best_quality(self, on: bool) -> None:
        self.settings.best_quality = on
        self._update_model_label()
        self._clean_again()

    def _clean_again(self) -> None:
        """Clean again what was cleaned, queued or cleaning, with the current model and quality."""
        self._restart_cleaning()
        for key, entry in self.entries.items():
            if entry.page is None:
                continue
            if (
                entry.state == DONE
                or key in self._todo
                or key in self._run_keys
                or self.act_auto.isChecked()
            ):
                entry.state, entry.cleaned, entry.message, entry.tiles = QUEUED, None, "", (0, 0)
                self.queue.update_entry(entry)
                if key not in self._todo:
                    self._todo.append(key)
        self._show_entry(self.queue.current_key())
        self._start_cleaning()

    def current_model_info(self):
        """``ModelInfo`` of the model in use (opens it if needed), or None with an error dialog."""
        if self.model_path is None:
            self.error_dialog("No model", "No model is loaded. Use Model > Load model….")
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            session = self.sessions.get(self.model_path)
        except Exception as exc:
            self.error_dialog("Cannot use the model", str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self._model_name = _model_title(session.info)
        self._update_model_label()
        return session.info

    def show_model_info(self) -> None:
        """Model > Model info…: the model's name, version, training data and metrics."""
        info = self.current_model_info()
        if info is None:
            return
        from scanclean.qt.qt_dialogs import QtModelInfoDialog

        dialog = QtModelInfoDialog(info, self)
        dialog.open()
        self._info_dialog = dialog

    def _update_model_label(self) -> None:
        if self.model_path is None:
            self.model_label.setText("Model: none")
            return
        name = self._model_name or self.model_path.stem
        quality = " · best quality" if self.act_best.isChecked() else ""
        self.model_label.setText(f"Model: {name}{quality}")
        self.model_label.setToolTip(str(self.model_path))
        self.setWindowTitle(f"{APP_TITLE} — {name}")

    # ------------------------------------------------------------------ misc
    def _set_auto_clean(self, on: bool) -> None:
        self.settings.auto_clean = on
        if on:
            self.clean(
                [k for k, e in self.entries.items() if e.page is not None and e.state == QUEUED]
            )

    def error_dialog(self, title: str, text: str) -> None:
        """Show an error without blocking the event loop (kept in :attr:`last_error`)."""
        self.last_error = text
        log.error("%s: %s", title, text)
        box = QMessageBox(
            QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _about(self) -> None:
        from scanclean import __version__

        QMessageBox.about(
            self,
            "About ScanClean",
            f"<b>ScanClean {__version__}</b><p>Cleans scanned documents (stains, folds, "
            "wrinkles, grey paper) with a convolutional denoising autoencoder run by "
            "onnxruntime.</p>",
        )

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel workers and wait for the thread pool (called on close)."""
        if self._worker is not None:
            self._user_cancelled = True
            self._worker.cancel()
        for loader in self._loaders.values():
            loader.cancel()
        self.pool.waitForDone(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        self.settings.geometry = self.saveGeometry()
        self.settings.auto_clean = self.act_auto.isChecked()
        self.settings.sync()
        super().closeEvent(event)
