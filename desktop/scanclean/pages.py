"""Page image I/O with Pillow: any scan to grey float32 pages and back to 8-bit files.

Reading (:func:`load_pages`, :func:`iter_pages`): PNG, JPEG, TIFF (every page of a
multi-page TIFF), BMP and WebP. The EXIF orientation is applied
(``PIL.ImageOps.exif_transpose``), every Pillow mode (1, L, LA, P, PA, RGB, RGBA,
I;16, I, F, CMYK, YCbCr, LAB ...) becomes grey ``(H, W) float32`` in [0, 1] with
1 = paper, alpha is composited over white, and the DPI is kept.

Writing (:func:`save_pages`): 8-bit grey (mode ``L``), the DPI written back where the
format stores one, a multi-page TIFF when there is more than one page, always
atomically (a temp file in the target folder, then ``os.replace``; :func:`atomic_file`).

No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

__all__ = [
    "FORMAT_SUFFIX",
    "SUPPORTED_SUFFIXES",
    "ImageError",
    "Page",
    "count_pages",
    "format_for_path",
    "image_to_grey",
    "iter_pages",
    "load_pages",
    "save_pages",
    "to_uint8",
]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)
"""Lower-case file suffixes of the image files ScanClean reads and writes."""

_SUFFIX_FORMAT = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}

FORMAT_SUFFIX = {"png": ".png", "tiff": ".tiff", "jpeg": ".jpg", "webp": ".webp", "bmp": ".bmp"}
"""Output suffix for each format name the CLI accepts."""

_ROWS_PER_CHUNK = 512  # rows converted at a time (keeps float temporaries small)


class ImageError(ValueError):
    """An image file cannot be read or written; the message names the file and the reason."""


@dataclass
class Page:
    """One page of a scan.

    Attributes
    ----------
    pixels : ndarray, (H, W) float32 in [0, 1]
        Grey values, 1 = paper (white), 0 = ink.
    dpi : tuple of (float, float) or None
        Horizontal and vertical resolution in dpi, ``None`` when the file has none.
    source : Path
        The file the page came from.
    index : int
        0-based page index within the file.
    n_pages : int
        Number of pages in the file.
    """

    pixels: np.ndarray
    dpi: tuple[float, float] | None
    source: Path
    index: int = 0
    n_pages: int = 1

    @property
    def megapixels(self) -> float:
        """Page size in MP (10^6 px)."""
        return self.pixels.shape[0] * self.pixels.shape[1] / 1e6


def format_for_path(path: str | Path) -> str:
    """Pillow format name (``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"BMP"``, ``"WEBP"``) for a path.

    Raises
    ------
    ImageError
        When the suffix is not one of :data:`SUPPORTED_SUFFIXES`.
    """
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIX_FORMAT[suffix]
    except KeyError:
        raise ImageError(
            f"{path}: unsupported image format {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        ) from None


def _grey_from_uint8(grey: np.ndarray) -> np.ndarray:
    out = grey.astype(np.float32)
    out *= np.float32(1 / 255)
    return out


def _over_white(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite grey over white: ``g * a + 1 * (1 - a)``; inputs uint8, output float32."""
    out = np.empty(grey.shape, np.float32)
    for y in range(0, grey.shape[0], _ROWS_PER_CHUNK):
        g = grey[y : y + _ROWS_PER_CHUNK].astype(np.float32) * np.float32(1 / 255)
        a = alpha[y : y + _ROWS_PER_CHUNK].astype(np.float32) * np.float32(1 / 255)
        out[y : y + _ROWS_PER_CHUNK] = 1 - a * (1 - g)
    return out


