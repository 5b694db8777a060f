"""Background workers: load pages and clean them off the GUI thread.

The pattern follows superqt's thread workers (``superqt.utils.thread_worker``): a
``QRunnable`` does the work on a ``QThreadPool`` and reports through a separate ``QObject``
that carries the signals, because a ``QRunnable`` is not a ``QObject``. The signals object is
created in the GUI thread, so slots of GUI objects connected to it run in the GUI thread
(queued connections). Workers emit numpy arrays; the GUI turns them into ``QImage``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Signal

from scanclean.engine import DEFAULT_TILE

log = logging.getLogger(__name__)


class ModelSessionCache:
    """Open each ONNX model once and share the session between workers.

    Parameters
    ----------
    intra_op_threads : int or None
        Passed to ``scanclean.model.ModelSession`` (None lets onnxruntime choose).

    Notes
    -----
    Thread-safe: workers call :meth:`get` from the thread pool. Only the most recently used
    model is kept, so switching models frees the previous session. ``scanclean.model`` (and
    with it onnxruntime) is imported on first use, which keeps the window's start-up fast.
    """

    def __init__(self, intra_op_threads: int | None = None) -> None:
        self._intra_op_threads = intra_op_threads
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._session: Any = None

    def get(self, path: str | Path) -> Any:
        """Return the ``ModelSession`` for ``path``, opening it if needed.

        Parameters
        ----------
        path : str or Path
            An ``.onnx`` file.

        Returns
        -------
        scanclean.model.ModelSession

        Raises
        ------
        scanclean.model.ModelError
            If the file is missing or not a usable model (the file and reason are named).
        """
        path = Path(path).resolve()
        with self._lock:
            if self._session is None or self._path != path:
                from scanclean.model import ModelSession

                session = ModelSession(path, intra_op_threads=self._intra_op_threads)
                self._path, self._session = path, session
            return self._session

    def cached(self, path: str | Path) -> Any:
        """Return the open session for ``path``, or None if it is not open."""
        path = Path(path).resolve()
        with self._lock:
            return self._session if self._path == path else None


class QtWorkerSignals(QObject):
    """Signals of a worker (a ``QRunnable`` cannot carry signals itself).

    Signals
    -------
    started(tag)
        The worker began.
    progress(key, done_tiles, total_tiles)
        Tiles of page ``key`` done so far.
    result(key, value)
        One page finished: ``value`` is the cleaned ``(H, W)`` float32 in [0, 1] for a
        clean worker, or a ``list[Page]`` for a load worker.
    error(key, message)
        Page or file ``key`` failed; ``message`` names the file and the reason. ``key`` is
        None when the model itself could not be opened.
    finished(tag)
        The worker stopped (all done, cancelled or failed).
    """

    started = Signal(object)
    progress = Signal(object, int, int)
    result = Signal(object, object)
    error = Signal(object, str)
    finished = Signal(object)


class QtCleanWorker(QRunnable):
    """Clean pages one by one with ``scanclean.engine.clean_image``.

    Parameters
    ----------
    jobs : sequence of (key, pixels, label)
        ``key`` identifies the page in the signals, ``pixels`` is ``(H, W)`` float32 in
        [0, 1], ``label`` names the page in error messages (e.g. ``"scan.tif, page 2"``).
    get_session : callable
        Returns the ``ModelSession`` to use (called once, in the worker thread); may raise
        ``scanclean.model.ModelError``.
    tile : int
        Largest tile side (px) for ``clean_image``.
    tag : object
        Echoed by ``started`` and ``finished`` so the GUI can tell workers apart.
    flips : int
        Mirror images averaged per tile by ``clean_image`` (1, 2 or 4).

    Notes
    -----
    Cancelling is cooperative: :meth:`cancel` sets a flag that ``clean_image`` polls
    before every tile, and the worker checks it between pages. One ``result`` is emitted
    per page.
    """

    def __init__(
        self,
        jobs: Sequence[tuple[Hashable, np.ndarray, str]],
        get_session: Callable[[], Any],
        tile: int = DEFAULT_TILE,
        tag: object = None,
        flips: int = 1,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the GUI keeps a reference until `finished`
        self.signals = QtWorkerSignals()
        self.tag = tag
        self._jobs = list(jobs)
        self._get_session = get_session
        self._tile = tile
        self._flips = flips
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the worker to stop before its next tile (thread-safe)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def run(self) -> None:  # noqa: D102 - QRunnable API, runs in the pool thread
        sig = self.signals
        sig.started.emit(self.tag)
        try:
            self._run(sig)
        except Exception as exc:  # never let an exception escape into Qt's thread pool
            log.exception("clean worker crashed")
            sig.error.emit(None, f"internal error: {exc}")
        finally:
            sig.finished.emit(self.tag)

    def _run(self, sig: QtWorkerSignals) -> None:
        from scanclean.engine import Cancelled, clean_image

        try:
            session = self._get_session()
        except Exception as exc:  # ModelError names the file and the reason
            log.error("model could not be opened: %s", exc)
            sig.error.emit(None, str(exc))
            return
        for key, pixels, label in self._jobs:
            if self._cancel.is_set():
                return

            def progress(done: int, total: int, key: Hashable = key) -> None:
                sig.progress.emit(key, done, total)

            sig.progress.emit(key, 0, 0)  # this page starts now
            try:
                cleaned = clean_image(
                    pixels,
                    session,
                    tile=self._tile,
                    progress=progress,
                    cancel=self._cancel.is_set,
                    flips=self._flips,
                )
            except Cancelled:
                return
            except Exception as exc:
                log.exception("cleaning %s failed", label)
                sig.error.emit(key, f"{label}: {exc}")
                continue
            sig.result.emit(key, cleaned)


class QtLoadWorker(QRunnable):
    """Read image files into pages with ``scanclean.pages.load_pages``.

    Parameters
    ----------
    paths : sequence of Path
        Files to read, in order.
    tag : object
        Echoed by ``started`` and ``finished``.

    Notes
    -----
    Emits ``result((tag, path), list[Page])`` per readable file (several pages for a
    multi-page TIFF) and ``error((tag, path), message)`` per unreadable one, then
    ``finished(tag)``.
    """

    def __init__(self, paths: Sequence[Path], tag: object = None) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = QtWorkerSignals()
        self.tag = tag
        self._paths = [Path(p) for p in paths]
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop before the next file (thread-safe)."""
        self._cancel.set()

    def run(self) -> None:  # noqa: D102 - QRunnable API
        sig = self.signals
        sig.started.emit(self.tag)
        try:
            from scanclean.pages import load_pages

            for path in self._paths:
                if self._cancel.is_set():
                    break
                try:
                    pages = load_pages(path)
                except Exception as exc:  # ImageError names the file; others get it added
                    message = str(exc)
                    if str(path) not in message and path.name not in message:
                        message = f"{path}: {message}"
                    log.warning("cannot read %s", message)
                    sig.error.emit((self.tag, path), message)
                    continue
                sig.result.emit((self.tag, path), pages)
        except Exception as exc:
            log.exception("load worker crashed")
            sig.error.emit(None, f"internal error: {exc}")
        finally:
            sig.finished.emit(self.tag)


class QtCallWorker(QRunnable):
    """Run one function in the thread pool and report its value.

    Parameters
    ----------
    function : callable
        Called with no arguments in the pool thread.
    tag : object
        Echoed by ``started`` and ``finished`` and used as the key of ``result`` / ``error``.

    Notes
    -----
    Emits ``result(tag, value)`` or ``error(tag, message)``, then ``finished(tag)``. The
    window uses it to open the model (and with it onnxruntime) in the background after it
    is shown.
    """

    def __init__(self, function: Callable[[], Any], tag: object = None) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = QtWorkerSignals()
        self.tag = tag
        self._function = function

    def run(self) -> None:  # noqa: D102 - QRunnable API
        sig = self.signals
        sig.started.emit(self.tag)
        try:
            value = self._function()
        except Exception as exc:
            log.warning("background task %s failed: %s", self.tag, exc)
            sig.error.emit(self.tag, str(exc))
        else:
            sig.result.emit(self.tag, value)
        finally:
            sig.finished.emit(self.tag)
