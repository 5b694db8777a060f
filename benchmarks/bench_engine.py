"""Benchmark the ScanClean engine and the scanclean-batch CLI; prints figures, asserts nothing.

Per model (default: every shipped model; ``--model PATH`` repeatable):

- MP/s of the batch CLI end to end (a subprocess: Python start, model load, decode,
  inference, encode, atomic write) on a generated A4 600-dpi page (4960 x 7016 px,
  34.8 MP; also with ``--flips 4``, best quality) and on a folder of 20 NoisyOffice-size
  pages (540 x 420 px), with the peak RSS
  of each CLI process (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read in a
  fresh wrapper process, so each figure belongs to one CLI run);
- tiled vs untiled onnxruntime in-process (untiled on a 2000 x 2000 page: whole-page
  inference of 35 MP needs the activations of the whole page, several GB for a real
  denoising autoencoder);
- 1 vs 2 intra-op threads (tiled, 2000 x 2000 page), and the best-quality mode
  (``flips=4``: the mean of 4 mirror images) on that page;
- achieved GFLOP/s = 2 * MACs per pixel * px/s against this CPU's peak
  (cores * clock * 32 FLOP/cycle for AVX2 with two FMA units; the clock is read from
  /proc/cpuinfo or lscpu and the source is printed); MACs per pixel from the model's
  metadata, else counted from its Conv/ConvTranspose nodes (with the ``onnx`` package,
  layer shapes measured by running the model once);
- share of the time spent decoding, in inference and encoding (in-process run_job).

Usage::

    python benchmarks/bench_engine.py [--model PATH ...] [--tile PX] [--quick]

``--quick`` uses small pages (for checking the script itself, e.g. on a tiny test model).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "desktop") not in sys.path:
    sys.path.insert(0, str(ROOT / "desktop"))  # source checkout without pip install -e

from PIL import Image  # noqa: E402

from scanclean.batch import plan_jobs, run_job  # noqa: E402
from scanclean.engine import DEFAULT_TILE, clean_image, clean_image_untiled  # noqa: E402
from scanclean.model import ModelError, ModelSession, shipped_models  # noqa: E402

A4_600DPI = (7016, 4960)  # (H, W) px
NOISYOFFICE = (420, 540)  # (H, W) px of a NoisyOffice page (540 x 420)
UNTILED = (2000, 2000)
FLOP_PER_CYCLE = 32  # AVX2: 2 FMA units x 8 float32 lanes x 2 FLOP

_WRAPPER = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - t
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": rc, "wall": wall, "maxrss_kib": kb}))
"""


