"""Export a trained Keras DAE to ONNX with tf2onnx, with the model facts in its metadata.

The ONNX input is ``input``: (N, H, W, 1) float32 in [0, 1] with dynamic N, H, W (opset
17); the output has the same shape. ``metadata_props`` carry what the app reads (see
docs/architecture.md): name, version, architecture, receptive_field, size_multiple,
value_range, training_data, validation, metrics (JSON), macs_per_pixel, description.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from scanclean.pages import atomic_file

VALUE_RANGE = "0-1, 1 = paper"


def collect_metrics(reports: dict[str, dict], baselines: tuple[str, ...] = ("identity",)) -> dict:
    """Metrics for the metadata from ``scanclean-train evaluate --json`` reports.

    Parameters
    ----------
    reports : dict of str to dict
        Test-set name (e.g. ``noisyoffice_heldout_groups_258-3``) to one evaluate report;
        its ``model`` key names the method whose figures are taken.
    baselines : tuple of str
        Baseline methods also stored, as ``<set>_<baseline>``.

    Returns
    -------
    dict
        ``{set: {rmse, psnr, ssim, f_measure, rmse_ink, ...}, set_identity: {...}, ...}``,
        rounded to 4 decimals; speeds are left out (they belong to the machine, not the
        model), and so are regions the set does not have and the per-depth ink figures
        (``ink_depth``, a list: see the evaluate JSON).

    Raises
    ------
    ValueError
        A report without the model's or a baseline's figures (the message names the set).
    """
    metrics = {}
    for key, report in reports.items():
        methods = report.get("methods", {})
        for method, suffix in [(report.get("model"), "")] + [(b, f"_{b}") for b in baselines]:
            if method not in methods:
                raise ValueError(f"{key}: the evaluate report has no figures for {method!r}")
            metrics[key + suffix] = {
                k: round(v, 4)
                for k, v in methods[method].items()
                if k != "mp_per_s" and isinstance(v, int | float)
            }
    return metrics


def run_record(model_path: Path) -> dict:
    """The run's ``config.json`` beside a ``model.keras`` (empty dict if absent)."""
    path = Path(model_path).parent / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


def describe_training(record: dict) -> tuple[str, str]:
    """``(training_data, validation)`` sentences for the metadata, from a run record."""
    config = record.get("config", {})
    split = config.get("split", {})
    dirs = [Path(d).name for d in config.get("data", [])]
    training = (
        f"paired scans from {', '.join(dirs) or 'unknown'}; "
        f"training groups: {', '.join(split.get('train_groups', [])) or 'unknown'}"
        + (
            f"; plus {split['extra_training_pages']} pages from the other data dirs"
            if split.get("extra_training_pages")
            else ""
        )
        + _patch_shares(config, dirs)
        + (
            f"; fine-tuned from {Path(config['init']).parent.name}/{Path(config['init']).name}"
            if config.get("init")
            else ""
        )
        + (
            "; weights averaged over runs "
            + ", ".join(Path(p).parent.name for p in record["averaged_from"])
            if record.get("averaged_from")
            else ""
        )
        + ". NoisyOffice: UCI Machine Learning Repository, CC BY 4.0."
    )
    if "val_groups" in split and not split["val_groups"]:
        validation = "none held out in the last run: every background group trained"
        earlier = _held_out_by(config.get("init"))
        if earlier:
            validation += (
                f"; the run it was fine-tuned from held out whole background groups: {earlier}"
            )
    else:
        validation = "held-out whole background groups (no background on both sides): " + (
            ", ".join(split.get("val_groups", [])) or "unknown"
        )
        if split.get("unseen_text"):
            validation += "; training pages sharing a held-out page's text dropped"
    return training, validation


def _patch_shares(config: dict, dirs: list[str]) -> str:
    """``"; patches: 60 % noisyoffice, 40 % synth"`` from the run's shares ('' if by page)."""
    if config.get("source_fractions"):
        shares = zip(config["source_fractions"], dirs, strict=True)
        return "; patches: " + ", ".join(f"{f * 100:.0f} % {d}" for f, d in shares)
    if config.get("first_fraction") is not None and dirs:
        return f"; patches: {config['first_fraction'] * 100:.0f} % {dirs[0]}, the rest by page"
    return ""


def _held_out_by(model_path: str | None) -> str:
    """The validation groups of the run that wrote ``model_path`` ('' if unknown)."""
    if not model_path:
        return ""
    split = run_record(Path(model_path)).get("config", {}).get("split", {})
    return ", ".join(split.get("val_groups", []))


