"""Remembered settings (QSettings, organisation "ScanClean", application "ScanClean")."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "ScanClean"
APPLICATION = "ScanClean"

OUTPUT_FORMATS = ("PNG", "TIFF", "JPEG", "WEBP")
"""Output formats offered by Save all (Pillow names); PNG is the default."""

FORMAT_SUFFIXES = {"PNG": ".png", "TIFF": ".tiff", "JPEG": ".jpg", "WEBP": ".webp"}
"""Output suffix of each format (as ``scanclean.pages.FORMAT_SUFFIX`` and the CLI)."""
DEFAULT_PATTERN = "{stem}-clean"


def _to_bool(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class QtAppSettings:
    """Typed access to ScanClean's ``QSettings``.

    Parameters
    ----------
    settings : QSettings or None
        The store to use. None opens the user's settings
        (``QSettings("ScanClean", "ScanClean")``); tests pass a ``QSettings`` on a temporary
        ``IniFormat`` file so the user's real settings are never touched.

    Notes
    -----
    Keys: ``folders/open``, ``folders/output``, ``output/format``, ``output/pattern``,
    ``model/path``, ``window/geometry``, ``window/state``, ``clean/auto``, ``clean/best``.
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    def _get_str(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key, default)
        return default if value is None else str(value)

    # folders ---------------------------------------------------------------------------
    @property
    def open_folder(self) -> str:
        """Folder last used to open files ("" if none)."""
        return self._get_str("folders/open")

    @open_folder.setter
    def open_folder(self, folder: str | Path) -> None:
        self.qsettings.setValue("folders/open", str(folder))

    @property
    def output_folder(self) -> str:
        """Output folder of Save all ("" until asked)."""
        return self._get_str("folders/output")

    @output_folder.setter
    def output_folder(self, folder: str | Path) -> None:
        self.qsettings.setValue("folders/output", str(folder))

    # output ----------------------------------------------------------------------------
    @property
    def output_format(self) -> str:
        """One of :data:`OUTPUT_FORMATS` (default PNG)."""
        value = self._get_str("output/format", "PNG").upper()
        return value if value in OUTPUT_FORMATS else "PNG"

    @output_format.setter
    def output_format(self, fmt: str) -> None:
        fmt = fmt.upper()
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {OUTPUT_FORMATS}, got {fmt!r}")
        self.qsettings.setValue("output/format", fmt)

    @property
    def name_pattern(self) -> str:
        """Output name pattern without suffix (default ``"{stem}-clean"``)."""
        return self._get_str("output/pattern", DEFAULT_PATTERN) or DEFAULT_PATTERN

    @name_pattern.setter
    def name_pattern(self, pattern: str) -> None:
        self.qsettings.setValue("output/pattern", pattern)

    # model -----------------------------------------------------------------------------
    @property
    def model_path(self) -> str:
        """Path of the model in use ("" = the default shipped model)."""
        return self._get_str("model/path")

    @model_path.setter
    def model_path(self, path: str | Path) -> None:
        self.qsettings.setValue("model/path", str(path))

    # behaviour -------------------------------------------------------------------------
    @property
    def auto_clean(self) -> bool:
        """Clean added pages straight away (default True)."""
        return _to_bool(self.qsettings.value("clean/auto"), True)

    @auto_clean.setter
    def auto_clean(self, on: bool) -> None:
        self.qsettings.setValue("clean/auto", bool(on))

    @property
    def best_quality(self) -> bool:
        """Average the model over 4 mirror images of each tile (default False: 1 pass)."""
        return _to_bool(self.qsettings.value("clean/best"), False)

    @best_quality.setter
    def best_quality(self, on: bool) -> None:
        self.qsettings.setValue("clean/best", bool(on))

    # window ----------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        """Saved ``QWidget.saveGeometry()`` or None."""
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", data)

    @property
    def window_state(self) -> QByteArray | None:
        """Saved ``QMainWindow.saveState()`` (splitter, toolbars) or None."""
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/state", data)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()
