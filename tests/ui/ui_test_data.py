"""Test data for the UI tests: the bundled sample's paths, a synthetic volume, waiting for a load."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.volume import Volume

REPO = Path(__file__).resolve().parents[2]
SAMPLE_STUDY = REPO / "resources" / "sample" / "STS_001"
SAMPLE_CT = SAMPLE_STUDY / "CT" / "dicom"
SAMPLE_CT_MASK = SAMPLE_STUDY / "CT" / "nifti" / "mask" / "mask.nii.gz"


def ramp_volume(size=(40, 30, 20), spacing=(0.8, 1.0, 2.5), modality="CT", units="HU",
                direction=np.eye(3)) -> Volume:
    """Voxel value = 100*k + 10*j + i: neighbouring voxels differ, so a wrong voxel shows."""
    ni, nj, nk = size
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    array = (100 * k + 10 * j + i).astype(np.int16)
    geometry = ImageGeometry(size=size, spacing=spacing, origin=(-10.0, 20.0, -300.0), direction=direction)
    return Volume(array, geometry, modality=modality, units=units)


def open_and_wait(qtbot, window, path, series=None, timeout=30000):
    with qtbot.waitSignal(window.study_loaded, timeout=timeout):
        window.open_path(path, series)
