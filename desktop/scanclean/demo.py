"""The shipped demo scans (``scanclean/resources/demo/*.png``) for ``scanclean --demo``.

No Qt here.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

__all__ = ["demo_folder", "demo_pages"]


def _candidates() -> list[Path]:
    folders: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:  # PyInstaller bundle (packaging/scanclean.spec puts them here)
        folders.append(Path(meipass) / "scanclean" / "resources" / "demo")
    try:
        root = resources.files("scanclean.resources") / "demo"
        folders.append(Path(str(root)))
    except (ModuleNotFoundError, TypeError, ValueError):  # not importable as a package
        pass
    folders.append(Path(__file__).resolve().parent / "resources" / "demo")
    return folders


def demo_folder() -> Path | None:
    """Folder holding the demo scans, or None when there is none.

    Looks at ``sys._MEIPASS/scanclean/resources/demo`` in a PyInstaller bundle, then the
    installed package ``scanclean.resources`` (``importlib.resources``), then the source tree.

    Returns
    -------
    Path or None
        The first of these folders that holds at least one ``*.png``.
    """
    for folder in _candidates():
        if folder.is_dir() and any(folder.glob("*.png")):
            return folder
    return None


def demo_pages() -> list[Path]:
    """The demo scans, sorted by name.

    Returns
    -------
    list of Path
        PNG files (synthetic dirty pages: grey paper, stains, folds); empty when none is
        shipped.
    """
    folder = demo_folder()
    return sorted(folder.glob("*.png")) if folder is not None else []
