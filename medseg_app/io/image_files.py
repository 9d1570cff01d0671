"""NIfTI, NRRD and MetaImage files, read by SimpleITK so every format lands in the same LPS convention."""

from __future__ import annotations

import os
from pathlib import Path

import SimpleITK as sitk

from ..core.errors import CorruptFileError, LoadError
from ..core.sitk_bridge import array_and_geometry_from_sitk
from ..core.volume import Volume

IMAGE_FILE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


def is_image_file(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in IMAGE_FILE_SUFFIXES)


def _format_name(path: Path) -> str:
    name = path.name.lower()
    if ".nii" in name:
        return "NIfTI"
    if name.endswith((".nrrd", ".nhdr")):
        return "NRRD"
    return "MetaImage"


def read_image_file(path: str | Path, volume_index: int = 0) -> Volume:
    """A 3-D volume from an image file; for 4-D files, volume ``volume_index`` (0-based) of the last axis."""
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "does not exist.")
    if not os.access(path, os.R_OK):
        raise LoadError(path, "cannot be read: permission denied.")
    fmt = _format_name(path)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        detail = str(exc).strip().splitlines()
        reason = next((line for line in reversed(detail) if line.strip()), "unknown error")
        raise CorruptFileError(path, f"could not be read as {fmt} ({reason.strip()[:160]}).") from None
    warnings = []
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise LoadError(path, f"holds {image.GetNumberOfComponentsPerPixel()}-component (vector or colour) voxels; "
                              "MedSeg loads scalar volumes only.")
    dim = image.GetDimension()
    if dim == 4:
        count = image.GetSize()[3]
        if not 0 <= volume_index < count:
            raise LoadError(path, f"is 4-D with {count} volumes; volume {volume_index} does not exist.")
        size = list(image.GetSize())
        size[3] = 0
        image = sitk.Extract(image, size, [0, 0, 0, volume_index])
        warnings.append(f"4-D {fmt} file: showing volume {volume_index + 1} of {count}.")
    elif dim == 2:
        image = sitk.JoinSeries(image)
    elif dim != 3:
        raise LoadError(path, f"is {dim}-D; MedSeg loads 3-D (or 4-D) images.")
    array, geometry = array_and_geometry_from_sitk(image)
    return Volume(array=array, geometry=geometry, modality="", units="", source_path=str(path), warnings=warnings)
