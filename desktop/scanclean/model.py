"""ONNX model sessions for the denoising autoencoder, and the shipped models.

A :class:`ModelSession` opens one ONNX file once with onnxruntime on the CPU
(``CPUExecutionProvider``), checks that it fits the contract of
``docs/architecture.md`` (one input and one output of rank 4, ``(N, H, W, 1)``
float32 in [0, 1], 1 = paper) and reads the metadata the trainer writes into
``metadata_props`` into a :class:`ModelInfo`.

No Qt, TensorFlow, Keras or tf2onnx here: the app runs on onnxruntime alone.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_MODEL_FILE",
    "REFERENCE_MODEL_FILE",
    "ModelError",
    "ModelInfo",
    "ModelSession",
    "default_model_path",
    "model_description",
    "models_dir",
    "resolve_model",
    "shipped_models",
]

DEFAULT_MODEL_FILE = "scanclean-default.onnx"
"""File name of the default shipped model in the ``scanclean.models`` package."""

REFERENCE_MODEL_FILE = "seed-dae.onnx"
"""File name of the reference (seed) denoising autoencoder in ``scanclean.models``."""


class ModelError(ValueError):
    """A model file is missing or unusable (not ONNX, wrong input/output, bad metadata).

    The message always names the file and the reason.
    """


@dataclass(frozen=True)
class ModelInfo:
    """What the app knows about one ONNX denoising autoencoder.

    Attributes
    ----------
    path : Path
        The ONNX file (resolved).
    name, version, architecture : str
        From ``metadata_props``; ``name`` falls back to the file stem when missing.
    receptive_field : int
        Width in px of the input window that affects one output pixel; the tiling
        overlap is derived from it.
    size_multiple : int
        Input height and width must be multiples of this (1 when any size works).
    value_range : str
        Declared value range, ``"0-1, 1 = paper"`` for ScanClean models.
    training_data, validation : str
        Model-card texts written by the trainer ("" when missing).
    metrics : dict
        Validation figures (RMSE, PSNR, SSIM ...) parsed from the ``metrics`` JSON.
    macs_per_pixel : float or None
        Multiply-accumulates per output pixel, when the trainer wrote it.
    description : str
        Free text ("" when missing).
    input_name, output_name : str
        Names of the graph's input and output tensors.
    """

    path: Path
    name: str
    version: str
    architecture: str
    receptive_field: int
    size_multiple: int
    value_range: str
    training_data: str = ""
    validation: str = ""
    metrics: dict = field(default_factory=dict)
    macs_per_pixel: float | None = None
    description: str = ""
    input_name: str = "input"
    output_name: str = "output"


def _positive_int(meta: dict[str, str], key: str, path: Path) -> int:
    raw = meta.get(key)
    if raw is None or str(raw).strip() == "":
        raise ModelError(f"{path}: model metadata lacks '{key}' (needed for tiling)")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ModelError(f"{path}: model metadata '{key}'={raw!r} is not an integer") from None
    if value < 1:
        raise ModelError(f"{path}: model metadata '{key}'={value} must be >= 1")
    return value


def _check_io(arg, what: str, path: Path) -> None:
    """Check one graph input/output against the ``(N, H, W, 1)`` float32 contract."""
    shape = arg.shape
    if len(shape) != 4:
        raise ModelError(
            f"{path}: model {what} '{arg.name}' has rank {len(shape)} (shape {shape}); "
            "expected rank 4 (N, H, W, 1)"
        )
    channels = shape[3]
    if isinstance(channels, int) and channels != 1:
        raise ModelError(
            f"{path}: model {what} '{arg.name}' has {channels} channels (shape {shape}); "
            "expected 1 grey channel (N, H, W, 1)"
        )
    if arg.type != "tensor(float)":
        raise ModelError(f"{path}: model {what} '{arg.name}' is {arg.type}; expected float32")
    for dim, label in ((shape[1], "H"), (shape[2], "W")):
        if isinstance(dim, int):
            raise ModelError(
                f"{path}: model {what} '{arg.name}' has a fixed {label}={dim} (shape {shape}); "
                "expected dynamic height and width"
            )


class ModelSession:
    """One ONNX denoising autoencoder opened once with onnxruntime on the CPU.

    Parameters
    ----------
    path : str or Path
        The ONNX file.
    intra_op_threads : int or None
        onnxruntime intra-op threads (``None``: onnxruntime's default, one per core).

    Attributes
    ----------
    info : ModelInfo
        Input/output names and the trainer's metadata.

    Raises
    ------
    ModelError
        When the file is missing, not ONNX, or its input/output/metadata do not fit
        the contract (one input and one output ``(N, H, W, 1)`` float32, integer
        ``receptive_field`` and ``size_multiple`` in ``metadata_props``). The message
        names the file and the reason.
    """

    def __init__(self, path: str | Path, intra_op_threads: int | None = None):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        if path.stat().st_size == 0:
            raise ModelError(f"{path}: model file is empty")
        options = ort.SessionOptions()
        if intra_op_threads is not None:
            if intra_op_threads < 1:
                raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
            options.intra_op_num_threads = int(intra_op_threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only; no warnings on stderr
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path}: not a usable ONNX model ({reason})") from exc

        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(
                f"{path}: model has {len(inputs)} inputs and {len(outputs)} outputs; "
                "expected exactly one of each"
            )
        _check_io(inputs[0], "input", path)
        _check_io(outputs[0], "output", path)

        meta = dict(self._session.get_modelmeta().custom_metadata_map)
        metrics_raw = meta.get("metrics", "") or "{}"
        try:
            metrics = json.loads(metrics_raw)
        except json.JSONDecodeError:
            raise ModelError(f"{path}: model metadata 'metrics' is not JSON") from None
        if not isinstance(metrics, dict):
            raise ModelError(f"{path}: model metadata 'metrics' is not a JSON object")
        macs = meta.get("macs_per_pixel")
        try:
            macs_per_pixel = float(macs) if macs not in (None, "") else None
        except ValueError:
            raise ModelError(
                f"{path}: model metadata 'macs_per_pixel'={macs!r} is not a number"
            ) from None

        self.info = ModelInfo(
            path=path.resolve(),
            name=meta.get("name") or path.stem,
            version=meta.get("version", ""),
            architecture=meta.get("architecture", ""),
            receptive_field=_positive_int(meta, "receptive_field", path),
            size_multiple=_positive_int(meta, "size_multiple", path),
            value_range=meta.get("value_range", ""),
            training_data=meta.get("training_data", ""),
            validation=meta.get("validation", ""),
            metrics=metrics,
            macs_per_pixel=macs_per_pixel,
            description=meta.get("description", ""),
            input_name=inputs[0].name,
            output_name=outputs[0].name,
        )
        self.intra_op_threads = intra_op_threads

    @property
    def path(self) -> Path:
        """The ONNX file (resolved)."""
        return self.info.path

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the denoising autoencoder on a batch of tiles.

        Parameters
        ----------
        batch : ndarray, (N, H, W, 1) float32 in [0, 1], 1 = paper
            H and W must be multiples of ``info.size_multiple``.

        Returns
        -------
        ndarray, (N, H, W, 1) float32 in [0, 1]

        Raises
        ------
        ValueError
            When the batch is not rank 4 with one channel, or H/W are not multiples
            of ``size_multiple``.
        """
        batch = np.asarray(batch)
        if batch.ndim != 4 or batch.shape[3] != 1:
            raise ValueError(f"batch must be (N, H, W, 1), got shape {batch.shape}")
        m = self.info.size_multiple
        if batch.shape[1] % m or batch.shape[2] % m:
            raise ValueError(
                f"tile {batch.shape[1]}x{batch.shape[2]} px is not a multiple of "
                f"size_multiple={m} of model {self.info.name}"
            )
        if batch.dtype != np.float32 or not batch.flags.c_contiguous:
            batch = np.ascontiguousarray(batch, dtype=np.float32)
        (out,) = self._session.run([self.info.output_name], {self.info.input_name: batch})
        return out

    def __repr__(self) -> str:
        return f"ModelSession({str(self.info.path)!r}, name={self.info.name!r})"


def models_dir() -> Path | None:
    """Folder holding the shipped ``*.onnx`` models, or ``None`` when there is none.

    Looks, in order, at the installed package ``scanclean.models`` (via
    ``importlib.resources``), ``sys._MEIPASS/scanclean/models`` when frozen by
    PyInstaller, and ``<repo>/models`` for a source checkout.

    Returns
    -------
    Path or None
    """
    candidates: list[Path] = []
    try:
        root = resources.files("scanclean.models")
        candidates.append(Path(str(root)))
    except Exception:  # not installed as a package (source checkout, frozen app)
        pass
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / "scanclean" / "models")
    candidates.append(Path(__file__).resolve().parents[2] / "models")
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.onnx")):
            return folder
    for folder in candidates:
        if folder.is_dir():
            return folder
    return None


