"""Tests of ``scanclean.selftest`` (the ``--self-test`` command).

The self-test must pass with a model that cleans and fail, with the reason, for a missing
or broken model, a model that does not clean the background, one that wipes the text,
one that returns NaN, missing demo scans and a loaded training stack. The models here are
tiny per-pixel ONNX graphs written with the ``onnx`` helper API.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scanclean import selftest

METADATA = {
    "version": "1",
    "architecture": "per-pixel levels (test)",
    "receptive_field": "1",
    "size_multiple": "1",
    "value_range": "0-1, 1 = paper",
    "training_data": "none",
    "validation": "none",
    "metrics": "{}",
}


def write_pixel_model(path: Path, name: str, nodes_spec: list[tuple[str, float | None]]) -> Path:
    """Write an ONNX model applying per-pixel ops in order to ``input`` (N, H, W, 1).

    ``nodes_spec`` items: ``("Sub"|"Mul"|"Add", constant)``, ``("Sqrt", None)``,
    ``("Clip01", None)``; an empty list makes an Identity model.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = ["N", "H", "W", 1]
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)
    nodes, inits, current = [], [], "input"
    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    inits.append(numpy_helper.from_array(np.array(1.0, np.float32), "one"))
    for i, (op, value) in enumerate(nodes_spec):
        out = f"t{i}"
        if op == "Clip01":
            nodes.append(helper.make_node("Clip", [current, "zero", "one"], [out]))
        elif op == "Sqrt":
            nodes.append(helper.make_node("Sqrt", [current], [out]))
        else:
            const = f"c{i}"
            inits.append(numpy_helper.from_array(np.array(value, np.float32), const))
            nodes.append(helper.make_node(op, [current, const], [out]))
        current = out
    nodes.append(helper.make_node("Identity", [current], ["output"]))
    graph = helper.make_graph(nodes, name, [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, dict(METADATA, name=name))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Per-pixel test models: one that cleans (a levels stretch) and three that do not."""
    folder = tmp_path_factory.mktemp("selftest-models")
    return {
        # (x - 0.3) * 2.5, clipped: grey paper (>= 0.7) -> white, ink (0.08) -> black
        "levels": write_pixel_model(
            folder / "levels.onnx", "levels-test", [("Sub", 0.3), ("Mul", 2.5), ("Clip01", None)]
        ),
        "identity": write_pixel_model(folder / "identity.onnx", "identity-test", []),
        # x * 0.1 + 0.9: everything near white, the text is gone
        "whiteout": write_pixel_model(
            folder / "whiteout.onnx", "whiteout-test", [("Mul", 0.1), ("Add", 0.9)]
        ),
        # sqrt(x - 2): NaN everywhere
        "nan": write_pixel_model(folder / "nan.onnx", "nan-test", [("Sub", 2.0), ("Sqrt", None)]),
    }


@pytest.fixture
def demo_png(tmp_path, monkeypatch) -> Path:
    """A readable demo scan, used instead of the package's demo folder."""
    path = tmp_path / "demo" / "page.png"
    path.parent.mkdir()
    Image.new("L", (64, 48), 200).save(path)
    monkeypatch.setattr(selftest, "demo_scan_paths", lambda: [path])
    return path


def _failures_except_runtime(failures: list[str]) -> list[str]:
    # Other test modules may have imported TensorFlow into this process; the runtime
    # check is tested on its own below and in a fresh interpreter.
    return [f for f in failures if not f.startswith("runtime:")]


def test_test_page_is_dirty_text_on_grey_paper():
    page = selftest.make_test_page((240, 360), seed=3)
    for array in (page.dirty, page.clean):
        assert array.shape == (240, 360) and array.dtype == np.float32
        assert float(array.min()) >= 0.0 and float(array.max()) <= 1.0
    assert page.ink.any() and page.background.mean() > 0.3
    assert not (page.ink & page.background).any()
    assert np.all(page.clean[page.background] == 1.0)  # the target is white paper
    assert float(np.mean(1.0 - page.dirty[page.background])) > 0.1  # grey, stained
    assert float(np.mean(page.dirty[page.ink])) < 0.25  # dark text


def test_test_page_rejects_tiny_shapes():
    with pytest.raises(ValueError, match="at least"):
        selftest.make_test_page((100, 100))


def test_cleaning_model_passes(models, demo_png):
    lines: list[str] = []
    failures = selftest.run_checks(models["levels"], log=lines.append, threads=1)
    assert _failures_except_runtime(failures) == []
    text = "\n".join(lines)
    assert "[ok]   model: levels-test version 1" in text
    assert "[ok]   clean a generated page:" in text
    assert "[ok]   demo scans: 1 demo scans" in text


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("identity", "background not cleaner"),
        ("whiteout", "text lost"),
        ("nan", "NaN or infinite"),
    ],
)
def test_models_that_do_not_clean_fail(models, demo_png, model, reason):
    failures = selftest.run_checks(models[model], log=lambda line: None, threads=1)
    clean_failures = [f for f in failures if f.startswith("clean a generated page:")]
    assert len(clean_failures) == 1 and reason in clean_failures[0], failures


