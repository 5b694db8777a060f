"""Qt user interface of ScanClean (PySide6); ``Qt*`` classes in ``qt_*`` modules.

Importing this package applies :func:`scanclean.qt.qt_compat.install` (a work-around for
PySide6 6.12.0's signal reference-count bug).
"""

from scanclean.qt.qt_compat import install as _install_compat

_install_compat()
