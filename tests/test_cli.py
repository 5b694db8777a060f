"""Tests of the scanclean-batch CLI (scanclean.cli.main): exit codes, outputs, resume, Ctrl-C."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_page
from scanclean import cli
from scanclean import pages as pages_mod
from scanclean.pages import load_pages


def _write(path: Path, h=60, w=50, seed=0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((make_page(h, w, seed) * 255).round().astype(np.uint8), "L").save(path)
    return path


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _run(tiny_model_path, *args) -> int:
    return cli.main([*map(str, args), "--model", str(tiny_model_path), "--threads", "1", "-q"])


def test_cleans_folder_keeps_subfolders(tmp_path, tiny_model_path, capsys):
    src = tmp_path / "in"
    _write(src / "a.png")
    _write(src / "sub" / "b.jpg", seed=1)
    out = tmp_path / "out"
    assert _run(tiny_model_path, src, "-o", out) == 0
    assert _files(out) == ["a.png", "sub/b.png"]
    assert "2 cleaned, 0 skipped, 0 failed" in capsys.readouterr().err


def test_flips_4_writes_the_mirror_self_ensemble(tmp_path, tiny_model_path):
    from scanclean.engine import clean_image
    from scanclean.model import ModelSession
    from scanclean.pages import to_uint8

    src = _write(tmp_path / "in" / "a.png", h=70, w=90, seed=3)
    assert _run(tiny_model_path, src, "-o", tmp_path / "one") == 0
    assert _run(tiny_model_path, src, "-o", tmp_path / "four", "--flips", "4") == 0
    pixels = load_pages(src)[0].pixels
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    four = np.asarray(Image.open(tmp_path / "four" / "a.png"))
    expected = to_uint8(clean_image(pixels, session, flips=4))
    assert np.abs(four.astype(int) - expected).max() <= 1
    assert np.abs(four.astype(int) - np.asarray(Image.open(tmp_path / "one" / "a.png"))).max() > 2


def test_corrupt_file_exit_1_others_written(tmp_path, tiny_model_path, capsys):
    src = tmp_path / "in"
    _write(src / "a.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (src / "zero.jpg").write_bytes(b"")
    _write(src / "z.png", seed=2)
    out = tmp_path / "out"
    assert _run(tiny_model_path, src, "-o", out) == 1
    assert _files(out) == ["a.png", "z.png"]
    err = capsys.readouterr().err
    assert "broken.png" in err and "zero.jpg" in err
    assert "2 cleaned, 0 skipped, 2 failed" in err


def test_resume_skips_and_overwrite(tmp_path, tiny_model_path, capsys):
    src = tmp_path / "in"
    _write(src / "a.png")
    _write(src / "b.png", seed=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"done before")
    assert _run(tiny_model_path, src, "-o", out) == 0
    assert (out / "a.png").read_bytes() == b"done before"
    assert (out / "b.png").is_file()
    assert "1 cleaned, 1 skipped, 0 failed" in capsys.readouterr().err
    assert _run(tiny_model_path, src, "-o", out, "--overwrite") == 0
    assert load_pages(out / "a.png")[0].pixels.shape == (60, 50)
    assert "2 cleaned, 0 skipped" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("tiff", ".tiff"), ("jpeg", ".jpg"), ("webp", ".webp"), ("same", ".bmp")]
)
def test_formats(tmp_path, tiny_model_path, fmt, suffix):
    src = _write(tmp_path / "in" / "a.bmp")
    out = tmp_path / "out"
    assert _run(tiny_model_path, src, "-o", out, "--format", fmt) == 0
    assert _files(out) == [f"a{suffix}"]
    assert load_pages(out / f"a{suffix}")[0].pixels.shape == (60, 50)


def test_output_equal_to_input_is_refused(tmp_path, tiny_model_path, capsys):
    src = _write(tmp_path / "a.png")
    before = src.read_bytes()
    assert _run(tiny_model_path, src, "-o", tmp_path) == 1
    assert src.read_bytes() == before
    assert _files(tmp_path) == ["a.png"]
    assert "would replace the input" in capsys.readouterr().err


def test_inputs_never_replaced_in_place_batch(tmp_path, tiny_model_path):
    _write(tmp_path / "a.png")
    _write(tmp_path / "b.jpg", seed=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    # output folder = input folder, format same: every output is an input
    assert _run(tiny_model_path, tmp_path, "-o", tmp_path, "--format", "same") == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_ctrl_c_exits_130_and_leaves_no_temp(tmp_path, tiny_model_path, monkeypatch):
    src = tmp_path / "in"
    _write(src / "a.png")
    _write(src / "b.png", seed=1)
    out = tmp_path / "out"
    real_save = Image.Image.save
    calls = []

    def save_then_interrupt(self, fp, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # second page: interrupted while encoding
            real_save(self, fp, *args, **kwargs)
            raise KeyboardInterrupt
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    assert _run(tiny_model_path, src, "-o", out) == 130
    assert _files(out) == ["a.png"]  # the first page was written, no temp file of the second
    monkeypatch.setattr(Image.Image, "save", real_save)
    assert _run(tiny_model_path, src, "-o", out) == 0  # resume
    assert _files(out) == ["a.png", "b.png"]


def test_failed_write_leaves_no_temp(tmp_path, tiny_model_path, monkeypatch, capsys):
    src = _write(tmp_path / "in" / "a.png")
    out = tmp_path / "out"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pages_mod.os, "fsync", disk_full)
    assert _run(tiny_model_path, src, "-o", out) == 1
    assert _files(out) == []
    assert "No space left" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        [],  # no INPUT, no -o
        ["in.png"],  # no -o
        ["in.png", "-o", "out", "--format", "gif"],
        ["in.png", "-o", "out", "--threads", "0"],
        ["in.png", "-o", "out", "--tile", "abc"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2


def test_bad_model_is_usage_error_naming_file(tmp_path, capsys):
    src = _write(tmp_path / "a.png")
    bad = tmp_path / "bad.onnx"
    bad.write_text("not onnx")
    with pytest.raises(SystemExit) as info:
        cli.main([str(src), "-o", str(tmp_path / "out"), "--model", str(bad)])
    assert info.value.code == 2
    assert "bad.onnx" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_model_by_shipped_name(tmp_path, tiny_model_path, monkeypatch, capsys):
    from scanclean import model as model_mod

    monkeypatch.setattr(model_mod, "models_dir", lambda: tiny_model_path.parent)
    src = _write(tmp_path / "a.png")
    name = model_mod.ModelSession(tiny_model_path).info.name
    args = [str(src), "-o", str(tmp_path / "out"), "--threads", "1", "-q", "--model"]
    assert cli.main([*args, name]) == 0
    assert (tmp_path / "out" / "a.png").is_file()
    with pytest.raises(SystemExit) as info:
        cli.main([*args, "no-such-model"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "no-such-model" in err and name in err


def test_tile_too_small_for_model_is_usage_error(tmp_path, tiny_model_multiple8_path, capsys):
    src = _write(tmp_path / "a.png")
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                str(src),
                "-o",
                str(tmp_path / "o"),
                "--model",
                str(tiny_model_multiple8_path),
                "--tile",
                "16",
            ]
        )
    assert info.value.code == 2
    assert "at least 40" in capsys.readouterr().err


def test_console_entry_point_runs_as_module(tmp_path, tiny_model_path):
    src = _write(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[1]
    env_path = f"{root / 'desktop'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanclean.cli",
            str(src),
            "-o",
            str(out),
            "--model",
            str(tiny_model_path),
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "a.png").is_file()
    assert "1 cleaned" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "scanclean.cli", "--format", "png"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 2