def image_to_grey(image: Image.Image) -> np.ndarray:
    """Convert a Pillow image of any mode to grey in [0, 1], alpha composited over white.

    Colour is reduced with Pillow's ITU-R 601-2 luma transform (``convert("L")``).
    ``I;16*`` is scaled by 1/65535; ``I`` (32-bit integer, how Pillow opens many
    16-bit files) by 1/65535 and clipped; ``F`` is taken as [0, 1] when its maximum
    is at most 1, else as [0, 255], and clipped.

    Parameters
    ----------
    image : PIL.Image.Image
        Any mode.

    Returns
    -------
    ndarray, (H, W) float32 in [0, 1]
        1 = paper.
    """
    mode = image.mode
    if mode == "L":
        return _grey_from_uint8(np.asarray(image))
    if mode == "1":
        return np.asarray(image).astype(np.float32)
    if mode.startswith("I;16"):
        out = np.asarray(image).astype(np.float32)
        out *= np.float32(1 / 65535)
        return out
    if mode == "I":
        out = np.asarray(image).astype(np.float32)
        out *= np.float32(1 / 65535)
        return np.clip(out, 0, 1, out=out)
    if mode == "F":
        out = np.array(image, dtype=np.float32)
        np.nan_to_num(out, copy=False, nan=1.0)
        if out.size and float(out.max()) > 1.0:
            out *= np.float32(1 / 255)
        return np.clip(out, 0, 1, out=out)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode in ("LA", "La"):
        if mode == "La":
            image = image.convert("LA")
        la = np.asarray(image)
        return _over_white(la[..., 0], la[..., 1])
    if mode in ("RGBA", "RGBa"):
        if mode == "RGBa":
            image = image.convert("RGBA")
        alpha = np.asarray(image.getchannel("A"))
        grey = np.asarray(image.convert("RGB").convert("L"))
        return _over_white(grey, alpha)
    if mode != "RGB":  # CMYK, YCbCr, LAB, HSV, RGBX ...
        image = image.convert("RGB")
    return _grey_from_uint8(np.asarray(image.convert("L")))


def _dpi_of(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    if not (x > 0 and y > 0):
        return None
    # PNG stores px per metre: 300 dpi comes back as 299.9994; snap such values
    x, y = (float(round(v)) if abs(v - round(v)) < 0.01 else v for v in (x, y))
    return (x, y)


def _open(path: Path) -> Image.Image:
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file Pillow can read") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: image too large ({exc})") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot open ({exc})") from None


def count_pages(path: str | Path) -> int:
    """Number of pages (frames) in an image file, reading only its header(s).

    Raises
    ------
    ImageError
        When the file cannot be opened as an image.
    """
    path = Path(path)
    with _open(path) as image:
        return int(getattr(image, "n_frames", 1) or 1)


def iter_pages(path: str | Path) -> Iterator[Page]:
    """Yield the pages of an image file one at a time (to keep memory to one page).

    Parameters
    ----------
    path : str or Path
        PNG, JPEG, TIFF (multi-page too), BMP or WebP file.

    Yields
    ------
    Page
        ``pixels`` (H, W) float32 in [0, 1] after the EXIF orientation is applied;
        ``dpi`` swapped along with the axes when the orientation rotates by 90 degrees.

    Raises
    ------
    ImageError
        Missing, empty (0 bytes), truncated or corrupt file, or not an image; the
        message names the file and the reason.
    """
    path = Path(path)
    with _open(path) as image:
        if image.format not in {"PNG", "JPEG", "MPO", "TIFF", "BMP", "DIB", "WEBP"}:
            raise ImageError(
                f"{path}: unsupported image format {image.format}; "
                "ScanClean reads PNG, JPEG, TIFF, BMP and WebP"
            )
        if image.format != "TIFF":
            # single page: decode, then close the file before the caller gets the page
            page = _decode_frame(image, path, 0, 1)
        else:
            n_pages = int(getattr(image, "n_frames", 1) or 1)
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                yield _decode_frame(frame, path, index, n_pages)
            return
    yield page


def _decode_frame(frame: Image.Image, path: Path, index: int, n_pages: int) -> Page:
    """Decode one frame into a :class:`Page` (EXIF orientation applied, grey in [0, 1])."""
    where = f" page {index + 1}" if n_pages > 1 else ""
    try:
        frame.load()
        dpi = _dpi_of(frame)
        upright = ImageOps.exif_transpose(frame)
        if dpi is not None and upright.size != frame.size:
            dpi = (dpi[1], dpi[0])  # rotated by 90 degrees: the axes swap
        if upright.width == 0 or upright.height == 0:
            raise ImageError(f"{path}:{where} zero-size image")
        pixels = image_to_grey(upright)
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise ImageError(f"{path}:{where} cannot decode ({exc})") from None
    return Page(pixels=pixels, dpi=dpi, source=path, index=index, n_pages=n_pages)


