"""Work-arounds for bugs in the installed PySide6.

PySide6 6.12.0 on Python 3.11 returns ``True`` from ``SignalInstance.emit()`` without
taking a reference, so every ``emit`` from Python drops one reference to ``True``; after a
few hundred emits Python aborts with "bool_dealloc: deallocating True or False" (Python
3.12+ is immune: its ``True`` is immortal). :func:`emit` measures once whether the running
PySide6 has the bug and, only then, gives the reference back.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any


def _has_emit_refcount_bug() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probe = Signal()

    probe = _Probe()
    results = []
    before = sys.getrefcount(True)
    for _ in range(4):
        results.append(probe.probe.emit())
    del results
    after = sys.getrefcount(True)
    if after < before:
        for _ in range(before - after):  # repair the probe's own damage
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
        return True
    return False


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe from the PySide6 6.12 ``emit`` reference-count bug.

    Parameters
    ----------
    signal : SignalInstance
        A bound Qt signal.
    *args
        The signal's arguments.

    Notes
    -----
    Thread-safe: workers call it from the thread pool. Whether the bug is present is
    measured once, when this module is imported (in the GUI thread, before any worker).
    """
    result = signal.emit(*args)
    if _compensate and (result is True or result is False):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))


_compensate = _has_emit_refcount_bug()
