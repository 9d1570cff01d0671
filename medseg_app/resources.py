"""Where MedSeg's bundled files live (the repository's resources/ and models/, or MEDSEG_RESOURCES)."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return Path(os.environ.get("MEDSEG_RESOURCES", _REPO / "resources"))


def sample_study_dir() -> Path:
    """The bundled sample: sarcoma patient STS_001 (CC BY 3.0, see resources/sample/PROVENANCE.md)."""
    return resources_dir() / "sample" / "STS_001"


def sample_ct_dir() -> Path:
    """The sample CT series together with its RTSTRUCT."""
    return sample_study_dir() / "CT" / "dicom"


def models_dir() -> Path:
    """The model bundles shipped with MedSeg (MONAI bundle layout, one folder per model)."""
    return Path(os.environ.get("MEDSEG_MODELS", _REPO / "models"))
