"""Tests of the synthetic soiled-page generator (small pages, a few seconds in all)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scanclean_train import synth
from scanclean_train.synth_dirt import gaussian_blur

SMALL = (160, 120)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.png"))
    }


def _grey(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "L"
        return np.asarray(im, np.float32) / 255.0


def test_synth_imports_neither_tensorflow_nor_skimage():
    # run in a fresh interpreter so other tests' imports do not count
    import subprocess

    code = (
        "import sys, scanclean_train.synth as s; "
        "bad = [m for m in ('tensorflow', 'keras', 'skimage', 'tf2onnx') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(synth.__file__).parents[1])},
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_same_seed_same_bytes_and_page_independent_of_count(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synth.write_dataset(a, 3, seed=7, size=SMALL)
    synth.write_dataset(b, 3, seed=7, size=SMALL)
    synth.write_dataset(c, 2, seed=7, size=SMALL)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert len(da) == 6
    assert da == db
    # page i does not depend on how many pages were asked for
    assert all(da[k] == v for k, v in dc.items()) and len(dc) == 4


def test_different_seed_different_pages(tmp_path):
    synth.write_dataset(tmp_path / "a", 2, seed=1, size=SMALL)
    synth.write_dataset(tmp_path / "b", 2, seed=2, size=SMALL)
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert set(da) == set(db)
    assert all(da[k] != db[k] for k in da)


def test_pairs_have_same_names_and_sizes_and_no_temp_files(tmp_path):
    written = synth.write_dataset(tmp_path, 3, seed=3, size=(200, 150))
    clean = sorted(p.name for p in (tmp_path / "clean").iterdir())
    noisy = sorted(p.name for p in (tmp_path / "noisy").iterdir())
    assert clean == noisy == sorted(p.name for p in written)
    for name in clean:
        with Image.open(tmp_path / "clean" / name) as c, Image.open(tmp_path / "noisy" / name) as n:
            assert c.size == n.size == (200, 150)
            assert c.mode == n.mode == "L"


@pytest.mark.parametrize("seed", range(4))
def test_clean_is_mostly_paper_with_some_ink_and_noisy_differs(seed):
    clean, noisy = synth.generate_pair(np.random.default_rng(seed), size=(540, 420))
    assert clean.shape == noisy.shape == (420, 540)
    assert clean.dtype == noisy.dtype == np.float32
    assert 0.0 <= clean.min() and clean.max() <= 1.0 and 0.0 <= noisy.min() and noisy.max() <= 1.0
    assert (clean == 1.0).mean() > 0.70
    assert (clean < 0.5).mean() > 0.005
    assert np.sqrt(np.mean((noisy - clean) ** 2)) > 0.03
    # the paper of the noisy page is not pure white
    assert (noisy[clean == 1.0] < 1.0).mean() > 0.5


@pytest.mark.parametrize("seed", range(4))
def test_ink_stays_darker_than_its_local_background(seed):
    rng = np.random.default_rng(100 + seed)
    clean, noisy = synth.generate_pair(rng, size=(270, 210), dpi=150)
    ink = clean < 0.3
    assert ink.sum() > 50
    paper = (clean == 1.0).astype(np.float32)
    # local background = mean of noisy paper pixels in a ~15 px neighbourhood
    num = gaussian_blur(noisy * paper, 5.0)
    den = gaussian_blur(paper, 5.0)
    local_bg = num / np.maximum(den, 1e-3)
    ok = (noisy[ink] < local_bg[ink] - 0.05).mean()
    assert ok > 0.8


def test_target_keeps_faint_ink_tones():
    # over many pages the target holds ink at more than one tone (grey pens, stamps, faded)
    tones = set()
    for seed in range(8):
        clean, _ = synth.generate_pair(np.random.default_rng(seed), size=(200, 160))
        vals = clean[clean < 0.95]
        tones.update(np.round(np.percentile(vals, [5]) * 10).astype(int).tolist())
    assert len(tones) >= 2


@pytest.mark.parametrize("kind", synth.DIRT_KINDS)
def test_each_dirt_kind_runs_and_soils(kind):
    clean, noisy, info = synth.generate(np.random.default_rng(5), size=(200, 160), dirt=[kind])
    assert info["dirt"] == [kind]
    assert np.sqrt(np.mean((noisy - clean) ** 2)) > 0.01


def test_added_fade_dirt_makes_every_page_faint_by_the_range_asked():
    def ink_contrast(seed, **kw):
        clean, noisy, info = synth.generate(
            np.random.default_rng(seed), size=(200, 160), dpi=150, scanner_noise=0.0, **kw
        )
        ink = clean < 0.5
        return float(np.median(noisy[~ink]) - np.median(noisy[ink])), info["dirt"]

    plain = [ink_contrast(s) for s in range(4)]
    faint = [ink_contrast(s, add_dirt=("fade",), fade_range=(0.7, 0.8)) for s in range(4)]
    for (c_plain, kinds), (c_faint, faint_kinds) in zip(plain, faint, strict=True):
        assert faint_kinds == kinds + ["fade"] * ("fade" not in kinds)
        if "fade" not in kinds:  # the same page, now with its ink at about half the contrast
            assert c_faint < 0.7 * c_plain
    with pytest.raises(ValueError, match="fade range"):
        synth.generate(np.random.default_rng(0), size=SMALL, fade_range=(0.5, 0.9))


def test_cli_adds_dirt_to_every_page_and_records_it(tmp_path):
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "faint"
    argv = ["--out", str(out), "--count", "2", "--size", "120x100", "--add-dirt", "fade"]
    assert synth.run(parser.parse_args([*argv, "--fade-range", "0.6,0.8"])) == 0
    manifest = json.loads((out / synth.MANIFEST).read_text())
    assert manifest["add_dirt"] == ["fade"] and manifest["fade_range"] == [0.6, 0.8]
    assert all("fade" in page["dirt"] for page in manifest["pages"].values())
    for bad in (["--add-dirt", "mud"], ["--fade-range", "0.9,0.5"], ["--fade-range", "x"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["--out", str(out), *bad])


def test_pen_tones_draw_every_pen_light_and_leave_the_rest_of_the_page():
    """--pen-tone: the same page as without it, its handwriting and signature in pencil."""
    from scanclean_train.evaluate import light_strokes

    def page(**kw):
        rng = synth.page_seed(5, 0)
        marks = ("handwriting", "signature")
        return synth.generate(rng, (320, 240), 300.0, dirt=["coffee"], marks=marks, **kw)

    clean, noisy, info = page()
    pencil, pencil_noisy, pencil_info = page(pen_tones=(0.45, 0.55))
    assert info["annotations"] == pencil_info["annotations"]
    changed = pencil != clean  # the pens' strokes, nothing else
    assert 0.002 < changed.mean() < 0.2
    light = light_strokes(pencil)
    assert light.sum() > light_strokes(clean).sum() + 1000
    assert light[changed].mean() > 0.5  # most of the pens' strokes are light strokes now
    from scipy import ndimage

    near = ndimage.binary_dilation(changed, iterations=8)  # the scanner blur spreads them
    assert np.abs(pencil_noisy - noisy)[~near].max() < 1e-4  # same stain, same noise
    for bad in [(0.5, 0.8), (0.6, 0.4), (-0.1, 0.3)]:
        with pytest.raises(ValueError, match="pen tones"):
            page(pen_tones=bad)
    with pytest.raises(ValueError, match="unknown mark"):
        synth.generate(np.random.default_rng(0), size=SMALL, marks=("doodle",))


def test_cli_marks_and_pen_tone_reach_every_page_and_the_manifest(tmp_path):
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "pencil"
    argv = ["--out", str(out), "--count", "2", "--size", "200x160", "--dpi", "300"]
    args = parser.parse_args([*argv, "--marks", "handwriting,signature", "--pen-tone", "0.4,0.6"])
    assert synth.run(args) == 0
    manifest = json.loads((out / synth.MANIFEST).read_text())
    assert manifest["marks"] == ["handwriting", "signature"]
    assert manifest["pen_tones"] == [0.4, 0.6]
    for described in manifest["pages"].values():
        assert {"handwriting", "signature"} <= set(described["annotations"])
    for bad in (["--marks", "doodle"], ["--pen-tone", "0.5,0.9"], ["--pen-tone", "x"]):
        with pytest.raises(SystemExit):
            parser.parse_args([*argv, *bad])


def test_generates_without_any_font_package(monkeypatch):
    # CI machines may have no fonts under /usr/share/fonts: Pillow's built-in font must do
    from scanclean_train import synth_content

    monkeypatch.setattr(synth_content, "available_fonts", lambda: ())
    clean, noisy = synth.generate_pair(np.random.default_rng(0), size=(300, 200), dpi=120)
    assert (clean < 0.5).mean() > 0.005
    assert np.sqrt(np.mean((noisy - clean) ** 2)) > 0.03


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="unknown dirt"):
        synth.generate(np.random.default_rng(0), size=SMALL, dirt=["mud"])
    with pytest.raises(ValueError, match="at least"):
        synth.generate_pair(np.random.default_rng(0), size=(4, 4))
    with pytest.raises(ValueError, match="count"):
        synth.write_dataset("/nonexistent-never", -1, seed=0)


def test_cli_run_writes_files_and_stats(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "ds"
    args = parser.parse_args(
        [
            "--out",
            str(out),
            "--count",
            "2",
            "--seed",
            "4",
            "--size",
            "120x100",
            "--dpi",
            "100",
            "--stats",
            str(out),
        ]
    )
    assert synth.run(args) == 0
    for sub in ("clean", "noisy"):
        files = sorted((out / sub).glob("*.png"))
        assert len(files) == 2
        assert _grey(files[0]).shape == (100, 120)
    text = capsys.readouterr().out
    assert "rmse" in text and str(out)[-20:] in text


def test_dataset_manifest_says_what_went_into_each_page(tmp_path):
    synth.write_dataset(tmp_path / "ds", 3, seed=12, size=(160, 120))
    manifest = json.loads((tmp_path / "ds" / synth.MANIFEST).read_text())
    assert manifest["seed"] == 12 and sorted(manifest["pages"]) == [
        "000000.png",
        "000001.png",
        "000002.png",
    ]
    for i in range(3):
        # the page's own generator, replayed: the manifest is what generate() used
        rng = synth.page_seed(12, i)
        _, _, meta = synth.generate(rng, (160, 120))
        entry = manifest["pages"][f"{i:06d}.png"]
        assert entry["dirt"] == meta["dirt"] and entry["annotations"] == meta["annotations"]
        assert entry["dpi"] == pytest.approx(meta["dpi"], abs=0.01)
        assert entry["strength"] == pytest.approx(meta["strength"], abs=1e-3)
    assert not [p for p in (tmp_path / "ds").iterdir() if p.suffix == ".tmp"]


def test_cli_rejects_missing_out_and_bad_size():
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    assert synth.run(parser.parse_args([])) == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x", "--size", "big"])


def test_dataset_stats_measures_a_known_difference(tmp_path):
    (tmp_path / "clean").mkdir()
    (tmp_path / "noisy").mkdir()
    c = np.full((40, 50), 255, np.uint8)
    c[10:20, 10:30] = 0
    n = np.where(c == 255, 204, 51).astype(np.uint8)  # paper 0.8, ink 0.2
    Image.fromarray(c).save(tmp_path / "clean" / "p.png")
    Image.fromarray(n).save(tmp_path / "noisy" / "p.png")
    s = synth.dataset_stats(tmp_path)
    assert s["n"] == 1
    assert s["rmse"]["median"] == pytest.approx(0.2, abs=1e-3)
    assert s["background"]["median"] == pytest.approx(0.8, abs=1e-3)
    assert s["texture"]["median"] == pytest.approx(0.0, abs=1e-3)
    assert s["ink"]["median"] == pytest.approx(0.2, abs=1e-3)


def test_given_text_pages_are_soiled_as_they_are(tmp_path):
    # a pair folder with three pages, two of them the same text on different backgrounds
    data = tmp_path / "real"
    for sub in ("noisy", "clean"):
        (data / sub).mkdir(parents=True)
    texts = []
    for k in range(2):
        page = np.ones((90, 130), np.float32)
        page[20 + 30 * k : 30 + 30 * k, 10:120] = 0.0  # a line of "text" at its own place
        texts.append(page)
    for i, page in enumerate([texts[0], texts[1], texts[0]]):
        img = Image.fromarray((page * 255).astype(np.uint8))
        img.save(data / "clean" / f"{i}.png")
        img.save(data / "noisy" / f"{i}.png")
    (data / "backgrounds.json").write_text(
        json.dumps({"groups": {"a": ["0.png", "1.png"], "b": ["2.png"]}})
    )
    read = synth.read_texts(data)
    assert len(read) == 2  # the repeated text once
    assert [t.tobytes() for t in synth.read_texts(data, ["b"])] == [texts[0].tobytes()]

    clean, noisy, meta = synth.generate(np.random.default_rng(3), text=texts[1], dirt=["coffee"])
    assert np.array_equal(clean, texts[1]) and noisy.shape == clean.shape
    assert np.abs(noisy - clean)[clean == 1].mean() > 0.01  # soiled
    assert meta["body_px"] is None and meta["dirt"] == ["coffee"]
    with pytest.raises(ValueError, match="rendered page"):
        synth.generate(np.random.default_rng(3), text=texts[1], marks=["stamp"])
    with pytest.raises(ValueError, match="page size cannot be set"):
        synth.write_dataset(tmp_path / "x", 1, seed=0, size=SMALL, texts=read)

    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "soiled"
    argv = ["--out", str(out), "--count", "4", "--seed", "2", "--text-from", str(data)]
    assert synth.run(parser.parse_args(argv)) == 0
    known = {t.tobytes() for t in texts}
    for name in sorted((out / "clean").iterdir()):
        assert _grey(name).tobytes() in known
        assert not np.array_equal(_grey(out / "noisy" / name.name), _grey(name))
    assert synth.run(parser.parse_args([*argv, "--text-groups", "nope"])) == 1
    assert synth.run(parser.parse_args([*argv[:4], "--text-groups", "a"])) == 2


def test_deep_ink_adds_thick_ink_and_leaves_the_rest_of_the_page():
    """--deep-ink: thick strokes over the same page; below its probability, the same page."""
    from scipy import ndimage

    from scanclean_train.synth_content import DEEP_INK_KINDS

    def page(seed, **kw):
        return synth.generate(synth.page_seed(seed, 0), (400, 400), 300.0, dirt=["coffee"], **kw)

    deep_px = {0.0: 0, 1.0: 0}
    ink_px = {0.0: 0, 1.0: 0}
    for seed in range(6):
        clean, noisy, info = page(seed)
        thick, thick_noisy, thick_info = page(seed, deep=1.0)
        added = thick_info["annotations"][len(info["annotations"]) :]
        assert thick_info["annotations"][: len(info["annotations"])] == info["annotations"]
        assert added and set(added) <= set(DEEP_INK_KINDS)
        assert np.all(thick <= clean)  # ink only added, nothing of the page taken away
        changed = thick != clean
        near = ndimage.binary_dilation(changed, iterations=8)  # the scanner blur spreads it
        assert np.abs(thick_noisy - noisy)[~near].max() < 1e-4  # same stain, same noise
        for p, c in ((0.0, clean), (1.0, thick)):
            depth = ndimage.distance_transform_edt(c < 0.5)  # px to the nearest paper
            deep_px[p] += int((depth > 4).sum())
            ink_px[p] += int((c < 0.5).sum())
        # a probability that does not come up leaves the page as it was, byte for byte
        same, same_noisy, same_info = page(seed, deep=1e-9)
        assert np.array_equal(same, clean) and np.array_equal(same_noisy, noisy)
        assert same_info["annotations"] == info["annotations"]
    # 9-14 pt text at 300 dpi is hardly ever over 4 px deep; 0.6-8 mm ink is
    assert deep_px[0.0] / ink_px[0.0] < 0.05
    assert deep_px[1.0] / ink_px[1.0] > 3 * deep_px[0.0] / ink_px[0.0] + 0.05
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="deep ink probability"):
            page(0, deep=bad)
    # a choice of kinds draws only those
    for kinds in (("marker", "display"), ("bar",)):
        for seed in range(3):
            base = page(seed)[2]["annotations"]
            added = page(seed, deep=1.0, deep_kinds=kinds)[2]["annotations"][len(base) :]
            assert added and set(added) <= set(kinds)
    for bad_kinds in ((), ("doodle",)):
        with pytest.raises(ValueError, match="thick ink kinds"):
            page(0, deep=1.0, deep_kinds=bad_kinds)
    text = np.ones((60, 80), np.float32)
    with pytest.raises(ValueError, match="rendered page"):
        synth.generate(np.random.default_rng(0), text=text, deep=0.5)
    with pytest.raises(ValueError, match="rendered pages"):
        synth.write_dataset("/nonexistent-never", 1, seed=0, texts=[text], deep=0.5)


def test_dark_stains_darken_wide_areas_and_leave_the_rest_of_the_page():
    """--dark-stains: wide dark stains on the noisy page only; other pages byte for byte."""
    from scipy import ndimage

    from scanclean_train.synth_dirt import DARK_STAIN_KINDS

    def page(seed, **kw):
        return synth.generate(synth.page_seed(seed, 0), (400, 400), 300.0, dirt=["fold"], **kw)

    widest = []
    for seed in range(5):
        clean, noisy, info = page(seed)
        _, dark_noisy, dark_info = page(seed, dark=1.0)
        thick, thick_noisy, _ = page(seed, deep=1.0)
        both, both_noisy, _ = page(seed, deep=1.0, dark=1.0)
        assert dark_info["dirt"] == [*info["dirt"], "dark"]
        added = dark_info["annotations"][len(info["annotations"]) :]
        assert added and set(added) <= set(DARK_STAIN_KINDS)
        # the clean page is untouched, with or without thick ink; the stains only darken
        assert np.array_equal(page(seed, dark=1.0)[0], clean)
        assert np.array_equal(both, thick)
        assert np.all(dark_noisy <= noisy + 1e-4)
        assert np.all(both_noisy <= thick_noisy + 1e-4)
        # the same stains with thick ink as without (their own child of the page's generator)
        far = ~ndimage.binary_dilation(thick != clean, iterations=8)  # beyond the blur
        darkened = (dark_noisy < noisy - 1e-4)[far]
        assert darkened.any()
        assert np.array_equal(darkened, (both_noisy < thick_noisy - 1e-4)[far])
        # wide: the paper darkened to 75 % or less reaches this far (px) from its edge
        paper = clean == 1.0
        strong = paper & (dark_noisy < 0.75 * np.maximum(noisy, 1e-3))
        widest.append(float(ndimage.distance_transform_edt(ndimage.binary_closing(strong)).max()))
        # a probability that does not come up leaves the page as it was, byte for byte
        same, same_noisy, same_info = page(seed, dark=1e-9)
        assert np.array_equal(same, clean) and np.array_equal(same_noisy, noisy)
        assert same_info == info
    # 1 mm is 11.8 px at 300 dpi: the stains are dark over areas several mm across
    assert np.median(widest) > 12, widest
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dark stain probability"):
            page(0, dark=bad)
    # given text pages take dark stains too
    text = np.ones((60, 80), np.float32)
    _, on_text, text_info = synth.generate(synth.page_seed(0, 0), dpi=300.0, text=text, dark=1.0)
    _, plain_text, _ = synth.generate(synth.page_seed(0, 0), dpi=300.0, text=text)
    assert "dark" in text_info["dirt"]
    assert on_text.shape == text.shape
    assert np.all(on_text <= plain_text + 1e-4) and on_text.mean() < plain_text.mean()


def test_dark_stains_beside_thick_ink_move_the_stains_only():
    """--dark-beside-ink: the same stains, moved to the thick ink; nothing else changes."""
    from scipy import ndimage

    def page(seed, **kw):
        return synth.generate(synth.page_seed(seed, 0), (500, 500), 100.0, dirt=["fold"], **kw)

    gaps = {False: [], True: []}  # mm from the thick ink to the nearest stained px
    for seed in range(5):
        plain = page(seed)[0]
        thick, thick_noisy, _ = page(seed, deep=1.0)
        ink = thick < plain - 0.1  # the thick ink's own px
        mm_to_ink = ndimage.distance_transform_edt(~ink) / (100.0 / 25.4)
        annotations = {}
        for beside in (False, True):
            clean, noisy, info = page(seed, deep=1.0, dark=1.0, dark_beside_ink=beside)
            assert np.array_equal(clean, thick)  # the clean page is untouched
            stained = noisy < thick_noisy - 0.1
            gaps[beside].append(float(mm_to_ink[stained].min()))
            annotations[beside] = info["annotations"]
        assert annotations[True] == annotations[False]
        # pages without thick ink, or without stains, are those without the option
        for kw in ({"deep": 1e-9, "dark": 1.0}, {"deep": 1.0, "dark": 1e-9}):
            same = page(seed, dark_beside_ink=True, **kw)
            other = page(seed, **kw)
            assert np.array_equal(same[0], other[0]) and np.array_equal(same[1], other[1])
    # each stain's edge passes at most 6 mm outside a thick ink px (soft edges: 8 mm here);
    # placed anywhere, some stain on these pages lies farther than that
    assert max(gaps[True]) <= 8.0, gaps
    assert max(gaps[False]) > 8.0, gaps
    for deep, dark in ((0.0, 1.0), (1.0, 0.0)):
        with pytest.raises(ValueError, match="beside thick ink"):
            page(0, deep=deep, dark=dark, dark_beside_ink=True)


def test_cli_deep_ink_reaches_the_pages_and_the_manifest(tmp_path):
    from scanclean_train.synth_content import DEEP_INK_KINDS

    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "deep"
    argv = ["--out", str(out), "--count", "2", "--size", "200x160", "--dpi", "300"]
    kinds = ["--deep-ink-kinds", "marker,bar"]
    assert synth.run(parser.parse_args([*argv, "--deep-ink", "1", *kinds])) == 0
    manifest = json.loads((out / synth.MANIFEST).read_text())
    assert manifest["deep_ink"] == 1.0
    assert manifest["deep_ink_kinds"] == ["marker", "bar"]
    for described in manifest["pages"].values():
        assert set(described["annotations"]) & set(DEEP_INK_KINDS) <= {"marker", "bar"}
        assert set(described["annotations"]) & {"marker", "bar"}
    assert synth.run(parser.parse_args([*argv, "--deep-ink", "2"])) == 1
    stained = tmp_path / "stained"
    argv_dark = ["--out", str(stained), *argv[2:], "--dark-stains", "1"]
    assert synth.run(parser.parse_args(argv_dark)) == 0
    manifest = json.loads((stained / synth.MANIFEST).read_text())
    assert manifest["dark_stains"] == 1.0
    assert all("dark" in p["dirt"] for p in manifest["pages"].values())
    assert synth.run(parser.parse_args([*argv_dark[:-1], "1.5"])) == 1
    beside = tmp_path / "beside"
    argv_beside = ["--out", str(beside), *argv[2:], "--deep-ink", "1", "--dark-stains", "1"]
    assert synth.run(parser.parse_args([*argv_beside, "--dark-beside-ink"])) == 0
    assert json.loads((beside / synth.MANIFEST).read_text())["dark_beside_ink"] is True
    assert json.loads((stained / synth.MANIFEST).read_text())["dark_beside_ink"] is False
    assert synth.run(parser.parse_args([*argv_dark, "--dark-beside-ink"])) == 1
    for bad in (["--deep-ink", "x"], ["--deep-ink-kinds", "marker,doodle"]):
        with pytest.raises(SystemExit):
            parser.parse_args([*argv, *bad])
