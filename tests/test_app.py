"""``scanclean`` entry point: --batch (no Qt), --version, --self-test, the window's start-up,
and the demo scans lookup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import make_page

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with private config/data folders and offscreen Qt."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "desktop"), env.get("PYTHONPATH", "")]),
    )
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )


def test_batch_runs_the_cli_with_the_arguments_untouched_and_without_qt(tmp_path, tiny_model_path):
    src = tmp_path / "in.png"
    Image.fromarray(np.round(make_page(40, 50) * 255).astype(np.uint8)).save(src)
    out = tmp_path / "out"
    args = [str(src), "-o", str(out), "--model", str(tiny_model_path), "--threads", "1", "-q"]
    code = (
        "import sys\n"
        "from scanclean.app import main\n"
        f"rc = main(['--batch', *{args!r}])\n"
        "print('QT', any(m.split('.')[0] in ('PySide6', 'shiboken6') for m in sys.modules))\n"
        "print('TF', any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "QT False" in done.stdout and "TF False" in done.stdout
    with Image.open(out / "in.png") as image:
        assert image.size == (50, 40)


def test_batch_passes_options_meant_for_the_cli(tmp_path):
    # --version after --batch is the CLI's, not the app's; a CLI usage error keeps its code
    done = run_python("from scanclean.app import main; main(['--batch', '--version'])", tmp_path)
    assert done.returncode == 0 and "scanclean-batch" in done.stdout
    done = run_python(
        "import sys; from scanclean.app import main; sys.exit(main(['--batch', '--format', 'bmpx', 'x', '-o', 'y']))",
        tmp_path,
    )
    assert done.returncode == 2 and "scanclean-batch" in done.stderr


def test_version(capsys):
    import pytest

    from scanclean import __version__
    from scanclean.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"scanclean {__version__}"


def test_self_test_is_dispatched(monkeypatch):
    import scanclean.selftest
    from scanclean.app import main

    calls = []
    monkeypatch.setattr(scanclean.selftest, "main", lambda *a: calls.append(a) or 3)
    assert main(["--self-test"]) == 3
    assert calls == [()]


def test_window_opens_without_loading_the_model_runtime(tmp_path):
    code = (
        "import sys\n"
        "from scanclean.app import main\n"
        "rc = main(['--quit-after-show'])\n"
        "print('ORT', 'onnxruntime' in sys.modules)\n"
        "print('TF', any(m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx') for m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("shown ")
    assert "ORT False" in done.stdout and "TF False" in done.stdout
    # settings and log went to the private folders, not the user's
    assert (tmp_path / "config" / "ScanClean" / "ScanClean.conf").is_file()
    log = tmp_path / "data" / "ScanClean" / "ScanClean" / "scanclean.log"
    assert "start" in log.read_text()


def test_demo_scans_are_found_in_a_pyinstaller_bundle(tmp_path, monkeypatch):
    from scanclean import demo

    folder = tmp_path / "scanclean" / "resources" / "demo"
    folder.mkdir(parents=True)
    for name in ("b.png", "a.png"):
        Image.fromarray(np.full((4, 4), 255, np.uint8)).save(folder / name)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert demo.demo_folder() == folder
    assert [p.name for p in demo.demo_pages()] == ["a.png", "b.png"]


def test_shipped_demo_scans_are_listed():
    from scanclean import demo

    shipped = sorted((ROOT / "desktop" / "scanclean" / "resources" / "demo").glob("*.png"))
    found = demo.demo_pages()
    if shipped:
        assert [p.name for p in found] == [p.name for p in shipped]
    else:
        assert found == []
