"""Trainer with TensorFlow: architectures, one short fit, export, Keras/ONNX parity, evaluate.

Few and quick: one tiny fit of ``seed`` is shared by the module.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.tf

from tests.conftest import make_page  # noqa: E402
from tests.test_trainer_data import write_pair_dir  # noqa: E402

from scanclean.tiling import pad_reflect  # noqa: E402
from scanclean_train import cli as train_cli  # noqa: E402
from scanclean_train.export import describe_training  # noqa: E402
from scanclean_train.model import (  # noqa: E402
    build_mirror_unet,
    build_model,
    build_seed,
    build_unet,
    expand_mirror_unet,
    macs_per_pixel,
)
from scanclean_train.train import (  # noqa: E402
    LOSSES,
    FitConfig,
    fit,
    freeze_except,
    load_run_model,
    start_from,
)


def test_the_command_line_offers_every_architecture_and_no_other():
    from scanclean_train import ARCH_NAMES, DEFAULT_ARCH
    from scanclean_train.model import ARCHITECTURES

    assert sorted(ARCH_NAMES) == sorted(ARCHITECTURES) and DEFAULT_ARCH in ARCHITECTURES


def test_seed_is_the_reference_architecture():
    model, info = build_seed()
    assert model.count_params() == 12_785
    convs = [lay for lay in model.layers if isinstance(lay, tf.keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 16, 8, 8, 16, 32, 1]
    assert info.receptive_field == 15 and info.size_multiple == 1
    assert model(np.ones((1, 13, 17, 1), np.float32)).shape == (1, 13, 17, 1)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet-9000")


@pytest.mark.parametrize("context", [(), (2, 4)])
def test_unet_receptive_field_bounds_the_influence_of_a_pixel(context):
    """Changing one input pixel changes no output farther than receptive_field // 2."""
    tf.keras.utils.set_random_seed(1)  # before building: the weights, not only the page
    model, info = build_unet((4, 4, 4, 4), context)
    size = 256
    x = make_page(size, size, seed=2)[None, ..., None]
    y0 = np.asarray(model(x))[0, ..., 0]
    x[0, 128, 128, 0] = 1.0 - x[0, 128, 128, 0]
    changed = np.argwhere(np.abs(np.asarray(model(x))[0, ..., 0] - y0) > 0)
    reach = int(np.abs(changed - 128).max())
    assert reach <= info.receptive_field // 2
    assert reach > info.receptive_field // 4  # the stated field is not wildly loose
    assert info.size_multiple == 8 and macs_per_pixel(model) > 0
    if context:  # the dilated convolutions widen the field: more than the plain U-Net's
        assert reach > build_unet((4, 4, 4, 4))[1].receptive_field // 2


MIRRORS = {  # the three mirror images of an (N, H, W, C) batch
    "left-right": lambda a: a[:, :, ::-1],
    "up-down": lambda a: a[:, ::-1],
    "both": lambda a: a[:, ::-1, ::-1],
}


