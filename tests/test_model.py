"""Tests of scanclean.model: ModelSession, ModelInfo, ModelError, shipped models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_METADATA, write_onnx_model
from scanclean import model as model_mod
from scanclean.model import ModelError, ModelSession


def test_session_reads_metadata_and_names(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    info = session.info
    assert info.name == "tiny-test"
    assert info.version == "0"
    assert info.architecture == "test"
    assert info.receptive_field == 5
    assert info.size_multiple == 1
    assert info.value_range == "0-1, 1 = paper"
    assert info.metrics == {}
    assert info.macs_per_pixel is None
    assert info.input_name == "input"
    assert info.output_name == "output"
    assert info.path == tiny_model_path.resolve()


def test_run_shape_range_and_neighbourhood(tiny_model_path):
    session = ModelSession(tiny_model_path, intra_op_threads=1)
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 1, (2, 21, 13, 1)).astype(np.float32)
    out = session.run(batch)
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # a change at one pixel affects its 5 x 5 neighbourhood only (receptive field 5)
    changed = batch.copy()
    changed[0, 10, 6, 0] = 1.0 - changed[0, 10, 6, 0]
    diff = np.abs(session.run(changed) - out)[0, :, :, 0] > 0
    ys, xs = np.nonzero(diff)
    assert diff.any()
    assert ys.min() >= 8 and ys.max() <= 12 and xs.min() >= 4 and xs.max() <= 8


def test_metadata_values_are_parsed(tmp_path):
    meta = dict(TINY_METADATA, metrics='{"psnr": 31.5}', macs_per_pixel="72", description="d")
    session = ModelSession(write_onnx_model(tmp_path / "m.onnx", meta), intra_op_threads=1)
    assert session.info.metrics == {"psnr": 31.5}
    assert session.info.macs_per_pixel == 72.0
    assert session.info.description == "d"


def test_name_falls_back_to_stem(tmp_path):
    meta = {k: v for k, v in TINY_METADATA.items() if k != "name"}
    session = ModelSession(write_onnx_model(tmp_path / "nameless.onnx", meta))
    assert session.info.name == "nameless"


def test_run_rejects_size_not_multiple(tiny_model_multiple8_path):
    session = ModelSession(tiny_model_multiple8_path, intra_op_threads=1)
    assert session.info.size_multiple == 8
    with pytest.raises(ValueError, match="multiple"):
        session.run(np.ones((1, 12, 16, 1), np.float32))
    assert session.run(np.ones((1, 16, 16, 1), np.float32)).shape == (1, 16, 16, 1)


def test_not_onnx_raises_model_error_naming_file(tmp_path):
    bad = tmp_path / "not-a-model.onnx"
    bad.write_bytes(b"this is not a protobuf at all \x00\x01\x02" * 10)
    with pytest.raises(ModelError, match="not-a-model.onnx"):
        ModelSession(bad)


@pytest.mark.parametrize("content", [b"", None])
def test_empty_or_missing_file_raises_model_error(tmp_path, content):
    path = tmp_path / "empty.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match="empty.onnx"):
        ModelSession(path)


def test_wrong_rank_raises_model_error(tmp_path):
    path = write_onnx_model(tmp_path / "rank3.onnx", input_shape=["N", "H", "W"])
    with pytest.raises(ModelError, match=r"rank3\.onnx.*rank 3"):
        ModelSession(path)


def test_wrong_channels_raises_model_error(tmp_path):
    path = write_onnx_model(tmp_path / "rgb.onnx", input_shape=["N", "H", "W", 3])
    with pytest.raises(ModelError, match=r"rgb\.onnx.*3 channels"):
        ModelSession(path)


@pytest.mark.parametrize("key", ["receptive_field", "size_multiple"])
def test_missing_tiling_metadata_raises(tmp_path, key):
    meta = {k: v for k, v in TINY_METADATA.items() if k != key}
    path = write_onnx_model(tmp_path / f"no-{key}.onnx", meta)
    with pytest.raises(ModelError, match=key):
        ModelSession(path)


def test_shipped_models_uses_metadata_names_default_first(tmp_path, monkeypatch):
    write_onnx_model(tmp_path / "seed-dae.onnx", dict(TINY_METADATA, name="Seed DAE"))
    write_onnx_model(tmp_path / "scanclean-default.onnx", dict(TINY_METADATA, name="Default"))
    monkeypatch.setattr(model_mod, "models_dir", lambda: tmp_path)
    found = model_mod.shipped_models()
    assert list(found) == ["Default", "Seed DAE"]
    assert found["Seed DAE"] == tmp_path / "seed-dae.onnx"
    assert model_mod.default_model_path() == tmp_path / "scanclean-default.onnx"


def test_resolve_model_by_path_name_or_stem(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    write_onnx_model(shipped / "scanclean-default.onnx", dict(TINY_METADATA, name="Default"))
    write_onnx_model(shipped / "ref-file.onnx", dict(TINY_METADATA, name="reference-dae"))
    monkeypatch.setattr(model_mod, "models_dir", lambda: shipped)
    assert model_mod.resolve_model("reference-dae") == shipped / "ref-file.onnx"
    assert model_mod.resolve_model("ref-file") == shipped / "ref-file.onnx"
    assert model_mod.resolve_model("Default") == shipped / "scanclean-default.onnx"
    own = write_onnx_model(tmp_path / "mine.onnx")
    assert model_mod.resolve_model(own) == own
    monkeypatch.chdir(tmp_path)  # a file in the working folder wins over a shipped name
    write_onnx_model(tmp_path / "ref-file", dict(TINY_METADATA, name="local"))
    assert model_mod.resolve_model("ref-file") == Path("ref-file")
    with pytest.raises(FileNotFoundError, match=r"'nope'.*Default, reference-dae"):
        model_mod.resolve_model("nope")


def test_default_model_missing_is_clear(tmp_path, monkeypatch):
    monkeypatch.setattr(model_mod, "models_dir", lambda: tmp_path)
    assert model_mod.shipped_models() == {}
    with pytest.raises(FileNotFoundError, match="scanclean-default.onnx"):
        model_mod.default_model_path()


def test_models_dir_is_a_folder_or_none():
    folder = model_mod.models_dir()
    assert folder is None or folder.is_dir()


REPO_MODELS = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.onnx"))


@pytest.mark.parametrize("path", REPO_MODELS, ids=[p.name for p in REPO_MODELS])
def test_every_shipped_model_keeps_the_contract(path):
    """Each file in models/: under 10 MiB, the metadata the app reads, its own section in
    the model card, and an odd-sized page in, the same shape in [0, 1] out."""
    from scanclean.engine import clean_image

    assert path.stat().st_size < 10 * 2**20
    info = ModelSession(path, intra_op_threads=1).info
    for key in ("name", "version", "architecture", "training_data", "validation"):
        assert getattr(info, key), f"{path.name}: empty {key}"
    assert info.receptive_field > 0 and info.size_multiple >= 1
    assert info.value_range.startswith("0-1") and info.metrics and info.macs_per_pixel
    card = (path.parent / "README.md").read_text(encoding="utf-8")
    assert f"## `{info.name}` (models/{path.name}), version {info.version}" in card
    page = np.full((37, 29), 0.8, np.float32)
    page[10:14, 3:25] = 0.1  # a dark bar on grey paper
    out = clean_image(page, ModelSession(path, intra_op_threads=1), tile=64)
    assert out.shape == page.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert out[11, 14] < 0.5 < out[30, 14]  # the bar stays ink, the grey paper turns light


def test_default_model_keeps_faint_ink():
    """The text-survival bar on pages the generator makes with faint ink (300 dpi, the ink
    faded 60-80 % toward the paper, as the card's native faint set): over four pages, the
    default's Otsu ink F-measure is above Otsu on the raw scan and above classical
    background division, and its paper comes out near white."""
    from scanclean.engine import clean_image
    from scanclean_train.evaluate import classical_clean, ink_f_measure
    from scanclean_train.synth import generate

    folder = Path(__file__).resolve().parents[1] / "models"
    session = ModelSession(folder / "scanclean-default.onnx", intra_op_threads=2)
    scores = {"raw": [], "classical": [], "default": []}
    for seed in (1000, 1001, 1002, 1003):
        clean, noisy, _ = generate(
            np.random.default_rng(seed),
            (384, 384),
            dpi=300,
            add_dirt=("fade",),
            fade_range=(0.6, 0.8),
        )
        out = clean_image(noisy, session, tile=512)
        assert np.median(out[clean == 1.0]) > 0.95, f"seed {seed}: the paper stays grey"
        for key, page in (("raw", noisy), ("classical", classical_clean(noisy)), ("default", out)):
            scores[key].append(ink_f_measure(page, clean))
    mean = {key: float(np.mean(values)) for key, values in scores.items()}
    assert mean["default"] > mean["raw"] and mean["default"] > mean["classical"], scores
