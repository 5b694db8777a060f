"""Work-around for a reference-count bug of PySide6 6.12.0 on Python 3.11.

PySide6 6.12.0 returns ``None`` (from every void method: ``QLabel.setText``,
``QProgressBar.setValue`` ...) and ``True`` / ``False`` (from ``SignalInstance.emit`` and
``.disconnect``) without taking a reference. Each such call from Python drops one reference
to the singleton; after some ten thousand calls Python aborts with "none_dealloc:
deallocating None" or "bool_dealloc: deallocating True or False". PySide6 6.11.3 is fine,
and Python 3.12+ is immune because its ``None``, ``True`` and ``False`` are immortal.

The real fix is to install an unaffected PySide6 (``PySide6<6.12`` or a fixed release).
Until then :func:`install` measures whether the running PySide6 drops references and, only
then, gives ``None``, ``True`` and ``False`` a very large reference count (2**40), which is
what Python 3.12 does for them ("immortal objects", PEP 683): lost references can then
never bring the count to zero. ``scanclean.qt`` calls it on import.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

BOOST = 1 << 40
"""References added to ``None``, ``True`` and ``False`` when PySide6 loses them."""

_state: dict[str, object] = {}


def _lost_references(call, target, repeat: int = 16) -> int:
    before = sys.getrefcount(target)
    for _ in range(repeat):
        call()
    return before - sys.getrefcount(target)


def _add_references(obj, count: int) -> bool:
    """Add ``count`` to ``obj``'s reference count (CPython: ``ob_refcnt`` is at ``id(obj)``)."""
    field = ctypes.c_ssize_t.from_address(id(obj))
    before = sys.getrefcount(obj)
    field.value += count
    if sys.getrefcount(obj) - before != count:  # unexpected object layout: undo
        field.value -= count
        return False
    return True


def pyside_loses_references() -> bool:
    """True when the running PySide6 drops references to ``None`` or ``True``.

    Probes a void method (``QObject.setObjectName``) and ``SignalInstance.emit`` a few
    times each and compares the reference counts before and after; what the probe itself
    lost is given back.
    """
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probe = Signal()

    probe = _Probe()
    lost_none = _lost_references(lambda: probe.setObjectName("probe"), None)
    lost_true = _lost_references(probe.probe.emit, True)
    for obj, lost in ((None, lost_none), (True, lost_true)):
        if lost > 0:
            _add_references(obj, lost)
    return lost_none > 0 or lost_true > 0


def install() -> bool:
    """Protect ``None``, ``True`` and ``False`` from PySide6's lost references (once).

    Returns
    -------
    bool
        True when the bug was found and the work-around applied; False on Python 3.12+
        or with an unaffected PySide6.

    Notes
    -----
    Call it from the GUI thread before any worker thread starts (importing
    ``scanclean.qt`` does).
    """
    if "applied" in _state:
        return bool(_state["applied"])
    applied = False
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        if pyside_loses_references():
            applied = all(_add_references(obj, BOOST) for obj in (None, True, False))
            import PySide6

            log.warning(
                "PySide6 %s loses references to None/True/False on Python %d.%d; "
                "work-around applied%s. Install PySide6<6.12 or a fixed release.",
                PySide6.__version__,
                *sys.version_info[:2],
                "" if applied else " FAILED",
            )
    _state["applied"] = applied
    return applied
