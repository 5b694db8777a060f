"""Self-test of an installed or frozen ScanClean (``scanclean --self-test``).

Checks, without any file from the user, that the pieces the app needs are there and work:

1. the default model (:func:`scanclean.model.default_model_path`) opens with
   :class:`scanclean.model.ModelSession` (onnxruntime, CPU);
2. a generated dirty page (grey paper, shading, a coffee-stain ring, a fold and noise over
   dark text) cleaned with :func:`scanclean.engine.clean_image` comes back with the same
   shape, finite, in [0, 1], with the background closer to white than in the input and the
   text still dark;
3. the demo scans (``scanclean/resources/demo/*.png``) are present and readable;
4. TensorFlow, Keras and tf2onnx were not imported.

It prints every check and the model's name and version, and returns 0 when all pass, 1
with the reasons otherwise. :func:`scanclean.app.main` dispatches ``--self-test`` here;
``packaging/build.sh`` runs it on the PyInstaller bundle.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SelfTestError", "make_test_page", "demo_scan_paths", "run_checks", "main"]

#: Size of the generated test page, (H, W) px: a strip of a 300 dpi scan, small enough to
#: clean in about a second.
PAGE_SHAPE = (320, 640)
#: The cleaned background must keep at most this fraction of the input's distance to white.
MAX_BACKGROUND_RATIO = 0.7
#: The cleaned text (mean over ink pixels) must stay at most this light (0 = black ink).
MAX_INK_LEVEL = 0.5
#: Modules that must never be loaded by the app.
FORBIDDEN_MODULES = ("tensorflow", "keras", "tf2onnx")


class SelfTestError(RuntimeError):
    """A self-test check failed; the message says which and why."""


@dataclass(frozen=True)
class TestPage:
    """A generated test page and what it should look like once cleaned.

    Attributes
    ----------
    dirty : numpy.ndarray
        (H, W) float32 in [0, 1], 1 = paper: the page as scanned (grey paper, stain, fold,
        noise).
    clean : numpy.ndarray
        (H, W) float32 in [0, 1]: the same text on white paper.
    ink : numpy.ndarray
        (H, W) bool, True where the text is (the core of the strokes).
    background : numpy.ndarray
        (H, W) bool, True on paper at least 3 px away from any text.
    """

    dirty: np.ndarray
    clean: np.ndarray
    ink: np.ndarray
    background: np.ndarray


def _text_mask(shape: tuple[int, int]) -> np.ndarray:
    """Render lines of dark text; (H, W) float32 ink coverage in [0, 1].

    Uses Pillow's built-in scalable font; falls back to letter-like bars drawn with numpy
    when Pillow has no FreeType.
    """
    height, width = shape
    try:
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.load_default(size=26)
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        lines = [
            "ScanClean self-test: the quick brown fox",
            "jumps over the lazy dog. 0123456789",
            "Coffee stains, folds and grey paper go;",
            "the text stays. DPI 300, A4 or Letter.",
            "Denoising autoencoder, ONNX Runtime.",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijk",
        ]
        for row, line in enumerate(lines):
            draw.text((24, 22 + row * 48), line, fill=255, font=font)
        return np.asarray(canvas, dtype=np.float32) / 255.0
    except (ImportError, OSError, TypeError, AttributeError):
        mask = np.zeros(shape, np.float32)
        rng = np.random.default_rng(1)
        for top in range(24, height - 40, 48):
            x = 24
            while x < width - 40:
                for _ in range(int(rng.integers(2, 7))):  # letters of one word
                    glyph_h = int(rng.integers(14, 24))
                    mask[top + 24 - glyph_h : top + 24, x : x + 3] = 1.0
                    mask[top + 21 : top + 24, x : x + 10] = 1.0
                    x += 14
                x += 12
        return mask


def make_test_page(shape: tuple[int, int] = PAGE_SHAPE, seed: int = 0) -> TestPage:
    """Generate a small dirty scan of printed text with numpy.

    Grey, unevenly lit paper (0.70 to 0.85), a coffee-stain ring, a diagonal fold line and
    Gaussian noise (sigma 0.02) over black text (0.08).

    Parameters
    ----------
    shape : tuple of int
        (H, W) of the page, px; at least (200, 300).
    seed : int
        Seed of the noise.

    Returns
    -------
    TestPage
        The dirty page, its clean target and the ink and background masks.
    """
    height, width = shape
    if height < 200 or width < 300:
        raise ValueError(f"test page must be at least 200 x 300 px, got {height} x {width}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    coverage = _text_mask(shape)
    clean = (1.0 - 0.92 * coverage).astype(np.float32)

    paper = 0.85 - 0.15 * (xx / width) * (yy / height)  # uneven light, grey paper
    cy, cx, radius = 0.55 * height, 0.7 * width, 0.3 * height
    ring = np.abs(np.hypot(yy - cy, xx - cx) - radius)
    paper -= 0.18 * np.exp(-((ring / 6.0) ** 2))  # coffee-stain rim
    paper -= 0.06 * (np.hypot(yy - cy, xx - cx) < radius)  # stain body
    fold = np.abs((yy - 0.1 * height) - 0.35 * (xx - 0.2 * width)) / np.hypot(1.0, 0.35)
    paper -= 0.12 * np.exp(-((fold / 2.0) ** 2))  # fold line
    dirty = paper * (1.0 - coverage) + 0.08 * coverage
    dirty += rng.normal(0.0, 0.02, size=shape)
    dirty = np.clip(dirty, 0.0, 1.0).astype(np.float32)

    ink = coverage > 0.9
    near_text = _dilate(coverage > 0.05, 3)
    background = ~near_text
    return TestPage(dirty=dirty, clean=clean, ink=ink, background=background)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square binary dilation of a (H, W) bool mask by ``radius`` px (numpy only)."""
    padded = np.pad(mask, radius)
    out = np.zeros_like(mask)
    height, width = mask.shape
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out |= padded[dy : dy + height, dx : dx + width]
    return out


