"""Where MedSeg's bundled files live (resources/ and models/: in the repository, or inside the desktop bundle;
MEDSEG_RESOURCES and MEDSEG_MODELS override either)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _install_root() -> Path:
    """The folder holding resources/ and models/. From the repository (or an editable install) its root; inside
    the PyInstaller bundle (packaging/medseg.spec) the bundle's contents folder: ``sys._MEIPASS``, which is
    ``MedSeg/_internal`` next to the ``MedSeg`` executable (``MedSeg.app/Contents/Frameworks`` on macOS)."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return Path(os.environ.get("MEDSEG_RESOURCES", _install_root() / "resources"))


def sample_study_dir() -> Path:
    """The bundled sample: sarcoma patient STS_001 (CC BY 3.0, see resources/sample/PROVENANCE.md)."""
    return resources_dir() / "sample" / "STS_001"


def sample_ct_dir() -> Path:
    """The sample CT series together with its RTSTRUCT."""
    return sample_study_dir() / "CT" / "dicom"


def icon_files() -> list[Path]:
    """MedSeg's icon as PNGs, smallest first (resources/icons/medseg-N.png, rendered from medseg.svg by
    packaging/make-icons.py; PNGs need no SVG plug-in)."""
    pngs = [p for p in (resources_dir() / "icons").glob("medseg-*.png") if p.stem.rsplit("-", 1)[1].isdigit()]
    return sorted(pngs, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def models_dir() -> Path:
    """The model bundles shipped with MedSeg (MONAI bundle layout, one folder per model)."""
    return Path(os.environ.get("MEDSEG_MODELS", _install_root() / "models"))
