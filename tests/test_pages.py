"""Tests of scanclean.pages: formats, modes, EXIF orientation, DPI, multi-page TIFF, bad files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_page
from scanclean.pages import (
    SUPPORTED_SUFFIXES,
    ImageError,
    Page,
    atomic_file,
    count_pages,
    image_to_grey,
    load_pages,
    save_pages,
    to_uint8,
)


def _grey_u8(h=40, w=30, seed=0) -> np.ndarray:
    return (make_page(h, w, seed) * 255).round().astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff", ".bmp", ".webp", ".jpg", ".jpeg"])
def test_read_write_each_format(tmp_path, suffix):
    grey = _grey_u8()
    src = tmp_path / f"in{suffix}"
    Image.fromarray(grey, "L").save(src, **({"lossless": True} if suffix == ".webp" else {}))
    (page,) = load_pages(src)
    assert isinstance(page, Page)
    assert page.pixels.shape == grey.shape and page.pixels.dtype == np.float32
    if suffix in (".jpg", ".jpeg"):  # lossy: close on average
        assert np.abs(page.pixels - grey / 255.0).mean() < 0.03
    else:
        np.testing.assert_allclose(page.pixels, grey / 255.0, atol=0.5 / 255)
    assert page.source == src and page.index == 0 and page.n_pages == 1

    out = tmp_path / f"out{suffix}"
    save_pages([page.pixels], out)
    with Image.open(out) as back:
        # WebP has no grey mode: Pillow stores it as RGB with equal channels
        assert back.mode == ("RGB" if suffix == ".webp" else "L")
        assert back.size == (grey.shape[1], grey.shape[0])
        if suffix not in (".jpg", ".jpeg", ".webp"):
            np.testing.assert_array_equal(np.asarray(back), to_uint8(page.pixels))
    (again,) = load_pages(out)
    assert np.abs(again.pixels - page.pixels).mean() < 0.03


def test_supported_suffixes():
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"} <= SUPPORTED_SUFFIXES


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "CMYK", "I;16", "I", "F"])
def test_modes_become_grey_in_unit_range(mode):
    grey = _grey_u8(seed=2)
    if mode == "1":
        img = Image.fromarray(grey > 128).convert("1")
        expected = (grey > 128).astype(np.float32)
    elif mode == "I;16":
        img = Image.fromarray(grey.astype(np.uint16) * 257)  # 8-bit value v -> 257 v
        assert img.mode == "I;16"
        expected = grey / 255.0
    elif mode == "I":
        img = Image.fromarray(grey.astype(np.int32) * 257, "I")
        expected = grey / 255.0
    elif mode == "F":
        img = Image.fromarray(grey.astype(np.float32) / 255.0, "F")
        expected = grey / 255.0
    else:
        img = Image.fromarray(grey, "L").convert(mode)
        expected = grey / 255.0
    out = image_to_grey(img)
    assert out.dtype == np.float32 and out.shape == grey.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out, expected, atol=1.5 / 255)


def test_colour_uses_luma():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255  # pure red -> luma 0.299
    out = image_to_grey(Image.fromarray(rgb, "RGB"))
    np.testing.assert_allclose(out, 0.299, atol=1 / 255)


@pytest.mark.parametrize("mode", ["LA", "RGBA", "PA"])
def test_alpha_is_composited_over_white(mode):
    grey = np.full((6, 8), 0, np.uint8)  # black ink
    alpha = np.zeros((6, 8), np.uint8)
    alpha[:, :4] = 255  # left half opaque, right half transparent
    alpha[:, 4:6] = 128
    la = Image.merge("LA", [Image.fromarray(grey), Image.fromarray(alpha)])
    img = la if mode == "LA" else la.convert("RGBA")
    if mode == "PA":
        img = img.convert("PA")
    out = image_to_grey(img)
    np.testing.assert_allclose(out[:, :4], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[:, 4:6], 1 - 128 / 255, atol=1e-3)
    np.testing.assert_allclose(out[:, 6:], 1.0, atol=1e-6)


def test_palette_with_transparency_from_file(tmp_path):
    img = Image.new("P", (5, 4), 0)
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    img.putpixel((0, 0), 1)
    path = tmp_path / "p.png"
    img.save(path, transparency=0)  # index 0 (black) transparent -> white over paper
    (page,) = load_pages(path)
    np.testing.assert_allclose(page.pixels, 1.0)


def test_exif_orientation_is_applied_and_dpi_swapped(tmp_path):
    grey = np.full((20, 60), 255, np.uint8)  # landscape; a dark block at the left end
    grey[:, :10] = 0
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    path = tmp_path / "rot.jpg"
    Image.fromarray(grey, "L").save(path, exif=exif, dpi=(300, 150), quality=95)
    (page,) = load_pages(path)
    assert page.pixels.shape == (60, 20)  # upright: portrait
    # orientation 6: the image's left edge becomes the top edge
    assert page.pixels[:10].mean() < 0.1 and page.pixels[15:].mean() > 0.9
    assert page.dpi == (150.0, 300.0)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".bmp"])
def test_dpi_round_trip(tmp_path, suffix):
    src = tmp_path / f"in{suffix}"
    Image.fromarray(_grey_u8(), "L").save(src, dpi=(300, 600))
    (page,) = load_pages(src)
    assert page.dpi == pytest.approx((300, 600), abs=0.1)
    out = tmp_path / f"out{suffix}"
    save_pages([page.pixels], out, dpi=page.dpi)
    with Image.open(out) as back:
        assert tuple(back.info["dpi"]) == pytest.approx((300, 600), abs=0.1)


def test_no_dpi_is_none(tmp_path):
    src = tmp_path / "nodpi.png"
    Image.fromarray(_grey_u8(), "L").save(src)
    assert load_pages(src)[0].dpi is None


def test_multipage_tiff_round_trip(tmp_path):
    frames = [Image.fromarray(_grey_u8(30 + 5 * i, 20, seed=i), "L") for i in range(3)]
    src = tmp_path / "multi.tif"
    frames[0].save(src, save_all=True, append_images=frames[1:], dpi=(200, 200))
    assert count_pages(src) == 3
    pages = load_pages(src)
    assert [p.index for p in pages] == [0, 1, 2]
    assert all(p.n_pages == 3 for p in pages)
    assert [p.pixels.shape for p in pages] == [(30, 20), (35, 20), (40, 20)]
    for page, frame in zip(pages, frames, strict=True):
        np.testing.assert_allclose(page.pixels, np.asarray(frame) / 255.0, atol=1e-6)
    out = tmp_path / "out.tiff"
    save_pages([p.pixels for p in pages], out, dpi=pages[0].dpi)
    assert count_pages(out) == 3
    back = load_pages(out)
    for a, b in zip(back, pages, strict=True):
        np.testing.assert_allclose(a.pixels, b.pixels, atol=0.5 / 255)


def test_several_pages_need_tiff(tmp_path):
    with pytest.raises(ImageError, match="TIFF"):
        save_pages([np.ones((4, 4), np.float32)] * 2, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.png"
    Image.fromarray(_grey_u8(200, 200), "L").save(good)
    data = good.read_bytes()
    jpg = tmp_path / "good.jpg"
    Image.fromarray(_grey_u8(200, 200), "L").save(jpg)
    files = {
        "empty": tmp_path / "empty.png",
        "truncated_png": tmp_path / "trunc.png",
        "truncated_jpg": tmp_path / "trunc.jpg",
        "text": tmp_path / "notes.png",
        "missing": tmp_path / "missing.png",
    }
    files["empty"].write_bytes(b"")
    files["truncated_png"].write_bytes(data[: len(data) // 2])
    files["truncated_jpg"].write_bytes(jpg.read_bytes()[:300])
    files["text"].write_text("this is not an image\n")
    return files


@pytest.mark.parametrize("kind", ["empty", "truncated_png", "truncated_jpg", "text", "missing"])
def test_bad_files_raise_image_error_with_path(tmp_path, kind):
    path = _bad_files(tmp_path)[kind]
    with pytest.raises(ImageError, match=path.name) as info:
        load_pages(path)
    assert isinstance(info.value, ValueError)


def test_save_is_atomic_and_leaves_no_temp(tmp_path):
    out = tmp_path / "sub" / "page.png"
    save_pages([make_page(20, 20)], out)
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["page.png"]


def test_failed_save_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "page.png"
    out.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        save_pages([make_page(20, 20)], out)
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["page.png"]


def test_atomic_file_keeps_the_old_file_on_error_and_gives_the_usual_mode(tmp_path):
    out = tmp_path / "model.onnx"
    with atomic_file(out) as fh:
        fh.write(b"new")
    umask = os.umask(0)
    os.umask(umask)
    assert out.read_bytes() == b"new"
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(RuntimeError), atomic_file(out) as fh:
        fh.write(b"half")
        raise RuntimeError("crash while writing")
    assert out.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_to_uint8_rounds_and_clips():
    values = np.array([[-0.2, 0.0, 0.5 / 255, 0.499 / 255, 0.5, 1.0, 1.3]], np.float32)
    np.testing.assert_array_equal(to_uint8(values), [[0, 0, 1, 0, 128, 255, 255]])
