"""NIfTI, NRRD and MetaImage files, read by SimpleITK so every format lands in the same LPS convention."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..core.errors import CorruptFileError, GeometryError, LoadError, exception_clause
from ..core.sitk_bridge import array_and_geometry_from_sitk
from ..core.volume import Volume
from .image_headers import check_nifti_header, check_nrrd_header, check_volume_memory

# ITK's warnings go to stderr on their own; MedSeg reports problems itself, once, in words.
sitk.ProcessObject_SetGlobalWarningDisplay(False)

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


def _check_header(reader: sitk.ImageFileReader, path: Path) -> None:
    """Sizes and spacings from the header, checked before ITK allocates anything."""
    size = [int(v) for v in reader.GetSize()]
    if any(v <= 0 for v in size):
        raise CorruptFileError(path, f"declares an image of size {'×'.join(map(str, size))}, which holds no voxels.")
    spacing = reader.GetSpacing()
    if not all(np.isfinite(v) and v > 0 for v in spacing):
        raise CorruptFileError(path, f"declares a voxel spacing of {', '.join(f'{v:g}' for v in spacing)}, "
                                     "which is not positive and finite.")
    if not all(np.isfinite(v) for v in (*reader.GetOrigin(), *reader.GetDirection())):
        raise CorruptFileError(path, "declares an origin or direction that is not a finite number.")
    n = reader.GetDimension()
    axes = np.asarray(reader.GetDirection()).reshape(n, n)[:3, :3]
    if not np.allclose(axes.T @ axes, np.eye(len(axes)), atol=1e-4):  # ImageGeometry's tolerance
        raise GeometryError(path, "has a sheared voxel grid (its axes are not perpendicular), which MedSeg cannot "
                                  "represent.")
    itemsize = sitk.GetArrayViewFromImage(sitk.Image([1] * reader.GetDimension(), reader.GetPixelID(),
                                                     reader.GetNumberOfComponents())).itemsize
    check_volume_memory(size, itemsize * max(1, reader.GetNumberOfComponents()), path)


def read_image_file(path: str | Path, volume_index: int = 0) -> Volume:
    """A 3-D volume from an image file; for 4-D files, volume ``volume_index`` (0-based) of the last axis."""
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "does not exist.")
    if not os.access(path, os.R_OK):
        raise LoadError(path, "cannot be read: permission denied.")
    fmt = _format_name(path)
    try:
        if fmt == "NIfTI":
            check_nifti_header(path)  # ITK trusts headers: some damaged ones crash or hang it
        elif fmt == "NRRD":
            check_nrrd_header(path)
    except OSError as exc:  # a NRRD's data file in a folder that cannot be read, say
        raise LoadError(path, f"cannot be read ({exception_clause(exc)}).") from None
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        _check_header(reader, path)  # before anything is allocated
        image = reader.Execute()
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
    try:
        array, geometry = array_and_geometry_from_sitk(image)
    except ValueError as exc:  # a sheared grid or a spacing that Geometry refuses
        raise GeometryError(path, f"has a voxel grid MedSeg cannot represent ({exception_clause(exc)}).") from None
    return Volume(array=array, geometry=geometry, modality="", units="", source_path=str(path), warnings=warnings)