def to_onnx_bytes(model, opset: int = 17) -> bytes:
    """Convert a Keras model to a serialized ONNX model with dynamic N, H, W.

    tf2onnx's graph is then simplified by :func:`upsampling_as_resize` when the result is
    a valid ONNX model that gives the same output on a probe batch (:func:`same_outputs`,
    to 1e-6); else the graph is kept as converted, with a ``RuntimeWarning``.

    Returns
    -------
    bytes
        The serialized ``onnx.ModelProto`` (no metadata yet; see :func:`set_metadata`).

    Raises
    ------
    RuntimeError
        tf2onnx failed (its message is kept).
    """
    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, None, None, 1), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    converted = proto.SerializeToString()
    if upsampling_as_resize(proto) == 0:
        return converted
    simplified = proto.SerializeToString()
    try:
        onnx.checker.check_model(proto)
        same = same_outputs(converted, simplified)
    except onnx.checker.ValidationError:
        same = False
    if not same:
        warnings.warn(
            "the graph with Resize upsampling differs from tf2onnx's; kept tf2onnx's",
            RuntimeWarning,
            stacklevel=2,
        )
        return converted
    return simplified


# Keras's UpSampling2D(2, "nearest") as tf2onnx 1.17 writes it, NCHW in and out: each axis
# repeated by ExpandDims + Tile + Reshape, with NHWC transposes between (op, Transpose perm).
_REPEAT_CHAIN = (
    ("Unsqueeze", None),
    ("Tile", None),
    ("Transpose", (0, 2, 3, 4, 1)),
    ("Reshape", None),
    ("Unsqueeze", None),
    ("Tile", None),
    ("Reshape", None),
    ("Transpose", (0, 3, 1, 2)),
)


def _tile_factor(node, initializers) -> int | None:
    """The one repeat count > 1 of a Tile node whose repeats are a constant, else None."""
    from onnx import numpy_helper

    if len(node.input) < 2 or node.input[1] not in initializers:
        return None
    repeats = [int(r) for r in numpy_helper.to_array(initializers[node.input[1]]).ravel()]
    factors = [r for r in repeats if r != 1]
    return factors[0] if len(factors) == 1 else None


