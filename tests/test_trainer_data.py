"""Trainer data handling and evaluation helpers (no TensorFlow needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tests.conftest import make_page

from scanclean_train import data as D
from scanclean_train import evaluate as E


def write_pair_dir(root, names, size=(40, 30), groups=None, layout=("noisy", "clean")):
    """Write generated noisy/clean pairs; returns the data dir."""
    for sub in layout:
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        clean = np.ones((size[1], size[0]), np.float32)
        clean[5:8, 3 + i % 5 : 30] = 0.0
        noisy = make_page(size[1], size[0], seed=i)
        Image.fromarray((noisy * 255).astype(np.uint8)).convert("RGB").save(root / layout[0] / name)
        Image.fromarray((clean * 255).astype(np.uint8)).save(root / layout[1] / name)
    if groups:
        (root / "backgrounds.json").write_text(json.dumps({"groups": groups}))
    return root


def test_find_pairs_reads_both_layouts(tmp_path):
    a = write_pair_dir(tmp_path / "a", ["1.png", "2.png", "10.png"])
    b = write_pair_dir(tmp_path / "b", ["x.png"], layout=("train", "train_cleaned"))
    assert [p.name for p in D.find_pairs(a)] == ["1.png", "2.png", "10.png"]
    assert [p.noisy.parent.name for p in D.find_pairs(b)] == ["train"]
    noisy, clean = D.load_images(D.find_pairs(a))[0]
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape == (30, 40)


@pytest.mark.parametrize("breakage, message", [
    ("missing", "missing partner"),
    ("size", "differs"),
    ("garbage", "cannot read"),
])
def test_find_pairs_names_the_bad_file(tmp_path, breakage, message):
    root = write_pair_dir(tmp_path / "d", ["1.png", "2.png"])
    if breakage == "missing":
        (root / "clean" / "2.png").unlink()
    elif breakage == "size":
        Image.new("L", (41, 30), 255).save(root / "clean" / "2.png")
    else:
        (root / "noisy" / "2.png").write_bytes(b"not an image")
    with pytest.raises(D.DataError, match=message) as err:
        D.find_pairs(root)
    assert "2.png" in str(err.value)


def test_no_layout_is_an_error(tmp_path):
    with pytest.raises(D.DataError, match="noisy/ and clean/"):
        D.find_pairs(tmp_path)


def test_split_holds_out_whole_groups(tmp_path):
    names = [f"{i}.png" for i in range(12)]
    groups = {"g0": names[:5], "g1": names[5:8], "g2": names[8:10], "g3": names[10:]}
    pairs = D.find_pairs(write_pair_dir(tmp_path / "d", names, groups=groups))
    for seed in range(5):
        val_groups = D.choose_val_groups([p.group for p in pairs], 0.25, seed)
        assert val_groups == D.choose_val_groups([p.group for p in pairs], 0.25, seed)
        train, val = D.split_pairs(pairs, val_groups)
        assert {p.group for p in train}.isdisjoint({p.group for p in val})
        assert len(train) + len(val) == len(pairs) and val and train
    train, val = D.split_pairs(pairs, ["g1"])  # without the dir prefix
    assert sorted(p.name for p in val) == sorted(groups["g1"])
    with pytest.raises(D.DataError, match="not found"):
        D.split_pairs(pairs, ["nope"])


def test_pages_without_backgrounds_are_their_own_groups(tmp_path):
    pairs = D.find_pairs(write_pair_dir(tmp_path / "s", ["a.png", "b.png", "c.png"]))
    assert len({p.group for p in pairs}) == 3


def test_fade_ink_moves_only_ink_toward_background():
    clean = np.ones((40, 40), np.float32)
    clean[18:22, 5:35] = 0.0
    noisy = np.full((40, 40), 0.8, np.float32)
    noisy[18:22, 5:35] = 0.1
    faded = D.fade_ink(noisy, clean, 0.5)
    assert faded[20, 20] == pytest.approx(0.45, abs=1e-5)  # half-way to the 0.8 paper
    assert np.array_equal(faded[:10], noisy[:10])  # paper untouched
    assert np.array_equal(D.fade_ink(noisy, clean, 0.0), noisy)


def test_sample_patch_is_seeded_and_scaled():
    pages = [(make_page(200, 240, seed=1), np.ones((200, 240), np.float32))]
    a = D.sample_patch(pages, 64, np.random.default_rng(3), D.Augment())
    b = D.sample_patch(pages, 64, np.random.default_rng(3), D.Augment())
    assert a[0].shape == a[1].shape == (64, 64)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    small, _ = D.crop_scaled(pages[0][0], pages[0][1], 64, 3.0, np.random.default_rng(0))
    assert small.shape == (64, 64)


def test_ink_f_measure_drops_when_ink_is_erased():
    clean = np.ones((50, 50), np.float32)
    clean[10:40, 20:24] = 0.0
    assert E.ink_f_measure(clean, clean) == pytest.approx(100.0)
    half = clean.copy()
    half[10:25, 20:24] = 1.0
    assert 50 < E.ink_f_measure(half, clean) < 90
    assert E.ink_f_measure(np.ones_like(clean), clean) == 0.0


def test_classical_baseline_flattens_a_stain():
    clean = np.ones((80, 80), np.float32)
    clean[30:33, 10:70] = 0.0
    stain = np.ones((80, 80), np.float32)
    stain[:, 40:] = 0.6
    noisy = clean * stain
    out = E.classical_clean(noisy)
    rmse = lambda a: float(np.sqrt(np.mean((a - clean) ** 2)))  # noqa: E731
    assert rmse(out) < 0.5 * rmse(noisy)
    assert E.ink_f_measure(out, clean) > 90
