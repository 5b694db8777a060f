"""The app's log file: ``ScanClean.log`` in the user's data folder, rotated."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "scanclean.log"
MAX_BYTES = 1_000_000
BACKUPS = 3


def log_folder() -> Path:
    """The user's data folder for ScanClean (``QStandardPaths.AppDataLocation``).

    Returns
    -------
    Path
        E.g. ``~/.local/share/ScanClean/ScanClean`` on Linux (organisation and application
        names are set on the ``QApplication``).
    """
    from PySide6.QtCore import QStandardPaths

    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location) if location else Path.home() / ".scanclean"


def setup_logging(folder: Path | None = None, level: int = logging.INFO) -> Path | None:
    """Send the ``scanclean`` loggers to a rotating log file.

    Parameters
    ----------
    folder : Path or None
        Where to write ``scanclean.log`` (default :func:`log_folder`).
    level : int
        Logging level of the ``scanclean`` logger.

    Returns
    -------
    Path or None
        The log file, or None when it cannot be created (the app runs on without a log).

    Notes
    -----
    ``logging.handlers.RotatingFileHandler``: at most ``MAX_BYTES`` (1 MB) per file and
    ``BACKUPS`` (3) old files.
    """
    folder = folder or log_folder()
    path = folder / LOG_NAME
    logger = logging.getLogger("scanclean")
    for handler in logger.handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    return path