def load_pages(path: str | Path) -> list[Page]:
    """Read every page of an image file (see :func:`iter_pages`).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of Page
        One page for PNG/JPEG/BMP/WebP, every frame of a multi-page TIFF.

    Raises
    ------
    ImageError
        With the path and the reason.
    """
    return list(iter_pages(path))


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Grey float in [0, 1] to 8-bit, rounded, clipped, in row chunks (no full-page float copy).

    Parameters
    ----------
    pixels : ndarray, (H, W) float in [0, 1] (values outside are clipped), or uint8 (returned as is)

    Returns
    -------
    ndarray, (H, W) uint8
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.ndim != 2:
        raise ValueError(f"a page must be (H, W), got shape {pixels.shape}")
    out = np.empty(pixels.shape, np.uint8)
    for y in range(0, pixels.shape[0], _ROWS_PER_CHUNK):
        chunk = np.asarray(pixels[y : y + _ROWS_PER_CHUNK], np.float32) * np.float32(255)
        chunk += np.float32(0.5)
        np.clip(chunk, 0, 255, out=chunk)
        out[y : y + _ROWS_PER_CHUNK] = chunk  # truncation of x + 0.5: round half up
    return out


def _save_options(fmt: str, dpi: tuple[float, float] | None) -> dict:
    options: dict = {}
    if fmt == "JPEG":
        options.update(quality=92, subsampling=0)
    elif fmt == "WEBP":
        options.update(quality=92, method=4)
    elif fmt == "TIFF":
        options.update(compression="tiff_adobe_deflate")
    elif fmt == "PNG":
        options.update(compress_level=3)  # ~2x faster than 6 on noisy pages, ~2% larger
    if dpi is not None:
        x, y = float(dpi[0]), float(dpi[1])
        # JPEG (JFIF) stores integer dpi; PNG/TIFF/BMP store them as rationals.
        options["dpi"] = (round(x), round(y)) if fmt == "JPEG" else (x, y)
    return options


def _file_mode() -> int:
    """The mode a new file gets from ``open()``: 0o666 minus this process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """Write a file atomically: yield a binary handle to a temp file, then rename it.

    The temp file is made in the target folder (created if needed), so ``os.replace``
    stays on one file system and is atomic. On leaving the block normally it is flushed,
    fsync'ed, given the usual file mode and renamed over ``path``; on any error or
    interruption (``KeyboardInterrupt`` too) it is removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or Path
        Target file.

    Yields
    ------
    binary file handle, opened ``w+b`` (multi-page TIFF writers read back)

    Raises
    ------
    OSError
        The folder or temp file cannot be made, or writing fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save_pages(
    pixels_list: Sequence[np.ndarray] | np.ndarray,
    path: str | Path,
    dpi: tuple[float, float] | None = None,
    format: str | None = None,
) -> Path:
    """Write pages as an 8-bit grey image file, atomically.

    The pages are encoded into a temp file in the target folder (created if needed)
    which then replaces ``path`` with ``os.replace``; on any error or interruption
    (``KeyboardInterrupt`` too) the temp file is removed and ``path`` is untouched.

    Parameters
    ----------
    pixels_list : sequence of ndarray, (H, W) float32 in [0, 1] or uint8; or one (H, W) array
        The pages, 1 = paper.
    path : str or Path
        Target file.
    dpi : tuple of (float, float) or None
        Resolution to write back (PNG, JPEG, TIFF, BMP; WebP stores none).
    format : str or None
        Pillow format name (``"PNG"``, ``"TIFF"``, ``"JPEG"``, ``"WEBP"``, ``"BMP"``,
        lower case accepted); ``None``: from the suffix of ``path``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ImageError
        Unsupported format, several pages for a single-page format, or the file
        cannot be written (the message names the path and the reason).
    """
    path = Path(path)
    if isinstance(pixels_list, np.ndarray) and pixels_list.ndim == 2:
        pixels_list = [pixels_list]
    if len(pixels_list) == 0:
        raise ImageError(f"{path}: no pages to write")
    fmt = format.upper() if format else format_for_path(path)
    if fmt in ("JPG",):
        fmt = "JPEG"
    if fmt == "TIF":
        fmt = "TIFF"
    if fmt not in {"PNG", "JPEG", "TIFF", "BMP", "WEBP"}:
        raise ImageError(f"{path}: cannot write format {format!r}")
    if len(pixels_list) > 1 and fmt != "TIFF":
        raise ImageError(f"{path}: {len(pixels_list)} pages need TIFF; {fmt} holds one page")

    images = [Image.fromarray(to_uint8(p), mode="L") for p in pixels_list]
    options = _save_options(fmt, dpi)
    if len(images) > 1:
        options.update(save_all=True, append_images=images[1:])

    try:
        with atomic_file(path) as handle:
            images[0].save(handle, format=fmt, **options)
    except OSError as exc:
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