def synthetic_page(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A dirty page (H, W) uint8: uneven grey paper, grain, a stain band, dark text strokes.

    Built in row chunks so a 35 MP page costs little more than its 35 MB.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((h, w), np.uint8)
    xs = np.arange(w, dtype=np.float32)
    for y0 in range(0, h, 256):
        y1 = min(y0 + 256, h)
        yy = np.arange(y0, y1, dtype=np.float32)[:, None]
        page = 0.82 + 0.07 * np.sin(xs / w * 3.1)[None, :] * np.cos(yy / h * 2.3)
        page = page + rng.normal(0, 0.02, (y1 - y0, w)).astype(np.float32)
        page -= 0.12 * np.exp(
            -((((xs[None, :] - 0.6 * w) + 0.5 * (yy - 0.4 * h)) / (0.05 * w)) ** 2)
        )
        out[y0:y1] = np.clip(page * 255, 0, 255).astype(np.uint8)
    line = max(12, h // 300)
    for top in range(line, h - line, 2 * line):  # text lines of short dark strokes
        x = int(rng.integers(line, 3 * line))
        while x < w - line:
            word = int(rng.integers(3 * line, 12 * line))
            for sx in range(x, min(x + word, w - 2), max(3, line // 2)):
                out[top : top + line, sx : sx + max(1, line // 6)] = rng.integers(10, 60)
            x += word + 2 * line
    return out


def cpu_peak() -> tuple[float, float, str, int]:
    """(peak GFLOP/s, clock MHz, where the clock came from, cores)."""
    cores = os.cpu_count() or 1
    mhz, source = None, None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("CPU max MHz:"):
                mhz, source = float(line.split(":")[1]), "lscpu 'CPU max MHz'"
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    if mhz is None:
        try:
            values = [
                float(line.split(":")[1])
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("cpu MHz")
            ]
            if values:
                mhz, source = max(values), "/proc/cpuinfo 'cpu MHz' (current clock)"
        except (OSError, ValueError):
            pass
    if mhz is None:
        mhz, source = 2000.0, "unknown: assumed 2000 MHz"
    return cores * mhz * 1e6 * FLOP_PER_CYCLE / 1e9, mhz, source, cores


def count_macs_per_pixel(path: Path) -> tuple[float | None, str]:
    """MACs per output pixel from the ONNX graph's Conv/ConvTranspose nodes.

    The model is run once on a 256 x 256 input with every conv's input and output added as
    graph outputs, so each layer's real resolution is known (downsampling included).
    """
    try:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper
    except ImportError:
        return None, "onnx package not installed: cannot count MACs"
    model = onnx.load(str(path))
    weights = {init.name: numpy_helper.to_array(init).shape for init in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose")]
    if not convs:
        return None, "no Conv nodes found"
    wanted = []
    for node in convs:
        wanted += [node.input[0], node.output[0]]
    existing = {o.name for o in model.graph.output}
    for name in dict.fromkeys(wanted):
        if name not in existing:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    side = 256
    names = [o.name for o in session.get_outputs()]
    values = session.run(
        names, {session.get_inputs()[0].name: np.ones((1, side, side, 1), np.float32)}
    )
    shapes = dict(zip(names, (v.shape for v in values), strict=True))
    total = 0.0
    for node in convs:
        wshape = weights.get(node.input[1])
        if wshape is None:
            return None, f"conv {node.name} has non-constant weights"
        kernel = float(np.prod(wshape))  # (out, in/group, kh, kw) or (in, out/group, kh, kw)
        spatial = shapes[node.output[0] if node.op_type == "Conv" else node.input[0]][2:]
        total += float(np.prod(spatial)) * kernel  # NCHW inside the graph
    return total / (side * side), "counted from the ONNX Conv nodes"


def run_cli_measured(
    inputs: list[Path], outdir: Path, model: Path, tile: int, flips: int = 1
) -> dict:
    """Run scanclean-batch in a fresh wrapper process; wall s, exit code, peak RSS (KiB)."""
    cmd = [sys.executable, "-m", "scanclean.cli", *map(str, inputs), "-o", str(outdir)]
    cmd += ["--model", str(model), "--tile", str(tile), "--flips", str(flips), "--overwrite", "-q"]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "desktop"), os.environ.get("PYTHONPATH", "")]),
    )
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_model(path: Path, work: Path, big: Path, folder: Path, args) -> None:
    try:
        session = ModelSession(path, intra_op_threads=2)
    except ModelError as exc:
        print(f"\n== {path}: skipped ({exc})")
        return
    info = session.info
    print(
        f"\n== model {info.name} {info.version} ({path.name}): {info.architecture}, "
        f"receptive field {info.receptive_field} px, size multiple {info.size_multiple}"
    )
    big_h, big_w = args.big
    big_mp = big_h * big_w / 1e6

    # 1. CLI end to end (subprocess) + peak RSS
    r = run_cli_measured([big], work / "out_big", path, args.tile)
    print(
        f"CLI, 1 page {big_w} x {big_h} ({big_mp:.1f} MP): {r['wall']:.1f} s, "
        f"{big_mp / r['wall']:.2f} MP/s end to end, peak RSS {r['maxrss_kib'] / 1024:.0f} MiB, exit {r['rc']}"
    )
    r4 = run_cli_measured([big], work / "out_big", path, args.tile, flips=4)
    print(
        f"CLI, same page, best quality (--flips 4): {r4['wall']:.1f} s, "
        f"{big_mp / r4['wall']:.2f} MP/s end to end, peak RSS {r4['maxrss_kib'] / 1024:.0f} MiB, "
        f"exit {r4['rc']}"
    )
    n_small = len(list(folder.iterdir()))
    small_mp = n_small * args.small[0] * args.small[1] / 1e6
    r = run_cli_measured([folder], work / "out_small", path, args.tile)
    print(
        f"CLI, {n_small} pages {args.small[1]} x {args.small[0]} ({small_mp:.1f} MP): {r['wall']:.1f} s, "
        f"{small_mp / r['wall']:.2f} MP/s end to end (incl. ~start-up), peak RSS "
        f"{r['maxrss_kib'] / 1024:.0f} MiB, exit {r['rc']}"
    )

    # 2. where the time goes (in-process run_job)
    for label, inputs in (("big page", [big]), (f"{n_small} small pages", [folder])):
        jobs = plan_jobs(inputs, work / "out_split", overwrite=True)
        dec = inf = enc = wall = 0.0
        for job in jobs:
            res = run_job(job, session, tile=args.tile)
            dec, inf, enc, wall = (
                dec + res.decode_s,
                inf + res.infer_s,
                enc + res.encode_s,
                wall + res.seconds,
            )
        print(
            f"time split, {label}: decode {dec / wall:.0%}, inference {inf / wall:.0%}, "
            f"encode+write {enc / wall:.0%} of {wall:.1f} s"
        )

    # 3. tiled vs untiled, 1 vs 2 threads
    uh, uw = args.untiled
    page = synthetic_page(uh, uw, seed=3).astype(np.float32) / 255
    mp = uh * uw / 1e6
    t_tiled = timed(lambda: clean_image(page, session, tile=args.tile), args.repeat)
    try:
        t_untiled = timed(lambda: clean_image_untiled(page, session), args.repeat)
        untiled = f"{mp / t_untiled:.2f} MP/s"
    except Exception as exc:  # out of memory for a big model
        untiled = f"failed ({type(exc).__name__})"
    print(
        f"onnxruntime on {uw} x {uh} ({mp:.1f} MP), 2 threads: tiled (tile {args.tile}) "
        f"{mp / t_tiled:.2f} MP/s, untiled (whole page) {untiled}"
    )
    t_four = timed(lambda: clean_image(page, session, tile=args.tile, flips=4), args.repeat)
    print(
        f"best quality (--flips 4, the mean of 4 mirror images), tiled {uw} x {uh}, 2 threads: "
        f"{mp / t_four:.2f} MP/s (x{t_four / t_tiled:.2f} the time of one pass)"
    )
    one = ModelSession(path, intra_op_threads=1)
    t_one = timed(lambda: clean_image(page, one, tile=args.tile), args.repeat)
    print(
        f"threads, tiled {uw} x {uh}: 1 thread {mp / t_one:.2f} MP/s, 2 threads {mp / t_tiled:.2f} MP/s "
        f"(speed-up x{t_one / t_tiled:.2f})"
    )

    # 4. GFLOP/s against the CPU peak
    if info.macs_per_pixel:
        macs, macs_source = info.macs_per_pixel, "from the model metadata"
    else:
        macs, macs_source = count_macs_per_pixel(path)
    peak, mhz, mhz_source, cores = cpu_peak()
    if macs:
        gflops = 2 * macs * (uh * uw) / t_tiled / 1e9
        print(
            f"compute: {macs:,.0f} MACs/px ({macs_source}); achieved {gflops:.1f} GFLOP/s tiled, 2 threads "
            f"= {gflops / peak:.1%} of peak {peak:.0f} GFLOP/s ({cores} cores x {mhz:.0f} MHz x "
            f"{FLOP_PER_CYCLE} FLOP/cycle; clock from {mhz_source})"
        )
    else:
        print(f"compute: MACs per pixel unknown ({macs_source}); CPU peak {peak:.0f} GFLOP/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, action="append", help="ONNX model (repeatable)")
    parser.add_argument(
        "--tile",
        type=int,
        default=DEFAULT_TILE,
        help=f"largest tile side in px (default {DEFAULT_TILE})",
    )
    parser.add_argument("--repeat", type=int, default=2, help="best of N for in-process timings")
    parser.add_argument("--quick", action="store_true", help="small pages, to check the script")
    args = parser.parse_args(argv)
    args.big, args.small, args.untiled, n_small = A4_600DPI, NOISYOFFICE, UNTILED, 20
    if args.quick:
        args.big, args.untiled, n_small = (1403, 992), (500, 500), 4

    models = args.model or list(shipped_models().values())
    if not models:
        print(
            "no models to benchmark: no shipped models found (models/*.onnx) and no --model given; "
            "train and export one, or pass --model PATH",
            file=sys.stderr,
        )
        return 1
    print(
        f"scanclean engine benchmark; python {sys.version.split()[0]}, {os.cpu_count()} cores; "
        f"pages: {args.big[1]} x {args.big[0]}, {n_small} x ({args.small[1]} x {args.small[0]}), "
        f"untiled comparison on {args.untiled[1]} x {args.untiled[0]}"
    )
    work = Path(tempfile.mkdtemp(prefix="scanclean-bench-"))
    try:
        big = work / "a4-600dpi.png"
        Image.fromarray(synthetic_page(*args.big, seed=1), "L").save(
            big, dpi=(600, 600), compress_level=1
        )
        folder = work / "noisyoffice"
        folder.mkdir()
        for i in range(n_small):
            Image.fromarray(synthetic_page(*args.small, seed=10 + i), "L").save(
                folder / f"p{i:02d}.png"
            )
        for model in models:
            bench_model(Path(model), work, big, folder, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
