"""Cheap checks of the packaging files (no PyInstaller build here: packaging/build.sh does it).

- ``packaging/scanclean.spec`` is executed with stand-ins for PyInstaller's ``Analysis``,
  ``PYZ``, ``EXE`` and ``COLLECT``: it must list the models and demo scans at the paths
  ``scanclean.model``/``scanclean.demo`` look for, exclude the training stack and the tests,
  prune unused Qt parts, and keep UPX off.
- ruff's TID251 rule (pyproject.toml) bans TensorFlow, Keras and tf2onnx under desktop/.
- .ci/run runs the README's test command; the Linux desktop entry and icon are valid.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "scanclean.spec"


class _Recorder:
    """Stand-in for a PyInstaller build target: records its arguments."""

    calls: list[_Recorder]

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        type(self).calls.append(self)


def _fake_analysis_outputs() -> tuple[list, list]:
    """Binaries/datas TOC entries (dest, src, typecode) as PyInstaller's hooks collect them."""
    qt = "PySide6/Qt"
    binaries = [
        (f"{qt}/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        (f"{qt}/lib/libQt6Widgets.so.6", "/x/libQt6Widgets.so.6", "BINARY"),
        (f"{qt}/lib/libQt6Pdf.so.6", "/x/libQt6Pdf.so.6", "BINARY"),
        (f"{qt}/lib/libQt6WebEngineCore.so.6", "/x/libQt6WebEngineCore.so.6", "BINARY"),
        (f"{qt}/lib/libQt6Qml.so.6", "/x/libQt6Qml.so.6", "BINARY"),
        (f"{qt}/plugins/platforms/libqoffscreen.so", "/x/libqoffscreen.so", "BINARY"),
        (f"{qt}/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        (f"{qt}/plugins/imageformats/libqpdf.so", "/x/libqpdf.so", "BINARY"),
        (f"{qt}/plugins/imageformats/libqjpeg.so", "/x/libqjpeg.so", "BINARY"),
        ("onnxruntime/capi/libonnxruntime.so.1", "/x/libonnxruntime.so.1", "BINARY"),
        ("tensorflow/libtensorflow_framework.so.2", "/x/libtf.so.2", "BINARY"),
    ]
    datas = [
        (f"{qt}/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
        ("keras/src/api_export.txt", "/x/api_export.txt", "DATA"),
    ]
    return binaries, datas


def _run_spec(root: Path) -> dict:
    """Execute ``root/packaging/scanclean.spec`` with recording stand-ins; return them."""

    class Analysis(_Recorder):
        calls = []

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            binaries, datas = _fake_analysis_outputs()
            self.binaries = binaries
            self.datas = [
                (dest + "/" + Path(src).name, src, "DATA") for src, dest in kwargs["datas"]
            ]
            self.datas += datas
            self.pure, self.scripts = [], []

    class PYZ(_Recorder):
        calls = []

    class EXE(_Recorder):
        calls = []

    class COLLECT(_Recorder):
        calls = []

    class BUNDLE(_Recorder):
        calls = []

    namespace = {
        "SPECPATH": str(root / "packaging"),
        "Analysis": Analysis,
        "PYZ": PYZ,
        "EXE": EXE,
        "COLLECT": COLLECT,
        "BUNDLE": BUNDLE,
        "__file__": str(root / "packaging" / "scanclean.spec"),
    }
    code = compile((root / "packaging" / "scanclean.spec").read_text(), "scanclean.spec", "exec")
    exec(code, namespace)
    return {
        "analysis": Analysis.calls[0],
        "exe": EXE.calls[0],
        "collect": COLLECT.calls[0],
        "namespace": namespace,
    }


@pytest.fixture
def fake_repo(tmp_path) -> Path:
    """A copy of the packaging folder in a tree with two models and two demo scans."""
    shutil.copytree(ROOT / "packaging", tmp_path / "packaging")
    (tmp_path / "models").mkdir()
    for name in ("scanclean-default.onnx", "seed-dae.onnx"):
        (tmp_path / "models" / name).write_bytes(b"onnx")
    (tmp_path / "models" / "README.md").write_text("# model cards\n")
    (tmp_path / "models" / "__init__.py").write_text("")
    demo = tmp_path / "desktop" / "scanclean" / "resources" / "demo"
    demo.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        Image.new("L", (8, 8), 200).save(demo / name)
    (demo.parent / "icon.svg").write_text("<svg/>")
    (tmp_path / "desktop" / "scanclean" / "__init__.py").write_text("")
    (tmp_path / "desktop" / "scanclean" / "app.py").write_text("def main():\n    return 0\n")
    (tmp_path / "desktop" / "scanclean" / "qt").mkdir()
    (tmp_path / "desktop" / "scanclean" / "qt" / "qt_main.py").write_text("")
    return tmp_path


def test_spec_bundles_models_and_demo_scans_where_the_app_looks(fake_repo):
    analysis = _run_spec(fake_repo)["analysis"]
    datas = {(Path(src).name, dest) for src, dest in analysis.kwargs["datas"]}
    assert ("scanclean-default.onnx", "scanclean/models") in datas
    assert ("seed-dae.onnx", "scanclean/models") in datas
    assert ("README.md", "scanclean/models") in datas
    assert ("a.png", "scanclean/resources/demo") in datas
    assert ("b.png", "scanclean/resources/demo") in datas
    assert ("icon.svg", "scanclean/resources") in datas
    assert ("__init__.py", "scanclean/models") not in datas


def test_spec_entry_script_and_hidden_imports(fake_repo):
    analysis = _run_spec(fake_repo)["analysis"]
    (script,) = analysis.args[0]
    assert Path(script) == fake_repo / "packaging" / "scanclean_entry.py"
    assert analysis.kwargs["pathex"] == [str(fake_repo / "desktop")]
    hidden = analysis.kwargs["hiddenimports"]
    assert {"scanclean", "scanclean.app", "scanclean.qt.qt_main"} <= set(hidden)
    assert "onnxruntime.capi._pybind_state" in hidden


def test_spec_excludes_training_stack_tests_and_unused_qt(fake_repo):
    excludes = set(_run_spec(fake_repo)["analysis"].kwargs["excludes"])
    assert {"tensorflow", "keras", "tf2onnx", "scanclean_train", "tests", "pytest"} <= excludes
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtPdf"} <= (
        excludes
    )
    for needed in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg"):
        assert needed not in excludes
    assert not {"onnxruntime", "numpy", "PIL", "tqdm"} & excludes


def test_spec_prunes_unused_qt_parts_and_the_training_stack(fake_repo):
    analysis = _run_spec(fake_repo)["analysis"]
    binaries = {dest for dest, _src, _kind in analysis.binaries}
    datas = {dest for dest, _src, _kind in analysis.datas}
    assert "PySide6/Qt/lib/libQt6Widgets.so.6" in binaries
    assert "PySide6/Qt/plugins/platforms/libqoffscreen.so" in binaries
    assert "PySide6/Qt/plugins/platforms/libqxcb.so" in binaries
    assert "PySide6/Qt/plugins/imageformats/libqjpeg.so" in binaries
    assert "onnxruntime/capi/libonnxruntime.so.1" in binaries
    for gone in (
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "tensorflow/libtensorflow_framework.so.2",
    ):
        assert gone not in binaries
    assert "PySide6/Qt/translations/qtbase_de.qm" not in datas
    assert "keras/src/api_export.txt" not in datas
    assert "scanclean/models/scanclean-default.onnx" in datas


def test_spec_makes_one_folder_scanclean_without_upx(fake_repo):
    built = _run_spec(fake_repo)
    assert built["exe"].kwargs["name"] == "scanclean"
    assert built["exe"].kwargs["exclude_binaries"] is True  # one-folder
    assert built["exe"].kwargs["upx"] is False
    assert built["collect"].kwargs["name"] == "scanclean"
    assert built["collect"].kwargs["upx"] is False


def test_spec_lists_every_model_of_this_repo():
    analysis = _run_spec(ROOT)["analysis"]
    bundled = {
        Path(src).name for src, dest in analysis.kwargs["datas"] if dest == "scanclean/models"
    }
    shipped = {p.name for p in (ROOT / "models").glob("*.onnx")}
    assert shipped <= bundled


def test_entry_script_calls_app_main():
    tree = ast.parse((ROOT / "packaging" / "scanclean_entry.py").read_text())
    imports = [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert ("scanclean.app", "main") in imports
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    assert "main" in calls


def _ruff() -> list[str]:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.skip("ruff is not installed")
    return [sys.executable, "-m", "ruff"]


def test_ruff_bans_the_training_stack_in_the_app_only(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bad = tmp_path / "desktop" / "scanclean" / "uses_tf.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "import tensorflow\nfrom keras import layers\nimport tf2onnx\n\nprint(tensorflow, layers, tf2onnx)\n"
    )
    ok = tmp_path / "trainer" / "scanclean_train" / "uses_tf.py"
    ok.parent.mkdir(parents=True)
    ok.write_text(bad.read_text())
    result = subprocess.run(
        [*_ruff(), "check", "--no-cache", "--select", "TID251", "--output-format", "concise", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    hits = [line for line in result.stdout.splitlines() if "TID251" in line]
    # the three imports in desktop/ are flagged; the same file under trainer/ is allowed
    assert len(hits) == 3, result.stdout
    assert all(line.startswith("desktop/scanclean/uses_tf.py") for line in hits), result.stdout


def _readme_test_command() -> str:
    """The test command of the README's quick start (after ``pip install -e ... &&``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^pip install -e \S+ && (.*python -m pytest.*)$", text, re.MULTILINE)
    assert match, "README.md's quick start has no `pip install -e ... && ... pytest` line"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command_strictly():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci
    command = _readme_test_command()
    assert any(line.strip().startswith(command) for line in ci.splitlines()), command
    assert "pytest_rc == 5" in ci  # "no tests ran" is a failure
    assert "ruff check desktop trainer tests" in ci
    assert "packaging/build.sh" in ci


@pytest.mark.parametrize("script", [".ci/run", "packaging/build.sh", "packaging/linux/install.sh"])
def test_shell_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gitignore_keeps_build_output_out():
    lines = set((ROOT / ".gitignore").read_text().split())
    assert {"build/", "dist/", "__pycache__/", "*.keras"} <= lines


def test_desktop_entry():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(ROOT / "packaging" / "linux" / "scanclean.desktop")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "ScanClean"
    assert entry["Exec"].split()[0] == "scanclean"
    assert entry["Icon"] == "scanclean" and entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";")
    assert "image/tiff" in entry["MimeType"]


def test_icon_png_is_the_rendered_svg(tmp_path):
    pytest.importorskip("PySide6.QtSvg")
    png = ROOT / "packaging" / "linux" / "scanclean.png"
    with Image.open(png) as image:
        assert image.size == (256, 256) and image.mode == "RGBA"
        shipped = np.asarray(image, dtype=np.int16)
    out = tmp_path / "icon.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "linux" / "render_icon.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        rendered = np.asarray(image, dtype=np.int16)
    assert rendered.shape == shipped.shape
    assert np.abs(rendered - shipped).mean() < 2.0  # the PNG is up to date with the SVG
    assert shipped[..., 3].min() == 0 and shipped[128, 128, 3] == 255  # transparent corners
