"""Label maps from any grid onto an image's grid, one binary mask per label value, named from the sidecar.

A label map on another grid is carried over by core/mask_transfer.py's shape-keeping transfer (each label's signed
distance interpolated linearly, the volume kept; a voxel two labels claim goes to the deeper one), not by nearest
neighbour, which makes a PET-grid mask blocky on a CT grid; ``method="nearest"`` keeps the old resample for
comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..core.errors import LoadError
from ..core.geometry import ImageGeometry
from ..core.mask_transfer import METHODS, transfer_labels
from ..core.sitk_bridge import apply_geometry, to_sitk
from .image_files import read_image_file
from .label_map import sidecar_path


def label_names(path: str | Path) -> dict[int, str]:
    """Label value → name from the JSON sidecar next to ``path``; empty when there is none."""
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        return {int(e["value"]): str(e["name"]) for e in json.loads(side.read_text()).get("labels", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LoadError(side, "is not a valid MedSeg label table.") from None


def labels_on_grid(path: str | Path, geometry: ImageGeometry, method: str = "distance") -> tuple[np.ndarray, bool]:
    """The label map at ``path`` as an integer array on ``geometry`` (transferred by ``method`` where the grids
    differ, see the module docstring); the flag says whether it was resampled."""
    labels = read_image_file(path)
    if not np.issubdtype(labels.array.dtype, np.integer):
        if not np.array_equal(labels.array, np.round(labels.array)):
            raise LoadError(path, "is not a label map: its voxels are not whole numbers.")
        labels.array = labels.array.astype(np.int32)
    if labels.geometry.same_grid(geometry, tol_mm=1e-2):
        return labels.array, False
    if method not in METHODS:
        raise ValueError(f"unknown resampling method {method!r}; one of {', '.join(METHODS)}")
    if method != "nearest":
        return transfer_labels(labels.array, labels.geometry, geometry, method=method), True
    reference = apply_geometry(sitk.Image([int(s) for s in geometry.size], sitk.sitkUInt8), geometry)
    resample = sitk.ResampleImageFilter()
    resample.SetReferenceImage(reference)
    resample.SetInterpolator(sitk.sitkNearestNeighbor)
    resample.SetDefaultPixelValue(0)
    resampled = sitk.GetArrayFromImage(resample.Execute(to_sitk(labels)))
    return resampled, True


def label_masks_on_grid(path: str | Path, geometry: ImageGeometry,
                        method: str = "distance") -> list[tuple[int, str, np.ndarray]]:
    """(value, name, mask) for each non-zero label value in the file, on ``geometry``; names default to Label_N."""
    labels, _ = labels_on_grid(path, geometry, method)
    names = label_names(path)
    values = np.unique(labels)
    return [(int(v), names.get(int(v), f"Label_{int(v)}"), labels == v) for v in values[values != 0]]