def demo_scan_paths() -> list[Path]:
    """Paths of the shipped demo scans, sorted, as the app finds them.

    Uses :func:`scanclean.demo.demo_pages` (``sys._MEIPASS/scanclean/resources/demo`` in a
    PyInstaller bundle, else the ``scanclean.resources`` package's ``demo/*.png``).

    Returns
    -------
    list of pathlib.Path
        The demo PNG files found (empty when there are none).
    """
    from scanclean.demo import demo_pages

    return list(demo_pages())


def _check_model(state: dict) -> str:
    model = importlib.import_module("scanclean.model")
    path = state.get("model_path")
    if path is None:
        try:
            path = Path(model.default_model_path())
        except Exception as exc:  # noqa: BLE001 - any reason is reported
            raise SelfTestError(f"default model missing: {exc}") from exc
        what = "default model"
    else:
        what = "model"
    if not path.is_file():
        raise SelfTestError(f"{what} missing: {path} does not exist")
    try:
        session = model.ModelSession(path, intra_op_threads=state.get("threads"))
    except Exception as exc:  # noqa: BLE001
        raise SelfTestError(f"{what} {path} does not open: {exc}") from exc
    state["session"] = session
    info = session.info
    detail = (
        f"{info.name} version {info.version or '?'} ({info.architecture or '?'}, receptive "
        f"field {info.receptive_field} px, size multiple {info.size_multiple}) from {path}"
    )
    if "model_path" not in state:
        detail += f"; shipped models: {', '.join(model.shipped_models())}"
    return detail


