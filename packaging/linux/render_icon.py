"""Render the app icon ``scanclean.svg`` to PNG with Qt's SVG renderer.

Usage (from anywhere)::

    python packaging/linux/render_icon.py            # writes packaging/linux/scanclean.png
    python packaging/linux/render_icon.py --size 512 --out /tmp/icon.png

Needs PySide6 (QtSvg); runs headless (it selects Qt's ``offscreen`` platform when no
``QT_QPA_PLATFORM`` is set).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def render(svg: Path, out: Path, size: int = 256) -> None:
    """Render ``svg`` to a ``size`` x ``size`` px RGBA PNG at ``out`` (written atomically).

    Raises
    ------
    ValueError
        If the SVG cannot be parsed or the PNG cannot be written.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - keeps Qt alive
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    tmp = out.with_name(out.name + ".tmp.png")
    if not image.save(str(tmp), "PNG"):
        raise ValueError(f"{out}: could not write the PNG")
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    """Command line: render the icon; returns 0, or 1 with the reason on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=HERE / "scanclean.svg")
    parser.add_argument("--out", type=Path, default=HERE / "scanclean.png")
    parser.add_argument("--size", type=int, default=256, help="edge length, px")
    args = parser.parse_args(argv)
    try:
        render(args.svg, args.out, args.size)
    except ValueError as exc:
        print(f"render_icon: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.size} x {args.size} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