def _read_metadata(path: Path) -> dict[str, str]:
    """The file's ``metadata_props`` (empty when it cannot be opened).

    Opens the file with graph optimizations off: reading metadata needs no optimized
    graph, and this halves the cost (4 instead of 9 ms for the default model).
    """
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return dict(session.get_modelmeta().custom_metadata_map)
    except Exception:  # an unusable file is listed by its stem; opening it reports why
        return {}


def _model_name(path: Path) -> str:
    """Name from the file's ``metadata_props`` (the stem when it has none)."""
    return _read_metadata(path).get("name") or path.stem


def model_description(path: str | Path) -> str:
    """The ``description`` in a model file's metadata, without opening a full session.

    Parameters
    ----------
    path : str or Path
        An ONNX model file.

    Returns
    -------
    str
        Empty when the file has no description or cannot be read (opening it with
        :class:`ModelSession` reports why).
    """
    return _read_metadata(Path(path)).get("description", "")


def shipped_models() -> dict[str, Path]:
    """The shipped ONNX models, by model name, the default model first.

    Returns
    -------
    dict of str to Path
        Key: the ``name`` in each file's metadata (the file stem when missing;
        ``"<name> (<stem>)"`` if two files share a name). Empty when no model
        is shipped.
    """
    folder = models_dir()
    if folder is None:
        return {}
    files = sorted(folder.glob("*.onnx"), key=lambda p: (p.name != DEFAULT_MODEL_FILE, p.name))
    found: dict[str, Path] = {}
    for path in files:
        name = _model_name(path)
        if name in found:
            name = f"{name} ({path.stem})"
        found[name] = path
    return found