def _check_clean(state: dict) -> str:
    session = state.get("session")
    if session is None:
        raise SelfTestError("no model to clean with (see the model check)")
    engine = importlib.import_module("scanclean.engine")
    page = make_test_page()
    start = time.perf_counter()
    out = engine.clean_image(page.dirty, session)
    seconds = time.perf_counter() - start
    out = np.asarray(out)
    if out.shape != page.dirty.shape:
        raise SelfTestError(f"cleaned page has shape {out.shape}, expected {page.dirty.shape}")
    if not np.all(np.isfinite(out)):
        raise SelfTestError("cleaned page has NaN or infinite values")
    low, high = float(out.min()), float(out.max())
    if low < 0.0 or high > 1.0:
        raise SelfTestError(f"cleaned page leaves [0, 1]: min {low:.4f}, max {high:.4f}")
    before = float(np.mean(1.0 - page.dirty[page.background]))
    after = float(np.mean(1.0 - out[page.background]))
    if not after <= MAX_BACKGROUND_RATIO * before:
        raise SelfTestError(
            f"background not cleaner: mean distance to white {before:.4f} before, "
            f"{after:.4f} after (must drop to at most {MAX_BACKGROUND_RATIO:.0%})"
        )
    ink = float(np.mean(out[page.ink]))
    if ink > MAX_INK_LEVEL:
        raise SelfTestError(f"text lost: mean ink level {ink:.3f} after cleaning (0 = black)")
    rmse_before = float(np.sqrt(np.mean((page.dirty - page.clean) ** 2)))
    rmse_after = float(np.sqrt(np.mean((out - page.clean) ** 2)))
    height, width = page.dirty.shape
    return (
        f"cleaned a generated {width} x {height} px page in {seconds:.2f} s: background "
        f"distance to white {before:.3f} -> {after:.3f}, ink level {ink:.3f}, "
        f"RMSE to the clean page {rmse_before:.3f} -> {rmse_after:.3f}"
    )


def _check_demo(state: dict) -> str:
    paths = demo_scan_paths()
    if not paths:
        raise SelfTestError("demo scans missing: no scanclean/resources/demo/*.png")
    from PIL import Image

    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception as exc:  # noqa: BLE001
            raise SelfTestError(f"demo scan {path} is unreadable: {exc}") from exc
    return f"{len(paths)} demo scans in {paths[0].parent}"


def _check_no_training_stack(state: dict) -> str:
    loaded = sorted(name for name in FORBIDDEN_MODULES if name in sys.modules)
    if loaded:
        raise SelfTestError(f"the app loaded {', '.join(loaded)}; it must run on onnxruntime alone")
    import onnxruntime

    return f"onnxruntime {onnxruntime.__version__}, no TensorFlow/Keras/tf2onnx loaded"


CHECKS: list[tuple[str, Callable[[dict], str]]] = [
    ("model", _check_model),
    ("clean a generated page", _check_clean),
    ("demo scans", _check_demo),
    ("runtime", _check_no_training_stack),
]


def run_checks(
    model_path: str | Path | None = None,
    log: Callable[[str], None] = print,
    threads: int | None = None,
) -> list[str]:
    """Run every check, log each result and return the failures.

    Parameters
    ----------
    model_path : str or pathlib.Path, optional
        ONNX model to test instead of the default model (tests use this).
    log : callable
        Receives one line per check.
    threads : int, optional
        onnxruntime intra-op threads (default: onnxruntime's, one per core).

    Returns
    -------
    list of str
        One reason per failed check; empty when all passed.
    """
    state: dict = {"threads": threads}
    if model_path is not None:
        state["model_path"] = Path(model_path)
    failures = []
    for name, check in CHECKS:
        try:
            detail = check(state)
        except Exception as exc:  # noqa: BLE001 - a self-test reports everything
            reason = str(exc) if isinstance(exc, SelfTestError) else f"{type(exc).__name__}: {exc}"
            failures.append(f"{name}: {reason}")
            log(f"[FAIL] {name}: {reason}")
        else:
            log(f"[ok]   {name}: {detail}")
    return failures


def main(model_path: str | Path | None = None, threads: int | None = None) -> int:
    """Run the self-test and print the result; the ``--self-test`` command.

    Parameters
    ----------
    model_path : str or pathlib.Path, optional
        ONNX model to test instead of the shipped default model.
    threads : int, optional
        onnxruntime intra-op threads (default: onnxruntime's, one per core).

    Returns
    -------
    int
        0 when every check passed, 1 otherwise (the reasons are printed).
    """
    frozen = "frozen (PyInstaller)" if getattr(sys, "frozen", False) else "installed package"
    print(f"scanclean self-test: {frozen}, Python {sys.version.split()[0]}, {sys.platform}")
    failures = run_checks(model_path, threads=threads)
    sys.stdout.flush()  # the checks first, then the verdict on stderr
    if failures:
        print(f"self-test FAILED ({len(failures)} of {len(CHECKS)} checks):", file=sys.stderr)
        for reason in failures:
            print(f"  {reason}", file=sys.stderr)
        return 1
    print(f"self-test passed ({len(CHECKS)} checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
