"""The PySide6 reference-count work-around keeps the app alive through many Qt calls.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call and to True on
every signal emit; without ``scanclean.qt.qt_compat`` a process aborts ("none_dealloc")
after some ten thousand calls. Run in a fresh interpreter so a crash cannot take pytest
down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import gc, sys
import scanclean.qt
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])

class Emitter(QObject):
    fired = Signal(object)

label, emitter = QLabel(), Emitter()
emitter.fired.connect(label.setText)
for i in range(60_000):
    label.setText("x")        # void call: returns None
    emitter.fired.emit("y")   # returns True
    label.isVisible()
gc.collect()
print("alive", sys.getrefcount(None) > 0)
"""


def test_many_qt_calls_do_not_exhaust_none_or_true():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "desktop"), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "alive True" in done.stdout
