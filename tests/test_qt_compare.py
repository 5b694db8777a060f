"""The side-by-side view: both sides share zoom (transform) and pan (scroll bars)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import make_page  # noqa: E402

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402

from scanclean.qt.qt_compare import QtCompareView  # noqa: E402
from scanclean.qt.qt_images import array_to_qimage, to_uint8  # noqa: E402


@pytest.fixture
def view(qtbot):
    widget = QtCompareView()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    qtbot.waitExposed(widget)
    page = make_page(600, 800)
    widget.set_pages(array_to_qimage(page), array_to_qimage(1 - page))
    return widget


def bars(view):
    return [
        (v.horizontalScrollBar().value(), v.verticalScrollBar().value())
        for v in (view.left, view.right)
    ]


def test_array_to_qimage_copies_grey_pixels():
    page = make_page(30, 41)  # odd width: rows are not 4-byte aligned
    image = array_to_qimage(page)
    grey = to_uint8(page)
    assert (image.width(), image.height()) == (41, 30)
    assert image.format() == image.Format.Format_Grayscale8
    for y, x in [(0, 0), (29, 40), (15, 7)]:
        assert image.pixel(x, y) & 0xFF == grey[y, x]
    page[:] = 0  # the image owns a copy
    assert image.pixel(0, 0) & 0xFF == grey[0, 0]


def test_fit_shows_the_whole_page_on_both_sides(view):
    view.fit_to_window()
    assert view.is_fitted()
    assert view.left.transform() == view.right.transform()
    assert 0 < view.scale() < 1  # 800 x 600 px page in a smaller view
    visible = view.left.mapToScene(view.left.viewport().rect()).boundingRect()
    assert visible.contains(view.left.sceneRect().adjusted(1, 1, -1, -1))


def test_zoom_and_pan_follow_each_other(view):
    view.actual_size()
    assert view.scale() == pytest.approx(1.0)
    assert view.right.transform().m11() == pytest.approx(1.0)
    view.left.horizontalScrollBar().setValue(123)
    view.left.verticalScrollBar().setValue(77)
    assert bars(view) == [(123, 77), (123, 77)]
    view.right.horizontalScrollBar().setValue(40)  # panning the right side moves the left
    assert bars(view)[0][0] == 40
    view.zoom_in()
    assert view.left.transform() == view.right.transform()
    assert view.scale() == pytest.approx(1.25)
    a, b = bars(view)
    assert a == b


def test_wheel_zooms_both_sides_about_the_cursor(view):
    view.actual_size()
    target = view.right.viewport().rect().center() + QPoint(50, 30)
    before = view.right.mapToScene(target)
    event = QWheelEvent(
        QPointF(target),
        QPointF(view.right.viewport().mapToGlobal(target)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.right.wheelEvent(event)
    assert view.scale() == pytest.approx(1.25)
    assert view.left.transform() == view.right.transform()
    after = view.right.mapToScene(target)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    assert bars(view)[0] == bars(view)[1]  # the same spot on both sides
    assert not view.is_fitted()


def test_cleaned_side_fills_in_without_moving(view):
    view.actual_size()
    view.left.horizontalScrollBar().setValue(90)
    view.set_cleaned(None)
    assert not view.right.has_image()
    view.set_cleaned(array_to_qimage(np.ones((600, 800), np.float32)))
    assert view.right.has_image()
    assert bars(view) == [(90, bars(view)[0][1])] * 2
