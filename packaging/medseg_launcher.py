"""Entry point of the desktop bundle (packaging/medseg.spec): the ``MedSeg`` executable is ``medseg`` (viewer,
``info``, ``segment``, ``batch`` ...), run by the Python interpreter frozen into the bundle."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    # `medseg batch` starts Dask worker processes: in a frozen program they are this executable again, and
    # freeze_support() turns such a child into the worker instead of a second MedSeg.
    multiprocessing.freeze_support()
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        # GDCM looks for its data dictionary (Part3.xml ...) next to the executable when frozen; it is in _gdcm/XML.
        os.environ.setdefault("GDCM_RESOURCES_PATH", os.path.join(bundle, "_gdcm", "XML"))

    from medseg_app.cli import main

    sys.exit(main())
