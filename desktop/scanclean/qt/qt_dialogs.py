"""Dialogs: model information and output settings (folder, format, name pattern)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scanclean.qt.qt_settings import DEFAULT_PATTERN, OUTPUT_FORMATS


def _format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def model_info_rows(info: Any) -> list[tuple[str, str]]:
    """Label/value rows describing a model, as shown in the model info dialog.

    Parameters
    ----------
    info : scanclean.model.ModelInfo

    Returns
    -------
    list of (str, str)
        Name, version, architecture, receptive field (px), size multiple, value range,
        training data, validation, one row per metric, MACs per pixel, description, file.
    """
    rows = [
        ("Name", info.name),
        ("Version", info.version or "—"),
        ("Architecture", info.architecture or "—"),
        ("Receptive field", f"{info.receptive_field} px"),
        ("Size multiple", f"{info.size_multiple} px"),
        ("Value range", info.value_range or "—"),
        ("Training data", info.training_data or "—"),
        ("Validation", info.validation or "—"),
    ]
    metrics = info.metrics or {}
    if metrics:
        for key, value in metrics.items():
            rows.append((f"Metric: {key}", _format_metric(value)))
    else:
        rows.append(("Metrics", "—"))
    if info.macs_per_pixel is not None:
        rows.append(("MACs per pixel", f"{info.macs_per_pixel:,.0f}"))
    if info.description:
        rows.append(("Description", info.description))
    rows.append(("File", str(info.path)))
    return rows


class QtModelInfoDialog(QDialog):
    """Shows a model's metadata (name, version, training data, metrics ...).

    Parameters
    ----------
    info : scanclean.model.ModelInfo
    parent : QWidget or None
    """

    def __init__(self, info: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model — {info.name}")
        self.setMinimumWidth(520)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.rows = model_info_rows(info)
        for label, value in self.rows:
            text = QLabel(value)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)


class QtOutputDialog(QDialog):
    """Asks where and how Save all writes: output folder, format and name pattern.

    Parameters
    ----------
    folder : str
        Initial output folder.
    fmt : str
        Initial format, one of ``OUTPUT_FORMATS``.
    pattern : str
        Initial name pattern; ``{stem}`` is the input file's name without suffix and
        ``{page}`` the 1-based page number (added automatically for multi-page inputs saved
        as single-page formats).
    parent : QWidget or None
    """

    def __init__(self, folder: str, fmt: str, pattern: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Output")
        self.folder_edit = QLineEdit(folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.format_box = QComboBox()
        self.format_box.addItems(OUTPUT_FORMATS)
        self.format_box.setCurrentText(fmt if fmt in OUTPUT_FORMATS else "PNG")
        self.pattern_edit = QLineEdit(pattern or DEFAULT_PATTERN)
        self.pattern_edit.setToolTip("{stem}: input name without suffix; {page}: page number")
        self.example = QLabel()
        self.example.setStyleSheet("color: palette(mid);")
        self.pattern_edit.textChanged.connect(self._update_example)
        self.format_box.currentTextChanged.connect(self._update_example)
        form = QFormLayout()
        form.addRow("Folder:", row)
        form.addRow("Format:", self.format_box)
        form.addRow("Name pattern:", self.pattern_edit)
        form.addRow("", self.example)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)
        self._update_example()

    def values(self) -> tuple[str, str, str]:
        """The chosen ``(folder, format, pattern)``."""
        return (
            self.folder_edit.text().strip(),
            self.format_box.currentText(),
            self.pattern_edit.text().strip() or DEFAULT_PATTERN,
        )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _update_example(self) -> None:
        from scanclean.qt.qt_output import output_name

        try:
            name = output_name(
                Path("scan.png"),
                self.pattern_edit.text() or DEFAULT_PATTERN,
                self.format_box.currentText(),
            )
            self.example.setText(f"scan.png → {name}")
            ok = True
        except ValueError as exc:
            self.example.setText(str(exc))
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
