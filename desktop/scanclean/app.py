"""``scanclean``: the desktop app, plus ``--batch``, ``--self-test``, ``--demo`` and ``--version``.

``scanclean [FILE_OR_FOLDER ...]`` opens the PySide6 window with those scans queued.
``scanclean --batch ARGS...`` runs exactly ``scanclean.cli.main(ARGS)`` and exits with its
code; that path never imports Qt. Qt, onnxruntime and the engine are imported only when
needed, so the window opens fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["build_parser", "main", "run_gui"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``scanclean`` (``--batch`` is split off before it)."""
    from scanclean import __version__

    parser = argparse.ArgumentParser(
        prog="scanclean",
        description=(
            "Clean scanned documents (coffee stains, folds, wrinkles, grey paper) with a "
            "denoising autoencoder. Without options, opens the window."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="FILE_OR_FOLDER", help="scans to open (folders recursively)"
    )
    parser.add_argument("--demo", action="store_true", help="open the window with the demo scans")
    parser.add_argument(
        "--batch",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="run the command-line cleaner (scanclean-batch ARGS) without a window",
    )
    parser.add_argument(
        "--self-test", action="store_true", help="check the model and engine, then exit"
    )
    parser.add_argument("--version", action="version", version=f"scanclean {__version__}")
    parser.add_argument(
        "--quit-after-show",
        action="store_true",
        help=argparse.SUPPRESS,  # benchmarks/bench_startup.py: print the time, then quit
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scanclean``.

    Parameters
    ----------
    argv : sequence of str or None
        Arguments without the program name (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: the CLI's for ``--batch``, the self-test's for ``--self-test``, 0 after
        the window is closed.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--batch" in args:
        # everything after --batch goes to the CLI untouched; no Qt on this path
        rest = args[args.index("--batch") + 1 :]
        from scanclean.cli import main as cli_main

        return int(cli_main(rest) or 0)
    options = build_parser().parse_args(args)
    if options.self_test:
        from scanclean.selftest import main as selftest_main

        return int(selftest_main() or 0)
    return run_gui(options.paths, demo=options.demo, quit_after_show=options.quit_after_show)


def run_gui(paths: Sequence[str], demo: bool = False, quit_after_show: bool = False) -> int:
    """Open the main window and run the Qt event loop.

    Parameters
    ----------
    paths : sequence of str
        Files and folders to queue.
    demo : bool
        Also queue the shipped demo scans (:func:`scanclean.demo.demo_pages`).
    quit_after_show : bool
        Print ``shown <unix time in s>`` once the window is shown and quit (start-up
        benchmark).

    Returns
    -------
    int
        The event loop's exit code.
    """
    import logging

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "scanclean"])
    app.setOrganizationName("ScanClean")
    app.setApplicationName("ScanClean")
    app.setApplicationDisplayName("ScanClean")
    _set_icon(app)

    from scanclean.qt.qt_logging import setup_logging

    log_file = setup_logging()
    log = logging.getLogger("scanclean.app")
    log.info("start (log: %s)", log_file)
    _log_uncaught(log)

    from scanclean.qt.qt_main import QtMainWindow

    window = QtMainWindow()
    window.show()
    queued = list(paths)
    if demo:
        from scanclean.demo import demo_pages

        found = demo_pages()
        if not found:
            window.status_label.setText("No demo scans found in scanclean/resources/demo")
        queued += [str(p) for p in found]
    if queued:
        QTimer.singleShot(0, lambda: window.add_paths(queued))
    if not quit_after_show:
        QTimer.singleShot(0, window.warm_up)  # onnxruntime and the model, in the background
    else:

        def report() -> None:
            print(f"shown {time.time():.6f}", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
    code = app.exec()
    log.info("exit %s", code)
    return int(code)


def _set_icon(app) -> None:
    from importlib import resources

    from PySide6.QtGui import QIcon

    try:
        root = resources.files("scanclean.resources")
    except (ModuleNotFoundError, TypeError):
        return
    for name in ("icon.svg", "icon.png", "scanclean.svg", "scanclean.png"):
        candidate = root / name
        if candidate.is_file():
            app.setWindowIcon(QIcon(str(candidate)))
            return


def _log_uncaught(log) -> None:
    previous = sys.excepthook

    def hook(kind, value, tb):
        log.critical("uncaught exception", exc_info=(kind, value, tb))
        previous(kind, value, tb)

    sys.excepthook = hook


if __name__ == "__main__":
    sys.exit(main())
