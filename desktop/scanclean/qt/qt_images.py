"""Conversions between page arrays and Qt images (GUI thread only)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Turn a page into C-contiguous 8-bit grey (``scanclean.pages.to_uint8``).

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(H, W)`` float32 in [0, 1] (1 = paper), or ``(H, W)`` uint8.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` uint8, C-contiguous, 255 = paper.

    Raises
    ------
    ValueError
        If ``pixels`` is not two-dimensional.
    """
    from scanclean.pages import to_uint8 as pages_to_uint8

    if pixels.ndim != 2:
        raise ValueError(f"expected an (H, W) page, got shape {pixels.shape}")
    return np.ascontiguousarray(pages_to_uint8(pixels))


def array_to_qimage(pixels: np.ndarray) -> QImage:
    """Make a ``QImage`` (``Format_Grayscale8``) that owns a copy of a page.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(H, W)`` float32 in [0, 1] or ``(H, W)`` uint8.

    Returns
    -------
    QImage
        ``W`` x ``H`` px, ``Format_Grayscale8``, independent of ``pixels`` (the buffer is
        copied, so the array may be freed afterwards).

    Notes
    -----
    Call this in the GUI thread only; workers emit numpy arrays.
    """
    grey = to_uint8(pixels)
    h, w = grey.shape
    image = QImage(grey.data, w, h, grey.strides[0], QImage.Format.Format_Grayscale8)
    return image.copy()  # detach from the numpy buffer


def thumbnail_pixmap(pixels: np.ndarray, size: int = 64) -> QPixmap:
    """Make a small preview of a page for the queue.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(H, W)`` float32 in [0, 1] or uint8.
    size : int
        Longest side of the thumbnail (px).

    Returns
    -------
    QPixmap
        At most ``size`` x ``size`` px, aspect ratio kept.
    """
    h, w = pixels.shape
    step = max(1, min(h, w) // (4 * size), max(h, w) // (4 * size))
    small = array_to_qimage(pixels[::step, ::step])
    small = small.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    return QPixmap.fromImage(small)