def random_statistics(model, seed: int) -> None:
    """Give every batch normalization random scale, offset and statistics (not 1, 0, 0, 1)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if "bn" in layer.name:
            gamma, beta, mean, var = (w.shape for w in layer.get_weights())
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma).astype(np.float32),
                    rng.normal(0, 0.3, beta).astype(np.float32),
                    rng.normal(0, 0.3, mean).astype(np.float32),
                    rng.uniform(0.5, 2.0, var).astype(np.float32),
                ]
            )


def test_mirror_unet_mirrors_its_output_with_its_input_where_the_plain_unet_does_not():
    tf.keras.utils.set_random_seed(3)
    mirror, info = build_mirror_unet((4, 8, 8))
    plain, plain_info = build_unet((4, 8, 8))
    for model in (mirror, plain):
        random_statistics(model, 4)
    x = make_page(40, 56, seed=5)[None, ..., None]  # even sides: the pooling grid mirrors too
    for name, flip in MIRRORS.items():
        for model, limit in ((mirror, 1e-6), (plain, None)):
            for training in (False, True):  # batch statistics per field in training too
                y = np.asarray(model(x, training=training))
                error = np.abs(flip(np.asarray(model(flip(x).copy(), training=training))) - y)
                if limit is None:
                    assert error.max() > 1e-3, name  # the check can tell
                else:
                    assert error.max() < (1e-5 if training else limit), (name, training)
    assert info.receptive_field == plain_info.receptive_field and info.size_multiple == 4
    assert macs_per_pixel(mirror) == macs_per_pixel(plain)  # the exported convolutions
    kernels = [
        sum(int(np.prod(w.shape)) for w in m.trainable_weights if "kernel" in w.path)
        for m in (mirror, plain)
    ]
    assert 4 * kernels[0] == kernels[1]  # every kernel tied over the four mirror images


def test_expanded_mirror_unet_computes_the_same_and_exports_as_a_plain_unet():
    ort = pytest.importorskip("onnxruntime")
    from scanclean_train.export import to_onnx_bytes

    tf.keras.utils.set_random_seed(6)
    mirror, info = build_mirror_unet((4, 8, 8, 12))
    random_statistics(mirror, 7)
    plain = expand_mirror_unet(mirror)
    assert plain.name == "unet" and macs_per_pixel(plain) == macs_per_pixel(mirror)
    page = pad_reflect(make_page(37, 53, seed=8), info.size_multiple)[0][None, ..., None]
    expected = np.asarray(mirror(page))
    np.testing.assert_allclose(np.asarray(plain(page)), expected, atol=1e-5)
    session = ort.InferenceSession(to_onnx_bytes(plain), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": page})[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="not a mirror-unet"):
        expand_mirror_unet(plain)


def tiny_config(data, **settings) -> FitConfig:
    """A seed-DAE run on 32 px patches of the tiny pages, group ``b`` held out, 1 thread."""
    return FitConfig(
        data=[str(data)],
        arch="seed",
        batch_size=4,
        patch=32,
        val_groups=["b"],
        threads=1,
        **settings,
    )


def tuning_config(root, data, **settings) -> FitConfig:
    """Three steps at learning rate 1e-2 from :func:`tiny_run`'s model, keeping the last epoch."""
    return tiny_config(
        data,
        epochs=1,
        steps_per_epoch=3,
        learning_rate=1e-2,
        init=str(root / "run" / "model.keras"),
        keep="last",
        **settings,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A 2-epoch fit of ``seed`` on generated pairs in two background groups."""
    root = tmp_path_factory.mktemp("train")
    names = [f"{i}.png" for i in range(6)]
    data = write_pair_dir(
        root / "data", names, size=(48, 40), groups={"a": names[:4], "b": names[4:]}
    )
    config = tiny_config(data, epochs=2, steps_per_epoch=3, seed=5)
    result = fit(config, root / "run", log=lambda line: None)
    return root, data, result


def test_fit_writes_the_run_folder(tiny_run):
    root, _, result = tiny_run
    run = root / "run"
    record = json.loads((run / "config.json").read_text())
    assert record["trainable_parameters"] == 12_785  # every layer trains, no BN statistics
    assert record["config"]["split"]["val_groups"] == ["data/b"]
    assert record["config"]["split"]["val_pages"] == ["4.png", "5.png"]
    assert record["parameters"] == 12_785
    rows = (run / "history.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,loss,val_loss,val_rmse") and len(rows) == 3
    assert np.isfinite(result["best_val_rmse"]) and result["best_epoch"] in (1, 2)
    assert load_run_model(run / "model.keras").count_params() == 12_785


def test_init_copies_the_weights_of_the_same_architecture_only(tiny_run):
    root, _, _ = tiny_run
    saved = load_run_model(root / "run" / "model.keras")
    fresh, _ = build_seed()
    assert not np.array_equal(fresh.get_weights()[0], saved.get_weights()[0])
    start_from(fresh, root / "run" / "model.keras")
    assert all(
        np.array_equal(a, b) for a, b in zip(fresh.get_weights(), saved.get_weights(), strict=True)
    )
    with pytest.raises(ValueError, match="same architecture"):
        start_from(build_unet((4, 4, 4, 4))[0], root / "run" / "model.keras")


def test_fine_tuning_run_keeps_the_last_epoch(tiny_run, tmp_path, monkeypatch):
    # learning rate 0: the seed model (no batch norm) does not change, so every epoch ties
    # on validation RMSE and "best" would keep epoch 1; "last" must still save epoch 2
    root, data, first = tiny_run
    saves = []
    real_save = tf.keras.Model.save
    monkeypatch.setattr(
        tf.keras.Model, "save", lambda self, *a, **k: (saves.append(1), real_save(self, *a, **k))
    )
    config = tiny_config(
        data,
        epochs=2,
        steps_per_epoch=2,
        seed=6,
        loss="ink-mse",
        learning_rate=0.0,
        init=str(root / "run" / "model.keras"),
        keep="last",
    )
    result = fit(config, tmp_path / "tuned", log=lambda line: None)
    assert result["best_epoch"] == 1 and result["kept_epoch"] == 2
    assert len(saves) == 2  # saved after each epoch, the last one included
    record = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert record["config"]["init"].endswith("model.keras") and record["config"]["keep"] == "last"
    assert first["kept_epoch"] == first["best_epoch"]


def test_final_run_on_every_group_keeps_the_last_epoch_and_scores_none(tiny_run, tmp_path):
    import onnx

    root, data, _ = tiny_run
    out = tmp_path / "all"
    argv = ["fit", "--data", str(data), "--arch", "seed", "--out", str(out), "--epochs", "2"]
    argv += ["--steps", "2", "--patch", "32", "--batch-size", "4", "--threads", "1"]
    argv += ["--val-groups", "none", "--keep", "last", "--init", str(root / "run/model.keras")]
    assert train_cli.main(argv) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["split"]["train_groups"] == ["data/a", "data/b"]
    assert record["config"]["split"]["first_training_pages"] == 6
    assert record["result"]["best_val_rmse"] is None and record["result"]["kept_epoch"] == 2
    rows = [r.split(",") for r in (out / "history.csv").read_text().strip().splitlines()]
    assert len(rows) == 3 and all(r[1] and r[2] == r[3] == "" for r in rows[1:])
    assert train_cli.main(["export", str(out / "model.keras"), "--out", str(out / "m.onnx")]) == 0
    meta = {p.key: p.value for p in onnx.load(out / "m.onnx").metadata_props}
    assert meta["validation"].startswith("none held out") and "data/b" in meta["validation"]
    assert json.loads(meta["metrics"]) == {}


def test_weight_averaging_ends_each_epoch_on_the_average(tiny_run, tmp_path):
    # Keras starts the average at the weights after the first step; with momentum ~1 it
    # stays there, so 4 averaged steps must give the weights of 1 plain step (same batches)
    root, data, _ = tiny_run

    def tuned(steps, ema):
        config = tiny_config(
            data,
            epochs=1,
            steps_per_epoch=steps,
            seed=6,
            learning_rate=1e-2,
            init=str(root / "run" / "model.keras"),
            keep="last",
            ema=ema,
        )
        fit(config, tmp_path / f"{steps}-{ema}", log=lambda line: None)
        return load_run_model(tmp_path / f"{steps}-{ema}" / "model.keras").get_weights()

    def gap(a, b):
        return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))

    one_step, four_steps, averaged = tuned(1, None), tuned(4, None), tuned(4, 0.999999)
    assert gap(four_steps, one_step) > 1e-3  # plain training moves on
    assert gap(averaged, one_step) < 1e-5


def test_a_stopped_run_resumes_as_if_it_had_never_stopped(tiny_run, tmp_path, capsys):
    # Adam's moments, its step count (the cosine schedule) and the weight average all
    # carry over: a run stopped after epoch 1 and resumed ends on the weights of the
    # unbroken run, and its history and record cover the three epochs
    root, data, _ = tiny_run

    def config(**settings):
        init = str(root / "run" / "model.keras")
        return tiny_config(
            data,
            seed=7,
            epochs=3,
            steps_per_epoch=3,
            learning_rate=1e-2,
            init=init,
            ema=0.9,
            **settings,
        )

    whole = fit(config(), tmp_path / "whole", log=lambda line: None)
    assert not (tmp_path / "whole" / "resume.npz").exists()  # the schedule is done
    broken = tmp_path / "broken"
    fit(config(stop_after=1), broken, log=lambda line: None)
    assert (broken / "resume.npz").is_file()
    args = ["resume", str(broken), "--threads", "1"]
    assert train_cli.main(args) == 0
    resumed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert not (broken / "resume.npz").exists()

    def weights(run):
        return load_run_model(run / "model.keras").get_weights()

    assert resumed["epochs_done"] == 3 and resumed["best_epoch"] == whole["best_epoch"]
    pairs = zip(weights(broken), weights(tmp_path / "whole"), strict=True)
    assert max(float(np.abs(a - b).max()) for a, b in pairs) < 1e-5
    assert resumed["best_val_rmse"] == pytest.approx(whole["best_val_rmse"], abs=1e-6)
    rows = (broken / "history.csv").read_text().strip().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]
    whole_rows = (tmp_path / "whole" / "history.csv").read_text().strip().splitlines()
    assert [r.split(",")[3] for r in rows[1:]] == [r.split(",")[3] for r in whole_rows[1:]]
    record = json.loads((broken / "config.json").read_text())
    assert [r["after_epoch"] for r in record["resumed"]] == [1]
    assert record["result"]["epochs_done"] == 3


def test_resume_refuses_a_finished_run_and_changed_data(tiny_run, tmp_path, capsys):
    root, data, _ = tiny_run
    assert train_cli.main(["resume", str(root / "run")]) == 1  # finished: nothing to resume
    assert "resume.npz: no such file" in capsys.readouterr().err
    moved = tmp_path / "data"
    shutil.copytree(data, moved)
    run = tmp_path / "run"
    fit(tiny_config(moved, epochs=2, steps_per_epoch=1, stop_after=1), run, log=lambda line: None)
    for side in ("noisy", "clean"):  # a page added since: a group of its own
        shutil.copy(moved / side / "0.png", moved / side / "6.png")
    assert train_cli.main(["resume", str(run)]) == 1
    assert "no longer gives the run's split" in capsys.readouterr().err
    assert (run / "resume.npz").is_file()  # still there for when the data is back


def test_freeze_except_trains_only_the_named_layers_and_keeps_the_weight_order():
    model, _ = build_unet((4, 4, 4, 4))
    before = [w.shape for w in model.get_weights()]
    trainable = freeze_except(model, ["enc0", "dec0", "correction"])
    kept = {w.path for w in model.trainable_weights}
    assert kept and all(p.split("/")[0].startswith(("enc0", "dec0", "correction")) for p in kept)
    # two 3x3 convs at 4 filters each in enc0 (1 -> 4 -> 4) and dec0 (8 -> 4 -> 4), their
    # four BN layers' gamma and beta (moving statistics never train), the 4 -> 1 correction
    assert trainable == (9 * 4 + 9 * 16) + (9 * 8 * 4 + 9 * 16) + 4 * 2 * 4 + (9 * 4 + 1)
    assert [w.shape for w in model.get_weights()] == before  # --init and average still match
    with pytest.raises(ValueError, match="'dec9' matches no layer"):
        freeze_except(model, ["enc0", "dec9"])


def test_fit_with_train_only_leaves_the_other_layers_as_they_were(tiny_run, tmp_path):
    root, data, _ = tiny_run
    start = load_run_model(root / "run" / "model.keras").get_weights()
    config = tuning_config(root, data, seed=8, train_only=["output"])
    fit(config, tmp_path / "surgical", log=lambda line: None)
    tuned = load_run_model(tmp_path / "surgical" / "model.keras").get_weights()
    # seed: six hidden convs (kernel, bias) and the output conv (kernel, bias) last
    assert all(np.array_equal(a, b) for a, b in zip(tuned[:-2], start[:-2], strict=True))
    assert not np.array_equal(tuned[-2], start[-2])
    record = json.loads((tmp_path / "surgical" / "config.json").read_text())
    assert record["trainable_parameters"] == 32 * 9 + 1 and record["config"]["train_only"] == [
        "output"
    ]


def test_average_writes_the_mean_of_the_runs_weights(tiny_run, tmp_path, capsys):
    root, data, _ = tiny_run
    first = root / "run" / "model.keras"
    config = tiny_config(
        data, epochs=1, steps_per_epoch=2, seed=7, learning_rate=1e-2, init=str(first)
    )
    fit(config, tmp_path / "other", log=lambda line: None)
    second = tmp_path / "other" / "model.keras"
    out = tmp_path / "soup"
    assert train_cli.main(["average", str(first), str(second), "--out", str(out)]) == 0
    ours, theirs = (load_run_model(p).get_weights() for p in (first, second))
    mean = [(a + b) / 2 for a, b in zip(ours, theirs, strict=True)]
    soup = load_run_model(out / "model.keras").get_weights()
    assert max(float(np.abs(x - y).max()) for x, y in zip(soup, mean, strict=True)) < 1e-6
    record = json.loads((out / "config.json").read_text())
    assert record["averaged_from"] == [str(first.resolve()), str(second.resolve())]
    assert "averaged over runs run, other" in describe_training(record)[0]

    # refused, naming the run: one run, other validation groups, another architecture
    assert train_cli.main(["average", str(first), "--out", str(tmp_path / "x")]) == 1
    assert "two or more" in capsys.readouterr().err
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    (shifted / "model.keras").write_bytes(second.read_bytes())
    record = json.loads((tmp_path / "other" / "config.json").read_text())
    record["config"]["split"]["val_groups"] = ["data/a"]
    (shifted / "config.json").write_text(json.dumps(record))
    assert (
        train_cli.main(
            ["average", str(first), str(shifted / "model.keras"), "--out", str(tmp_path / "x")]
        )
        == 1
    )
    assert f"{shifted / 'model.keras'}: validated on other groups" in capsys.readouterr().err
    wide = tmp_path / "wide"
    wide.mkdir()
    build_unet((4, 4, 4, 4))[0].save(wide / "model.keras")
    (wide / "config.json").write_text((tmp_path / "other" / "config.json").read_text())
    assert (
        train_cli.main(
            ["average", str(first), str(wide / "model.keras"), "--out", str(tmp_path / "x")]
        )
        == 1
    )
    assert f"{wide / 'model.keras'}: another architecture" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def short_fit_argv(data, out) -> list[str]:
    """``scanclean-train fit`` arguments for 2 steps of 4 patches of 32 px, group ``b`` held out."""
    argv = ["fit", "--data", str(data), "--out", str(out), "--epochs", "1", "--steps", "2"]
    return argv + ["--patch", "32", "--batch-size", "4", "--threads", "1", "--val-groups", "b"]


def test_fit_and_export_of_a_mirror_unet(tiny_run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import onnx

    _, data, _ = tiny_run
    out = tmp_path / "m"
    assert (
        train_cli.main([*short_fit_argv(data, out), "--arch", "mirror-unet", "--widths", "4,8,8"])
        == 0
    )
    record = json.loads((out / "config.json").read_text())
    assert record["architecture"]["name"] == "mirror-unet-4-8-8"
    assert record["macs_per_pixel"] == macs_per_pixel(build_unet((4, 8, 8))[0])
    model = load_run_model(out / "model.keras")
    moving = [lay.moving_mean.numpy() for lay in model.layers if "bn" in lay.name]
    assert all(np.abs(m).max() > 0 for m in moving)  # the training steps updated them
    assert train_cli.main(["export", str(out / "model.keras"), "--out", str(out / "m.onnx")]) == 0
    meta = {p.key: p.value for p in onnx.load(out / "m.onnx").metadata_props}
    assert meta["architecture"] == "mirror-unet-4-8-8"
    assert meta["parameters"] == str(model.count_params())
    session = ort.InferenceSession(str(out / "m.onnx"), providers=["CPUExecutionProvider"])
    page = pad_reflect(make_page(37, 53, seed=9), 4)[0][None, ..., None]
    y = session.run(None, {"input": page})[0]
    np.testing.assert_allclose(y, np.asarray(model(page)), atol=1e-5)
    flipped = session.run(None, {"input": page[:, ::-1, ::-1].copy()})[0]
    np.testing.assert_allclose(flipped[:, ::-1, ::-1], y, atol=1e-5)


def test_fit_builds_the_unet_widths_asked_for_and_refuses_bad_ones(tiny_run, tmp_path, capsys):
    import onnx

    _, data, _ = tiny_run
    out = tmp_path / "w"
    argv = short_fit_argv(data, out)
    assert train_cli.main([*argv, "--arch", "unet", "--widths", "4,6,8"]) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["widths"] == [4, 6, 8]
    plain_macs = record["macs_per_pixel"]
    assert record["architecture"]["name"] == "unet-4-6-8"
    assert record["architecture"]["size_multiple"] == 4
    convs = [
        lay.filters
        for lay in load_run_model(out / "model.keras").layers
        if isinstance(lay, tf.keras.layers.Conv2D)
    ]
    assert convs[:2] == [4, 4] and max(convs) == 8
    assert train_cli.main(["export", str(out / "model.keras"), "--out", str(out / "m.onnx")]) == 0
    meta = {p.key: p.value for p in onnx.load(out / "m.onnx").metadata_props}
    assert meta["architecture"] == "unet-4-6-8" and meta["size_multiple"] == "4"

    ctx = tmp_path / "c"
    argv_ctx = [*argv[:4], str(ctx), *argv[5:]]
    assert train_cli.main([*argv_ctx, "--widths", "4,6,8", "--context", "2,3"]) == 0
    record = json.loads((ctx / "config.json").read_text())
    assert record["config"]["context"] == [2, 3]
    # 4,6,8 sees 52 px; each dilated 3x3 conv at the coarsest grid (4 px) adds 2 * d * 4 px
    assert record["architecture"]["name"] == "unet-4-6-8-ctx2-3"
    assert record["architecture"]["receptive_field"] == 52 + 2 * (2 + 3) * 4
    assert record["macs_per_pixel"] == plain_macs + 2 * 9 * 8 * 8 // 16
    dilations = [
        lay.dilation_rate
        for lay in load_run_model(ctx / "model.keras").layers
        if isinstance(lay, tf.keras.layers.Conv2D)
    ]
    assert sorted(dilations)[-2:] == [(2, 2), (3, 3)]

    assert train_cli.main([*argv, "--arch", "seed", "--widths", "4,8"]) == 1
    assert "widths apply to the unet and mirror-unet architectures only" in capsys.readouterr().err
    assert train_cli.main([*argv, "--arch", "seed", "--context", "2"]) == 1
    assert "context block applies to the unet architecture only" in capsys.readouterr().err
    with pytest.raises(ValueError, match="mirror-unet architectures only"):
        build_model("seed", [4, 8])  # the API, not only the command line, refuses them
    with pytest.raises(ValueError, match="unet architecture only"):
        build_model("seed", context=[2])
    with pytest.raises(ValueError, match="dilation rates of 1 or more"):
        build_model("unet", context=[2, 0])
    with pytest.raises(ValueError, match="two or more positive"):
        build_model("unet", [8])
    for bad in ("8", "4,0", "4,x"):
        with pytest.raises(SystemExit) as exit_info:
            train_cli.main([*argv, "--arch", "unet", "--widths", bad])
        assert exit_info.value.code == 2
    assert "--widths" in capsys.readouterr().err
    for bad in ("0", "2,x"):
        with pytest.raises(SystemExit) as exit_info:
            train_cli.main([*argv, "--context", bad])
        assert exit_info.value.code == 2
    assert "--context" in capsys.readouterr().err


def test_distilled_loss_aims_at_the_blend_of_clean_and_teacher_and_weights_ink():
    from scanclean_train.losses import DistilledLoss

    rng = np.random.default_rng(4)
    clean, teacher, pred = (rng.uniform(0, 1, (2, 5, 6, 1)).astype(np.float32) for _ in range(3))
    y_true = np.concatenate([clean, teacher], axis=-1)
    target = 0.25 * clean + 0.75 * teacher
    ink = 1.0 + 3.0 * (clean < 0.5)
    for base, expected in (
        ("mse", np.mean((target - pred) ** 2)),
        ("mae", np.mean(np.abs(target - pred))),
        ("ink-mse", np.mean(ink * (target - pred) ** 2)),
    ):
        loss = DistilledLoss(base, teacher_weight=0.75)
        assert float(loss(y_true, pred)) == pytest.approx(float(expected), rel=1e-5), base
    again = DistilledLoss.from_config(DistilledLoss("mae", 0.3).get_config())
    assert (again.base, again.teacher_weight) == ("mae", 0.3)
    with pytest.raises(ValueError, match="teacher_weight"):
        DistilledLoss("mse", teacher_weight=1.5)


def test_deep_mse_weights_only_ink_far_from_the_paper():
    from scipy import ndimage

    from scanclean_train.losses import DEEP_WINDOW, deep_ink_weight
    from scanclean_train.train import LOSSES

    clean = np.ones((1, 40, 48, 1), np.float32)
    clean[0, 5:30, 4:34] = 0.1  # a 25 x 30 px filled area
    clean[0, 35, 2:40] = 0.0  # a 1 px rule
    clean[0, 10:20, 40:43] = 0.3  # a 3 px stroke
    weight = np.asarray(deep_ink_weight(clean))
    deep = ndimage.maximum_filter(clean[0, ..., 0], size=DEEP_WINDOW, mode="nearest") < 0.5
    assert np.array_equal(weight[0, ..., 0], np.where(deep, 4.0, 1.0))
    assert deep[17, 19] and not deep[35, 20] and not deep[15, 41] and not deep[5, 10]
    rng = np.random.default_rng(5)
    pred = rng.uniform(0, 1, clean.shape).astype(np.float32)
    expected = np.mean(np.where(deep, 4.0, 1.0)[None, ..., None] * (clean - pred) ** 2)
    assert float(LOSSES["deep-mse"](clean, pred)) == pytest.approx(float(expected), rel=1e-5)


def test_ink_losses_weight_ink_four_times_on_squared_or_absolute_error():
    rng = np.random.default_rng(6)
    clean, pred = (rng.uniform(0, 1, (2, 7, 5, 1)).astype(np.float32) for _ in range(2))
    ink = np.where(clean < 0.5, 4.0, 1.0)
    for name, expected in (
        ("ink-mse", np.mean(ink * (clean - pred) ** 2)),
        ("ink-mae", np.mean(ink * np.abs(clean - pred))),
    ):
        assert float(LOSSES[name](clean, pred)) == pytest.approx(float(expected), rel=1e-5), name


def test_faded_ink_mse_weights_ink_four_times_on_faded_patches_only():
    rng = np.random.default_rng(7)
    clean, pred = (rng.uniform(0, 1, (2, 7, 5, 1)).astype(np.float32) for _ in range(2))
    faded = np.zeros_like(clean)
    faded[0] = 1.0  # the first patch was faded, the second not
    ink = np.where((clean < 0.5) & (faded > 0), 4.0, 1.0)
    expected = np.mean(ink * (clean - pred) ** 2)
    got = float(LOSSES["faded-ink-mse"](np.concatenate([clean, faded], axis=-1), pred))
    assert got == pytest.approx(float(expected), rel=1e-5)
    assert got != pytest.approx(float(LOSSES["ink-mse"](clean, pred)), rel=1e-3)


def test_mark_faded_flags_exactly_the_faded_patches_of_the_same_draws():
    from scanclean_train import data as D

    noisy = make_page(120, 140, seed=2)
    pages = [(noisy, np.where(noisy < 0.5, 0.0, 1.0).astype(np.float32))]
    augment = D.Augment(max_scale=1.0, p_scale=0.0, p_fade=0.5, p_tone=0.0, flips=False)
    plain = list(D.make_patch_dataset(pages, 32, 8, 2, seed=3, augment=augment))
    marked = list(D.make_patch_dataset(pages, 32, 8, 2, seed=3, augment=augment, mark_faded=True))
    rng = np.random.default_rng(3)  # replay the draws: which patches were faded
    expected = []
    for _ in range(2 * 8):
        info = {}
        D.sample_patch(pages, 32, rng, augment, None, info)
        expected.append(float(info["faded"]))
    flags = []
    for (x0, y0), (x1, y1) in zip(plain, marked, strict=True):
        x0, y0, x1, y1 = (np.asarray(a) for a in (x0, y0, x1, y1))
        assert np.array_equal(x0, x1) and np.array_equal(y0[..., 0], y1[..., 0])
        assert y1.shape == (8, 32, 32, 2)
        for plane in y1[..., 1]:
            assert plane.min() == plane.max()  # one flag per patch
            flags.append(float(plane[0, 0]))
    assert flags == expected and 0.0 in flags and 1.0 in flags
    with pytest.raises(ValueError, match="second target channel"):
        D.make_patch_dataset(pages, 32, 8, 2, 3, augment, teacher=lambda x: x, mark_faded=True)


@pytest.mark.parametrize("loss", [name for name, fn in LOSSES.items() if callable(fn)])
def test_a_model_compiled_with_a_weighted_loss_loads_again(loss, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 1)])
    model.compile(optimizer="adam", loss=LOSSES[loss])
    model.save(tmp_path / "model.keras")
    assert load_run_model(tmp_path / "model.keras").loss is LOSSES[loss]


def test_fit_with_a_teacher_trains_toward_its_output(tiny_run, tiny_model_path, tmp_path):
    from scanclean_train.data import Augment, load_images, make_patch_dataset
    from scanclean_train.losses import DistilledLoss
    from scanclean_train.train import make_teacher, prepare_split

    root, data, _ = tiny_run
    teach, _ = make_teacher(tiny_model_path, flips=4, threads=1, patch=32)
    train_pairs, _ = prepare_split(tiny_config(data))
    pages = load_images(train_pairs)
    plain = make_patch_dataset(pages, 32, 4, 2, seed=3, augment=Augment())
    taught = make_patch_dataset(pages, 32, 4, 2, seed=3, augment=Augment(), teacher=teach)
    for (x0, y0), (x1, y1) in zip(plain, taught, strict=True):
        np.testing.assert_array_equal(x0, x1)  # same patches
        assert y1.shape == (4, 32, 32, 2)
        np.testing.assert_array_equal(y1[..., :1], y0)
        np.testing.assert_allclose(y1[..., 1:], teach(np.asarray(x1)), atol=1e-6)

    def tuned(name, **teacher):
        config = tuning_config(root, data, seed=6, **teacher)
        fit(config, tmp_path / name, log=lambda line: None)
        return tmp_path / name

    plain_run = tuned("plain")
    run = tmp_path / "taught"  # the same run through the command line, with the teacher
    args = ["fit", "--data", str(data), "--arch", "seed", "--batch-size", "4", "--patch", "32"]
    args += ["--val-groups", "b", "--threads", "1", "--epochs", "1", "--steps", "3"]
    args += ["--seed", "6", "--lr", "1e-2", "--init", str(root / "run" / "model.keras")]
    args += ["--keep", "last", "--out", str(run)]
    assert train_cli.main([*args, "--teacher", str(tiny_model_path), "--teacher-weight", "1"]) == 0
    record = json.loads((run / "config.json").read_text())
    assert record["teacher"] == {
        "path": str(tiny_model_path),
        "name": "tiny-test",
        "version": record["teacher"]["version"],
        "flips": 4,
        "weight": 1.0,
    }
    model = load_run_model(run / "model.keras")
    assert isinstance(model.loss, DistilledLoss) and model.loss.teacher_weight == 1.0
    plain_weights = load_run_model(plain_run / "model.keras").get_weights()
    assert (
        max(
            float(np.abs(a - b).max())
            for a, b in zip(model.get_weights(), plain_weights, strict=True)
        )
        > 1e-4
    )  # the teacher's target changed the training


def test_export_matches_keras_on_an_odd_page_and_carries_metadata(tiny_run):
    ort = pytest.importorskip("onnxruntime")
    import onnx

    root, _, _ = tiny_run
    out = root / "seed.onnx"
    assert (
        train_cli.main(
            [
                "export",
                str(root / "run" / "model.keras"),
                "--out",
                str(out),
                "--name",
                "seed-test",
                "--version",
                "7",
            ]
        )
        == 0
    )
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    for key in (
        "name",
        "version",
        "architecture",
        "receptive_field",
        "size_multiple",
        "value_range",
        "training_data",
        "validation",
        "metrics",
    ):
        assert meta[key], key
    assert meta["name"] == "seed-test" and meta["receptive_field"] == "15"
    assert "data/b" in meta["validation"]
    assert "best_val_rmse" in json.loads(meta["metrics"])
    page = make_page(37, 53, seed=9)[None, ..., None]
    keras_out = np.asarray(load_run_model(root / "run" / "model.keras")(page))
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {session.get_inputs()[0].name: page})[0]
    assert onnx_out.shape == page.shape
    np.testing.assert_allclose(onnx_out, keras_out, atol=1e-5)


def test_unet_exports_with_dynamic_size_and_matches_keras(monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    import onnx

    from scanclean_train import export as export_mod

    for context in ((), (2, 4)):  # with a context block: dilated convolutions
        model, info = build_unet((4, 8, 8, 8), context)
        data = export_mod.to_onnx_bytes(model)
        ops = [node.op_type for node in onnx.load_from_string(data).graph.node]
        # each of the 3 nearest upsamplings is one Resize, not tf2onnx's Tile/Transpose repeats
        assert ops.count("Resize") == 3 and "Tile" not in ops
        assert "Transpose" not in ops or context  # tf2onnx's dilated convolution has some
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        for h, w in ((37, 53), (61, 29)):
            page = pad_reflect(make_page(h, w, seed=h), info.size_multiple)[0][None, ..., None]
            np.testing.assert_allclose(
                session.run(None, {"input": page})[0], np.asarray(model(page)), atol=1e-5
            )
    # a simplified graph that did not give the same output would not be used
    monkeypatch.setattr(export_mod, "same_outputs", lambda a, b: False)
    with pytest.warns(RuntimeWarning, match="kept tf2onnx"):
        ops = [
            node.op_type
            for node in onnx.load_from_string(export_mod.to_onnx_bytes(model)).graph.node
        ]
    assert "Resize" not in ops and "Tile" in ops


def test_export_check_probes_a_page_the_architecture_can_take():
    """Five levels need sides that are multiples of 16: the export's probe page has them."""
    pytest.importorskip("onnxruntime")
    from scanclean_train import export as export_mod

    model, info = build_unet((2, 2, 2, 2, 2))
    assert info.size_multiple == 16
    export_mod.check_onnx(export_mod.to_onnx_bytes(model), info.size_multiple)


def test_evaluate_reports_model_and_baselines(tiny_run, capsys):
    root, data, _ = tiny_run
    out = root / "seed-eval.onnx"
    train_cli.main(["export", str(root / "run" / "model.keras"), "--out", str(out)])
    capsys.readouterr()
    assert (
        train_cli.main(
            ["evaluate", "--model", str(out), "--data", str(data), "--groups", "b", "--json"]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["pages"] == 2 and report["groups"] == ["data/b"]
    assert set(report["methods"]) == {"seed-eval", "identity", "classical"}
    assert report["rmse"] == report["methods"]["seed-eval"]["rmse"]
    # the identity baseline is the plain RMSE of the noisy pages
    from scanclean_train.data import find_pairs, load_images

    pages = [p for p in find_pairs(data) if p.group == "data/b"]
    sq = sum(float(np.sum((n.astype(np.float64) - c) ** 2)) for n, c in load_images(pages))
    px = sum(c.size for _, c in load_images(pages))
    assert report["methods"]["identity"]["rmse"] == pytest.approx(np.sqrt(sq / px), rel=1e-6)
    # each page's row also has the RMSE on its ink (clean < 0.75)
    for pair, (noisy, clean) in zip(pages, load_images(pages), strict=True):
        ink = clean < 0.75
        expected = np.sqrt(np.mean((noisy[ink].astype(np.float64) - clean[ink]) ** 2))
        row = report["per_page"]["identity"][pair.name]
        assert row["rmse_ink"] == pytest.approx(expected, rel=1e-6)
    # the report goes into the model's metadata as it is, under the name given
    (root / "eval.json").write_text(json.dumps(report))
    assert (
        train_cli.main(
            [
                "export",
                str(root / "run" / "model.keras"),
                "--out",
                str(out),
                "--metrics-from",
                f"tiny_b={root / 'eval.json'}",
            ]
        )
        == 0
    )
    import onnx

    stored = json.loads({p.key: p.value for p in onnx.load(out).metadata_props}["metrics"])
    assert stored["tiny_b"]["rmse"] == round(report["rmse"], 4)
    assert stored["tiny_b_identity"]["rmse"] == round(report["methods"]["identity"]["rmse"], 4)


def test_fit_usage_errors_exit_2(tmp_path):
    with pytest.raises(SystemExit) as err:
        train_cli.main(["fit", "--out", str(tmp_path)])
    assert err.value.code == 2


def test_bad_data_dir_exits_1_with_the_reason(tmp_path, capsys):
    assert train_cli.main(["fit", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 1
    assert "noisy/ and clean/" in capsys.readouterr().err
