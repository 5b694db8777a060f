"""Screenshot of the real ScanClean window under Xvfb: a dirty page and its cleaned version.

Usage (Debian packages: xvfb, imagemagick, and Qt's xcb libraries)::

    python benchmarks/make_screenshot.py [--model PATH] [--out docs/screenshot.png]

Without a ``DISPLAY`` the script re-runs itself under ``xvfb-run`` (screen 1440 x 900 x 24).
It opens :class:`scanclean.qt.qt_main.QtMainWindow` on the xcb platform with a temporary
settings file, queues the demo scans (``scanclean/resources/demo/*.png``; without them, a
synthetic dirty page from ``scanclean_train.synth``), waits until every page is cleaned
with the model (default: ``models/scanclean-default.onnx``), then captures the X screen with
ImageMagick's ``import -window root`` (falling back to ``QScreen.grabWindow``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN = (1440, 900)


def _under_xvfb(argv: list[str]) -> int:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        print("make_screenshot: no DISPLAY and no xvfb-run (apt-get install xvfb)", file=sys.stderr)
        return 2
    command = [
        xvfb_run,
        "-a",
        "-s",
        f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24 -dpi 96",
        sys.executable,
        str(Path(__file__).resolve()),
        *argv,
    ]
    return subprocess.call(command)


def _dirty_pages(scratch: Path) -> list[Path]:
    from scanclean.demo import demo_pages

    pages = demo_pages()
    if pages:
        return pages
    sys.path.insert(0, str(ROOT / "trainer"))
    import numpy as np
    from PIL import Image

    from scanclean_train.synth import generate

    rng = np.random.default_rng(7)
    _clean, noisy, _ = generate(rng, size=(1100, 1400), dpi=150, dirt=["coffee", "fold", "crumple"])
    path = scratch / "dirty-letter.png"
    Image.fromarray(np.round(noisy * 255).astype(np.uint8)).save(path, dpi=(150, 150))
    return [path]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "scanclean-default.onnx")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--page", type=int, default=0, help="queue row to show (default 0)")
    parser.add_argument("--zoom", type=float, default=0.0, help="zoom (1 = 100%%; 0 = fit)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        return _under_xvfb(argv)
    if not args.model.is_file():
        print(f"make_screenshot: model {args.model} not found (use --model)", file=sys.stderr)
        return 2

    os.environ["QT_QPA_PLATFORM"] = "xcb"
    sys.path.insert(0, str(ROOT / "desktop"))
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from scanclean.qt.qt_main import QtMainWindow

    app = QApplication([sys.argv[0]])
    app.setOrganizationName("ScanClean")
    app.setApplicationName("ScanClean")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
        window = QtMainWindow(settings, model_path=args.model)
        window.setGeometry(0, 0, *SCREEN)
        window.show()
        pages = _dirty_pages(scratch)
        window.add_paths(pages)

        loop = QEventLoop()
        started = time.monotonic()

        def check() -> None:
            settled = not window._loaders and not window.is_cleaning() and not window._todo
            if (settled and window.page_entries()) or time.monotonic() - started > 600:
                loop.quit()

        timer = QTimer()
        timer.timeout.connect(check)
        timer.start(100)
        loop.exec()
        timer.stop()
        entries = window.page_entries()
        states = [e.state for e in entries]
        print(f"pages: {len(entries)}, states: {states}", flush=True)
        if entries:
            window.queue.select_key(entries[min(args.page, len(entries) - 1)].key)
        if args.zoom > 0:
            window.compare.set_scale(args.zoom)
        else:
            window.compare.fit_to_window()
        window.status_label.setText(window.status_label.text())
        window.raise_()
        window.activateWindow()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.05)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(f".{args.out.name}.tmp.png")
        if shutil.which("import"):
            subprocess.run(["import", "-window", "root", str(tmp)], check=True)
        else:
            window.screen().grabWindow(0).save(str(tmp), "PNG")
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
        window.close()
    return 0 if all(s == "done" for s in states) else 1


if __name__ == "__main__":
    sys.exit(main())
