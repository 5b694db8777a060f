"""Export a trained Keras DAE to ONNX with tf2onnx, with the model facts in its metadata.

The ONNX input is ``input``: (N, H, W, 1) float32 in [0, 1] with dynamic N, H, W (opset
17); the output has the same shape. ``metadata_props`` carry what the app reads (see
docs/architecture.md): name, version, architecture, receptive_field, size_multiple,
value_range, training_data, validation, metrics (JSON), macs_per_pixel, description.
"""

from __future__ import annotations

import json
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
        model), and so are regions the set does not have.

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
                if k != "mp_per_s" and v is not None
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
    return training, validation


def _held_out_by(model_path: str | None) -> str:
    """The validation groups of the run that wrote ``model_path`` ('' if unknown)."""
    if not model_path:
        return ""
    split = run_record(Path(model_path)).get("config", {}).get("split", {})
    return ", ".join(split.get("val_groups", []))


def to_onnx_bytes(model, opset: int = 17) -> bytes:
    """Convert a Keras model to a serialized ONNX model with dynamic N, H, W.

    Raises
    ------
    RuntimeError
        tf2onnx failed (its message is kept).
    """
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, None, None, 1), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    return proto.SerializeToString()


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


def check_onnx(onnx_bytes: bytes) -> None:
    """Check with onnxruntime that the model maps (N, H, W, 1) to the same shape.

    Declared input and output must be rank 4 with one channel, and a probe page of
    (2, 24, 40, 1) must come back with that shape and values in [0, 1].

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
    probe = np.full((2, 24, 40, 1), 0.5, np.float32)
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
    from .model import macs_per_pixel
    from .train import load_run_model

    model_path, out = Path(model_path), Path(out)
    model = load_run_model(model_path)
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
        "parameters": str(model.count_params()),
        "description": description,
    }
    # tf2onnx has been seen (once in many runs) to declare a rank-5 output; convert again then.
    for attempt in range(3):
        onnx_bytes = set_metadata(to_onnx_bytes(model), metadata)
        try:
            check_onnx(onnx_bytes)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    write_atomic(onnx_bytes, out)
    return metadata
