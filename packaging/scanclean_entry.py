"""Entry script of the PyInstaller bundle (``packaging/scanclean.spec``).

The frozen executable ``dist/scanclean/scanclean`` runs this file; it hands over to
:func:`scanclean.app.main`, which opens the GUI or dispatches ``--self-test`` and
``--batch ARGS``.
"""

import sys

from scanclean.app import main

if __name__ == "__main__":
    sys.exit(main())
