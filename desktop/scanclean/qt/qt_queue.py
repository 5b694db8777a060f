"""The page queue: one row per page with thumbnail, name, size and state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

QUEUED = "queued"
CLEANING = "cleaning"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

STATE_COLOURS = {
    QUEUED: QColor(110, 110, 110),
    CLEANING: QColor(30, 100, 200),
    DONE: QColor(20, 130, 60),
    FAILED: QColor(190, 30, 30),
    CANCELLED: QColor(150, 110, 20),
}

_keys = itertools.count(1)


@dataclass(eq=False)
class PageEntry:
    """One row of the queue: a page (or a file that could not be read) and its state.

    Attributes
    ----------
    key : int
        Unique id of the row.
    source : Path
        The file the page comes from.
    page : scanclean.pages.Page or None
        The loaded page (``pixels`` ``(H, W)`` float32 in [0, 1]); None for a file that
        could not be read.
    state : str
        ``queued``, ``cleaning``, ``done``, ``failed`` or ``cancelled``.
    message : str
        Reason for ``failed`` (names the file), else "".
    cleaned : numpy.ndarray or None
        ``(H, W)`` float32 in [0, 1] once ``done``.
    tiles : tuple of (int, int)
        Tiles done and total while ``cleaning``.
    """

    source: Path
    page: Any = None
    state: str = QUEUED
    message: str = ""
    cleaned: np.ndarray | None = None
    tiles: tuple[int, int] = (0, 0)
    key: int = field(default_factory=lambda: next(_keys))

    @property
    def label(self) -> str:
        """Display name: the file name, with ``page i/n`` for multi-page files."""
        if self.page is not None and self.page.n_pages > 1:
            return f"{self.source.name} — page {self.page.index + 1}/{self.page.n_pages}"
        return self.source.name

    @property
    def size_text(self) -> str:
        """``"W×H px · x.x MP"`` or "" when not loaded."""
        if self.page is None:
            return ""
        h, w = self.page.pixels.shape
        return f"{w}×{h} px · {w * h / 1e6:.1f} MP"

    @property
    def state_text(self) -> str:
        """State for the queue, with the share of tiles done or the failure reason."""
        if self.state == CLEANING and self.tiles[1]:
            return f"cleaning {100 * self.tiles[0] // self.tiles[1]}%"
        if self.state == FAILED and self.message:
            return f"failed: {self.message}"
        return self.state


class QtPageQueue(QTreeWidget):
    """List of pages: thumbnail, name and size (px, MP) in the first column, state in the second.

    Signals
    -------
    current_changed(key)
        The selected row changed; ``key`` is the ``PageEntry.key`` or None.
    """

    current_changed = Signal(object)
    THUMB = 56

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Page", "State"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setIconSize(QSize(self.THUMB, self.THUMB))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 130)
        self._items: dict[int, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._current_changed)

    def add_entry(self, entry: PageEntry, thumbnail=None) -> None:
        """Append a row for ``entry``; ``thumbnail`` is a ``QPixmap`` or None."""
        text = f"{entry.label}\n{entry.size_text}" if entry.size_text else entry.label
        item = QTreeWidgetItem([text, entry.state_text])
        item.setData(0, Qt.ItemDataRole.UserRole, entry.key)
        item.setToolTip(0, str(entry.source))
        if thumbnail is not None:
            item.setIcon(0, QIcon(thumbnail))
        self._items[entry.key] = item
        self.addTopLevelItem(item)
        self.update_entry(entry)

    def update_entry(self, entry: PageEntry) -> None:
        """Refresh the state column of ``entry``'s row."""
        item = self._items.get(entry.key)
        if item is None:
            return
        item.setText(1, entry.state_text)
        item.setToolTip(1, entry.state_text)
        item.setForeground(1, QBrush(STATE_COLOURS.get(entry.state, QColor(0, 0, 0))))

    def remove_keys(self, keys) -> None:
        """Remove the rows of these entries."""
        for key in keys:
            item = self._items.pop(key, None)
            if item is not None:
                index = self.indexOfTopLevelItem(item)
                self.takeTopLevelItem(index)

    def clear_rows(self) -> None:
        """Remove every row."""
        self._items.clear()
        self.clear()

    def select_key(self, key: int) -> None:
        """Make ``key``'s row the current one."""
        item = self._items.get(key)
        if item is not None:
            self.setCurrentItem(item)

    def current_key(self) -> int | None:
        """Key of the current row, or None."""
        item = self.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def selected_keys(self) -> list[int]:
        """Keys of the selected rows, in queue order."""
        keys = []
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.isSelected():
                keys.append(item.data(0, Qt.ItemDataRole.UserRole))
        return keys

    def state_text(self, key: int) -> str:
        """Text of the state column of ``key``'s row ("" when absent)."""
        item = self._items.get(key)
        return "" if item is None else item.text(1)

    def _current_changed(self, current, _previous) -> None:
        self.current_changed.emit(
            None if current is None else current.data(0, Qt.ItemDataRole.UserRole)
        )