def test_missing_and_broken_models_fail_with_the_path(tmp_path, demo_png):
    missing = tmp_path / "nowhere.onnx"
    failures = selftest.run_checks(missing, log=lambda line: None, threads=1)
    assert any(f.startswith("model:") and str(missing) in f for f in failures)
    assert any(f.startswith("clean a generated page: no model") for f in failures)

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an ONNX file")
    failures = selftest.run_checks(broken, log=lambda line: None, threads=1)
    assert any(f.startswith("model:") and "does not open" in f for f in failures)


def test_main_prints_the_reason_and_returns_1(tmp_path, demo_png, capsys):
    missing = tmp_path / "gone.onnx"
    assert selftest.main(missing, threads=1) == 1
    captured = capsys.readouterr()
    assert "[FAIL] model" in captured.out
    assert "self-test FAILED" in captured.err and str(missing) in captured.err


def test_missing_demo_scans_fail(models, monkeypatch):
    monkeypatch.setattr(selftest, "demo_scan_paths", lambda: [])
    failures = selftest.run_checks(models["levels"], log=lambda line: None, threads=1)
    assert any(f.startswith("demo scans:") and "missing" in f for f in failures)


def test_unreadable_demo_scan_fails(models, tmp_path, monkeypatch):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    monkeypatch.setattr(selftest, "demo_scan_paths", lambda: [bad])
    failures = selftest.run_checks(models["levels"], log=lambda line: None, threads=1)
    assert any(f.startswith("demo scans:") and str(bad) in f for f in failures)


def test_demo_scans_found_in_a_frozen_bundle(tmp_path, monkeypatch):
    folder = tmp_path / "scanclean" / "resources" / "demo"
    folder.mkdir(parents=True)
    for name in ("b.png", "a.png"):
        Image.new("L", (8, 8), 255).save(folder / name)

    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert selftest.demo_scan_paths() == [folder / "a.png", folder / "b.png"]


def test_shipped_demo_scans_present():
    paths = selftest.demo_scan_paths()
    assert paths, "no demo scans in desktop/scanclean/resources/demo/*.png"
    assert all(path.suffix == ".png" and path.stat().st_size > 0 for path in paths)


def test_loaded_training_stack_fails(models, demo_png, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", types.ModuleType("tf2onnx"))
    failures = selftest.run_checks(models["levels"], log=lambda line: None, threads=1)
    assert any(f.startswith("runtime:") and "tf2onnx" in f for f in failures)


def _run_main_in_fresh_python(model: Path | None, demo: Path | None) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scanclean import selftest\n"
        "if sys.argv[2] != '-':\n"
        "    selftest.demo_scan_paths = lambda: [Path(sys.argv[2])]\n"
        "model = None if sys.argv[1] == '-' else sys.argv[1]\n"
        "sys.exit(selftest.main(model, threads=1))\n"
    )
    args = [str(model) if model else "-", str(demo) if demo else "-"]
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_main_in_a_fresh_interpreter_returns_0(models, demo_png):
    result = _run_main_in_fresh_python(models["levels"], demo_png)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "no TensorFlow/Keras/tf2onnx loaded" in result.stdout


def test_default_model_passes_the_self_test():
    from scanclean.model import default_model_path

    try:
        default_model_path()
    except FileNotFoundError as exc:
        pytest.skip(f"no default model yet: {exc}")
    result = _run_main_in_fresh_python(None, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok]   model: " in result.stdout and "shipped models:" in result.stdout


def test_app_dispatches_self_test_here(monkeypatch):
    app = pytest.importorskip("scanclean.app")
    calls = []

    def fake_main(*args, **kwargs):
        calls.append((args, kwargs))
        return 7

    monkeypatch.setattr(selftest, "main", fake_main)
    assert app.main(["--self-test"]) == 7
    assert calls == [((), {})]