def upsampling_as_resize(proto) -> int:
    """Replace tf2onnx's nearest-upsampling subgraphs by one ONNX ``Resize`` each, in place.

    Keras's ``UpSampling2D(2, interpolation="nearest")`` reaches ONNX as two
    ExpandDims/Tile/Reshape repeats with layout transposes between them; onnxruntime runs
    those as plain copies and converts the U-Net's activations out of and back into its
    blocked (NCHWc) convolution layout around each. One ``Resize`` (nearest, asymmetric
    coordinates, floor: ``y[n, c, i, j] = x[n, c, i // s, j // s]``) does the same and stays
    in that layout: ``scanclean-default`` 2.3 runs 1.35x faster on one thread (1.19
    against 0.88 MP/s, ``benchmarks/bench_engine.py``) with the same output bit for bit.
    Nodes left without a consumer (the shape arithmetic of the repeats) are removed.

    Parameters
    ----------
    proto : onnx.ModelProto
        As tf2onnx returns it; modified in place.

    Returns
    -------
    int
        Number of upsamplings replaced (0: the graph is unchanged).
    """
    import numpy as np
    from onnx import helper, numpy_helper

    def perm_of(node) -> tuple[int, ...] | None:
        for attr in node.attribute:
            if attr.name == "perm":
                return tuple(helper.get_attribute_value(attr))
        return None

    graph = proto.graph
    producer = {out: node for node in graph.node for out in node.output}
    initializers = {t.name: t for t in graph.initializer}
    replaced: dict[int, object] = {}  # id of the last node of a chain -> its Resize
    dropped: set[int] = set()
    for last in graph.node:
        if last.op_type != "Transpose":
            continue
        chain = [last]
        while len(chain) < len(_REPEAT_CHAIN) and chain[-1].input[0] in producer:
            chain.append(producer[chain[-1].input[0]])
        chain.reverse()
        if len(chain) != len(_REPEAT_CHAIN) or any(
            node.op_type != op or (perm is not None and perm_of(node) != perm)
            for node, (op, perm) in zip(chain, _REPEAT_CHAIN, strict=True)
        ):
            continue
        factors = {_tile_factor(chain[1], initializers), _tile_factor(chain[5], initializers)}
        if len(factors) != 1 or None in factors:
            continue
        factor = factors.pop()
        scales = f"{last.name}_resize_scales"
        graph.initializer.append(
            numpy_helper.from_array(np.array([1, 1, factor, factor], np.float32), scales)
        )
        replaced[id(last)] = helper.make_node(
            "Resize",
            [chain[0].input[0], "", scales],
            [last.output[0]],
            name=f"{last.name}_resize",
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
        dropped.update(id(node) for node in chain)
    if not replaced:
        return 0
    nodes = [
        replaced.get(id(n), n) for n in graph.node if id(n) in replaced or id(n) not in dropped
    ]
    # keep only nodes something downstream needs (walk back from the graph outputs)
    needed = {out.name for out in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [t for t in graph.initializer if t.name not in needed]
    for tensor in unused:
        graph.initializer.remove(tensor)
    return len(replaced)


def same_outputs(a: bytes, b: bytes, shape: tuple[int, ...] = (2, 64, 96, 1)) -> bool:
    """Whether two serialized (N, H, W, 1) ONNX models give identical outputs on a probe.

    The probe is a seeded random batch of ``shape`` in [0, 1] (by default H and W are
    multiples of 32, the size multiple of a U-Net with five 2x2 poolings); "identical" is
    a difference of at most 1e-6, float rounding. False also when either model fails on
    the probe (a size it does not take, say).
    """
    import numpy as np
    import onnxruntime as ort

    probe = np.random.default_rng(0).random(shape, dtype=np.float32)
    outs = []
    for data in (a, b):
        try:
            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            outs.append(session.run(None, {session.get_inputs()[0].name: probe})[0])
        except Exception:  # onnxruntime raises its own Fail/InvalidArgument types
            return False
    return outs[0].shape == outs[1].shape and float(np.abs(outs[0] - outs[1]).max()) <= 1e-6


def set_metadata(onnx_bytes: bytes, metadata: dict[str, str]) -> bytes:
    """Return the ONNX model with ``metadata_props`` set (values become strings)."""
    import onnx

    proto = onnx.load_from_string(onnx_bytes)
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    proto.producer_name = "scanclean-train"
    return proto.SerializeToString()


def check_onnx(onnx_bytes: bytes, size_multiple: int = 1) -> None:
    """Check with onnxruntime that the model maps (N, H, W, 1) to the same shape.

    Declared input and output must be rank 4 with one channel, and a probe page of
    (2, 3 m, 5 m, 1), m the size multiple rounded up to a multiple of 8 ((2, 24, 40, 1)
    for m <= 8), must come back with that shape and values in [0, 1].

    Parameters
    ----------
    onnx_bytes : bytes
    size_multiple : int
        The architecture's size multiple (px): the probe's sides are multiples of it.

    Raises
    ------
    RuntimeError
        The exported graph does not keep the contract (a converter fault: export again).
    """
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    for arg in (*session.get_inputs(), *session.get_outputs()):
        if len(arg.shape) != 4 or arg.shape[-1] != 1:
            raise RuntimeError(
                f"exported {arg.name!r} has shape {arg.shape}; expected (N, H, W, 1)"
            )
    m = -(-max(size_multiple, 1) // 8) * 8
    probe = np.full((2, 3 * m, 5 * m, 1), 0.5, np.float32)
    out = session.run(None, {session.get_inputs()[0].name: probe})[0]
    if out.shape != probe.shape or not (0.0 <= out.min() and out.max() <= 1.0):
        raise RuntimeError(
            f"exported model maps {probe.shape} to {out.shape}; expected the same shape in [0, 1]"
        )


def write_atomic(data: bytes, out: Path) -> None:
    """Write bytes to ``out`` atomically (``scanclean.pages.atomic_file``)."""
    with atomic_file(out) as fh:
        fh.write(data)


def export(
    model_path: Path | str,
    out: Path | str,
    name: str | None = None,
    version: str = "1",
    metrics: dict | None = None,
    description: str = "",
) -> dict[str, str]:
    """Export ``RUN/model.keras`` to ONNX with metadata.

    Parameters
    ----------
    model_path : Path or str
        A ``model.keras`` written by ``scanclean_train.train.fit``; its ``config.json`` is
        read for the architecture, data and split.
    out : Path or str
        The ``.onnx`` file to write (atomically).
    name, version, description : str
        Model facts for the metadata; ``name`` defaults to the output file's stem.
    metrics : dict, optional
        Validation figures; defaults to the run's best validation RMSE.

    Returns
    -------
    dict of str: the metadata written.
    """
    from .model import MirrorConv2D, expand_mirror_unet, macs_per_pixel
    from .train import load_run_model

    model_path, out = Path(model_path), Path(out)
    model = load_run_model(model_path)
    parameters = model.count_params()
    if any(isinstance(layer, MirrorConv2D) for layer in model.layers):
        model = expand_mirror_unet(model)  # the same function as a plain U-Net graph
    record = run_record(model_path)
    arch = record.get("architecture", {})
    if not arch:
        raise ValueError(
            f"{model_path}: no config.json beside it; cannot state receptive field and size multiple"
        )
    training, validation = describe_training(record)
    if metrics is None:
        result = record.get("result", {})
        metrics = {
            k: result[k]
            for k in ("best_val_rmse", "identity_val_rmse")
            if result.get(k) is not None
        }
    metadata = {
        "name": name or out.stem,
        "version": version,
        "architecture": arch["name"],
        "receptive_field": str(arch["receptive_field"]),
        "size_multiple": str(arch["size_multiple"]),
        "value_range": VALUE_RANGE,
        "training_data": training,
        "validation": validation,
        "metrics": json.dumps(metrics),
        "macs_per_pixel": str(macs_per_pixel(model)),
        "parameters": str(parameters),
        "description": description,
    }
    # tf2onnx has been seen (once in many runs) to declare a rank-5 output; convert again then.
    for attempt in range(3):
        onnx_bytes = set_metadata(to_onnx_bytes(model), metadata)
        try:
            check_onnx(onnx_bytes, arch["size_multiple"])
            break
        except RuntimeError:
            if attempt == 2:
                raise
    write_atomic(onnx_bytes, out)
    return metadata
