"""Shared test fixtures: tiny ONNX denoising autoencoders and synthetic dirty pages.

Fixtures and helpers other test modules may use:

- ``tiny_model_path`` (session): a tiny fully-convolutional ONNX model, input ``"input"``
  ``(N, H, W, 1)`` float32 with dynamic N, H, W; two 3x3 convolutions and a sigmoid, so
  the output is in [0, 1] and depends on a 5 x 5 neighbourhood (receptive_field=5,
  size_multiple=1). Metadata as the trainer writes it, ``name="tiny-test"``.
- ``tiny_model_multiple8_path`` (session): like the above plus an 8 x 8 average-pool /
  nearest-upsample branch, so its output really depends on the 8-px grid alignment
  (size_multiple=8, receptive_field=20 which covers the true 19 px).
- ``make_page(h, w, seed=0)``: a synthetic dirty page ``(H, W) float32`` in [0, 1]
  (uneven grey paper, a stain, dark text-like strokes), numpy only. Also exposed as the
  fixture ``make_page`` for tests that prefer fixtures over imports.
- ``write_onnx_model(path, ...)``: writes such a model with chosen metadata/shape, for
  tests of bad models.

The environment gets ``QT_QPA_PLATFORM=offscreen`` (for Qt tests) and low
onnxruntime/TensorFlow thread counts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ROOT = Path(__file__).resolve().parents[1]
for _src in (_ROOT / "desktop", _ROOT / "trainer"):
    # a source checkout without `pip install -e .` still finds the packages
    if str(_src) not in sys.path:
        sys.path.insert(0, str(_src))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

TINY_METADATA = {
    "name": "tiny-test",
    "version": "0",
    "architecture": "test",
    "receptive_field": "5",
    "size_multiple": "1",
    "value_range": "0-1, 1 = paper",
    "training_data": "none",
    "validation": "none",
    "metrics": "{}",
}


def write_onnx_model(
    path: str | Path,
    metadata: dict[str, str] | None = None,
    *,
    multiple8: bool = False,
    input_shape: list | None = None,
    seed: int = 1234,
) -> Path:
    """Write a tiny fully-convolutional ONNX model with the ``onnx`` helper API (opset 17).

    Parameters
    ----------
    path : str or Path
        Output ``.onnx`` file.
    metadata : dict or None
        ``metadata_props`` (default :data:`TINY_METADATA`).
    multiple8 : bool
        Add an 8 x 8 average-pool + nearest-upsample branch (output depends on the
        8-px grid; true receptive field 19 px).
    input_shape : list or None
        Input shape (default ``["N", "H", "W", 1]``); pass e.g. ``["N", "H", "W"]`` to
        make a model of the wrong rank. The graph then is a plain Identity.
    seed : int
        Seed of the fixed random conv weights.

    Returns
    -------
    Path
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    path = Path(path)
    metadata = dict(TINY_METADATA if metadata is None else metadata)
    rng = np.random.default_rng(seed)
    shape = ["N", "H", "W", 1] if input_shape is None else input_shape
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)

    if input_shape is not None:
        nodes = [helper.make_node("Identity", ["input"], ["output"])]
        inits = []
    else:
        w1 = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
        b1 = rng.normal(0, 0.1, (4,)).astype(np.float32)
        w2 = rng.normal(0, 0.5, (1, 4, 3, 3)).astype(np.float32)
        b2 = np.array([0.5], np.float32)
        inits = [
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(b1, "b1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(b2, "b2"),
        ]
        nodes = [
            helper.make_node("Transpose", ["input"], ["x_nchw"], perm=[0, 3, 1, 2]),
            helper.make_node("Conv", ["x_nchw", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
            helper.make_node("Tanh", ["c1"], ["h1"]),
        ]
        mixed = "h1"
        if multiple8:
            inits.append(numpy_helper.from_array(np.array([1, 1, 8, 8], np.float32), "scales"))
            nodes += [
                helper.make_node(
                    "AveragePool", ["h1"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]
                ),
                helper.make_node("Resize", ["pooled", "", "scales"], ["up"], mode="nearest"),
                helper.make_node("Add", ["h1", "up"], ["mixed"]),
            ]
            mixed = "mixed"
        nodes += [
            helper.make_node("Conv", [mixed, "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
            helper.make_node("Sigmoid", ["c2"], ["s2"]),
            helper.make_node("Transpose", ["s2"], ["output"], perm=[0, 2, 3, 1]),
        ]
    graph = helper.make_graph(nodes, "tiny_dae", [x], [y], initializer=inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="scanclean-tests"
    )
    model.ir_version = 8
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """Tiny ONNX DAE: receptive_field=5, size_multiple=1, name "tiny-test"."""
    return write_onnx_model(tmp_path_factory.mktemp("models") / "tiny-test.onnx")


@pytest.fixture(scope="session")
def tiny_model_multiple8_path(tmp_path_factory) -> Path:
    """Tiny ONNX DAE with an 8 x 8 pool branch: receptive_field=20, size_multiple=8."""
    meta = dict(TINY_METADATA, name="tiny-test-m8", receptive_field="20", size_multiple="8")
    return write_onnx_model(
        tmp_path_factory.mktemp("models") / "tiny-test-m8.onnx", meta, multiple8=True
    )


def make_page(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A synthetic dirty scan: uneven grey paper, a coffee-like stain and dark strokes.

    Parameters
    ----------
    h, w : int
        Page size in px.
    seed : int
        Seed of numpy's random generator.

    Returns
    -------
    ndarray, (h, w) float32 in [0, 1]
        1 = paper.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # uneven grey paper: a smooth gradient plus fine grain
    page = 0.82 + 0.08 * np.sin(xx / max(w, 1) * 3.1 + rng.uniform(0, 6)) * np.cos(
        yy / max(h, 1) * 2.3
    )
    page += rng.normal(0, 0.02, (h, w)).astype(np.float32)
    # a ring-shaped stain
    cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.1, 0.3) * min(h, w) + 1
    dist = np.hypot(yy - cy, xx - cx)
    page -= 0.15 * np.exp(-(((dist - r) / (0.08 * r + 1)) ** 2))
    # text-like strokes: short dark horizontal and vertical bars on "lines"
    line_step = 18
    for top in range(6, max(h - 10, 7), line_step):
        x = int(rng.integers(2, 12))
        while x < w - 4:
            word = int(rng.integers(10, 60))
            for sx in range(x, min(x + word, w - 2), 5):
                height = int(rng.integers(6, 11))
                page[top : top + height, sx : sx + 2] = rng.uniform(0.05, 0.25)
                page[top + height - 2 : top + height, sx : sx + 4] = rng.uniform(0.05, 0.25)
            x += word + int(rng.integers(6, 14))
    return np.clip(page, 0.0, 1.0).astype(np.float32)


@pytest.fixture(name="make_page")
def make_page_fixture():
    """The :func:`make_page` helper as a fixture: ``make_page(h, w, seed=0)``."""
    return make_page
