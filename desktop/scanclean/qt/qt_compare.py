"""Side-by-side view of the original and the cleaned page with synchronized zoom and pan."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

ZOOM_STEP = 1.25
MIN_SCALE = 0.02
MAX_SCALE = 32.0


class QtPageView(QGraphicsView):
    """A ``QGraphicsView`` showing one page; the wheel zooms about the cursor.

    Signals
    -------
    zoomed(factor, scene_x, scene_y)
        The wheel asked for zoom ``factor`` about the scene point under the cursor.
    """

    zoomed = Signal(float, float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setBackgroundBrush(QColor(96, 96, 96))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_image(self, image: QImage | None, rect: QRectF | None = None) -> None:
        """Show ``image`` (or nothing); ``rect`` fixes the scene rectangle (px)."""
        if image is None:
            self._item.setPixmap(QPixmap())
        else:
            self._item.setPixmap(QPixmap.fromImage(image))
        if rect is not None:
            self.setSceneRect(rect)
        elif image is not None:
            self.setSceneRect(QRectF(0, 0, image.width(), image.height()))
        else:
            self.setSceneRect(QRectF())

    def has_image(self) -> bool:
        """True when a page is shown."""
        return not self._item.pixmap().isNull()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        delta = event.angleDelta().y()
        if delta == 0:
            super().wheelEvent(event)
            return
        factor = ZOOM_STEP ** (delta / 120.0)
        at = self.mapToScene(event.position().toPoint())
        self.zoomed.emit(factor, at.x(), at.y())
        event.accept()


class QtCompareView(QWidget):
    """Original (left) and cleaned (right) page, always showing the same spot.

    Both sides are ``QtPageView`` objects with the same scene rectangle; they share one
    transform (zoom) and their scroll bars follow each other (pan), so a spot on the left
    is at the same place on the right.

    Signals
    -------
    scale_changed(scale)
        The zoom changed (1.0 = 100 %, one image px per screen px).
    """

    scale_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = QtPageView()
        self.right = QtPageView()
        self._fit = True
        self._syncing = False

        self.left_title = QLabel("Original")
        self.right_title = QLabel("Cleaned")
        for label in (self.left_title, self.right_title):
            label.setStyleSheet("font-weight: bold; padding: 2px 4px;")
        self.status = QLabel("")
        self.status.setStyleSheet("color: palette(mid); padding: 2px 4px;")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.page_progress = QProgressBar()
        self.page_progress.setMaximumWidth(160)
        self.page_progress.setMaximumHeight(14)
        self.page_progress.setTextVisible(False)
        self.page_progress.hide()

        left_box = QWidget()
        lv = QVBoxLayout(left_box)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(0)
        lv.addWidget(self.left_title)
        lv.addWidget(self.left, 1)

        right_box = QWidget()
        rv = QVBoxLayout(right_box)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 4, 0)
        header.addWidget(self.right_title)
        header.addWidget(self.status, 1)
        header.addWidget(self.page_progress)
        rv.addLayout(header)
        rv.addWidget(self.right, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter
        self._halved = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        for view, other in ((self.left, self.right), (self.right, self.left)):
            view.zoomed.connect(self._zoom_about)
            view.horizontalScrollBar().valueChanged.connect(
                lambda v, o=other: self._follow(o.horizontalScrollBar(), v)
            )
            view.verticalScrollBar().valueChanged.connect(
                lambda v, o=other: self._follow(o.verticalScrollBar(), v)
            )
            view.horizontalScrollBar().rangeChanged.connect(lambda *_: self._sync_from_left())
            view.verticalScrollBar().rangeChanged.connect(lambda *_: self._sync_from_left())

    # -- content -------------------------------------------------------------------------
    def set_pages(self, original: QImage | None, cleaned: QImage | None) -> None:
        """Show a page pair; either may be None (cleaned side still empty).

        The cleaned side uses the original's scene rectangle, so both views scroll alike
        even before the cleaned page exists.
        """
        rect = QRectF(0, 0, original.width(), original.height()) if original else None
        self.left.set_image(original, rect)
        self.right.set_image(cleaned, rect)
        if self._fit:
            self.fit_to_window()
        else:
            self._sync_from_left()

    def set_cleaned(self, cleaned: QImage | None) -> None:
        """Fill in (or clear) the cleaned side, keeping zoom and position."""
        h = self.left.horizontalScrollBar().value()
        v = self.left.verticalScrollBar().value()
        self.right.set_image(cleaned, self.left.sceneRect())
        self.right.setTransform(self.left.transform())
        self.right.horizontalScrollBar().setValue(h)
        self.right.verticalScrollBar().setValue(v)

    def set_status(self, text: str, done: int | None = None, total: int | None = None) -> None:
        """Show the page's state above the cleaned side, with tile progress if given."""
        self.status.setText(text)
        if done is not None and total:
            self.page_progress.setRange(0, total)
            self.page_progress.setValue(done)
            self.page_progress.show()
        else:
            self.page_progress.hide()

    # -- zoom ----------------------------------------------------------------------------
    def scale(self) -> float:
        """Current zoom (1.0 = 100 %)."""
        return self.left.transform().m11()

    def set_scale(self, scale: float) -> None:
        """Zoom both sides to ``scale`` about the centre of the view (1.0 = 100 %)."""
        self._fit = False
        centre = self.left.mapToScene(self.left.viewport().rect().center())
        self._apply(QTransform.fromScale(scale, scale))
        self.left.centerOn(centre)
        self._sync_from_left()

    def actual_size(self) -> None:
        """Zoom to 100 % (one image pixel per screen pixel)."""
        self.set_scale(1.0)

    def zoom_in(self) -> None:
        """Zoom in one step about the centre."""
        self.set_scale(min(MAX_SCALE, self.scale() * ZOOM_STEP))

    def zoom_out(self) -> None:
        """Zoom out one step about the centre."""
        self.set_scale(max(MIN_SCALE, self.scale() / ZOOM_STEP))

    def fit_to_window(self) -> None:
        """Show the whole page on both sides; stays fitted when the window is resized."""
        self._fit = True
        rect = self.left.sceneRect()
        if rect.isEmpty():
            return
        self.left.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._apply(self.left.transform())
        self._sync_from_left()

    def is_fitted(self) -> bool:
        """True while in fit-to-window mode."""
        return self._fit

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit:
            self.fit_to_window()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._halved:  # both sides equally wide, so the pages compare 1:1
            self._halved = True
            half = max(1, self.splitter.width() // 2)
            self.splitter.setSizes([half, half])
        if self._fit:
            self.fit_to_window()

    def _zoom_about(self, factor: float, x: float, y: float) -> None:
        view = self.sender() if isinstance(self.sender(), QtPageView) else self.left
        old = self.scale()
        new = min(MAX_SCALE, max(MIN_SCALE, old * factor))
        if new == old:
            return
        self._fit = False
        # keep the scene point (x, y) under the cursor
        cursor = view.mapFromScene(QPointF(x, y))
        self._apply(QTransform.fromScale(new, new))
        after = view.mapToScene(cursor)
        view.horizontalScrollBar().setValue(
            view.horizontalScrollBar().value() + round((x - after.x()) * new)
        )
        view.verticalScrollBar().setValue(
            view.verticalScrollBar().value() + round((y - after.y()) * new)
        )
        self._sync_from(view)

    def _apply(self, transform: QTransform) -> None:
        self._syncing = True
        try:
            self.left.setTransform(transform)
            self.right.setTransform(transform)
        finally:
            self._syncing = False
        self.scale_changed.emit(transform.m11())

    def _follow(self, bar, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            bar.setValue(value)
        finally:
            self._syncing = False

    def _sync_from_left(self) -> None:
        self._sync_from(self.left)

    def _sync_from(self, view: QtPageView) -> None:
        if self._syncing:
            return
        other = self.right if view is self.left else self.left
        self._syncing = True
        try:
            if other.transform() != view.transform():
                other.setTransform(view.transform())
            other.horizontalScrollBar().setValue(view.horizontalScrollBar().value())
            other.verticalScrollBar().setValue(view.verticalScrollBar().value())
        finally:
            self._syncing = False