def default_model_path() -> Path:
    """Path of the default shipped model, ``scanclean-default.onnx``.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When the default model is not shipped (e.g. not trained yet in a source
        checkout); the message says where it was looked for.
    """
    folder = models_dir()
    if folder is not None and (folder / DEFAULT_MODEL_FILE).is_file():
        return folder / DEFAULT_MODEL_FILE
    where = str(folder) if folder is not None else "the scanclean.models package"
    raise FileNotFoundError(
        f"default model {DEFAULT_MODEL_FILE} not found in {where}; "
        "train and export one (scanclean-train) or pass a model file explicitly"
    )


def resolve_model(spec: str | Path) -> Path:
    """A model file from a path or the name of a shipped model.

    Parameters
    ----------
    spec : str or Path
        An existing ``.onnx`` file, or a shipped model's name as its metadata gives it
        (``seed-dae``) or its file stem in the models folder. An existing file
        wins over a shipped model of the same name.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        Neither a file nor a shipped model; the message lists the shipped models.
    """
    path = Path(spec)
    if path.is_file():
        return path
    shipped = shipped_models()
    if str(spec) in shipped:
        return shipped[str(spec)]
    for found in shipped.values():
        if found.stem == str(spec):
            return found
    names = ", ".join(shipped) or "none"
    raise FileNotFoundError(
        f"model {str(spec)!r}: no such file, and no shipped model of that name (shipped: {names})"
    )
