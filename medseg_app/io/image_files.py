"""NIfTI, NRRD and MetaImage files, read by SimpleITK so every format lands in the same LPS convention.

A raw-encoded 3-D scalar NRRD (what large CTs are usually saved as) is the exception: SimpleITK reads its header
(so the geometry is ITK's, to the bit) and the voxels are read straight from the file into the array, in slabs
whose value range is taken while they are in cache. SimpleITK would read them into its own buffer and then copy
them out (``GetArrayFromImage``), and the range would be one more pass over all the voxels: on a 512×512×1000 CT
that is about three times the time of the read itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..core.memory import ordinary_pages
from ..core.errors import CorruptFileError, GeometryError, LoadError, exception_clause
from ..core.sitk_bridge import array_and_geometry_from_sitk, geometry_from_sitk
from ..core.volume import Volume
from .image_headers import RawNrrdData, check_nifti_header, check_nrrd_header, check_volume_memory

# ITK's warnings go to stderr on their own; MedSeg reports problems itself, once, in words.
sitk.ProcessObject_SetGlobalWarningDisplay(False)

IMAGE_FILE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
_SLAB_BYTES = 1 << 20  # read and range-checked at a time: small enough to stay in cache between the two


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
    itemsize = _pixel_dtype(reader).itemsize
    check_volume_memory(size, itemsize * max(1, reader.GetNumberOfComponents()), path)


def _pixel_dtype(reader: sitk.ImageFileReader) -> np.dtype:
    """The numpy dtype SimpleITK gives the file's voxels (per component)."""
    return sitk.GetArrayViewFromImage(sitk.Image([1] * reader.GetDimension(), reader.GetPixelID(),
                                                 reader.GetNumberOfComponents())).dtype


def _raw_nrrd_layout(reader: sitk.ImageFileReader, raw: RawNrrdData | None) -> np.dtype | None:
    """The voxels' dtype when the NRRD's raw data can be read straight into a [k, j, i] array: a 3-D scalar
    image whose axes are the header's axes (ITK took none of them for components), else None."""
    if raw is None or reader.GetDimension() != 3 or reader.GetNumberOfComponents() != 1:
        return None
    dtype = _pixel_dtype(reader)
    if tuple(int(v) for v in reader.GetSize()) != raw.sizes or dtype.itemsize != raw.itemsize:
        return None
    return dtype


def _read_raw(path: Path, raw: RawNrrdData, dtype: np.dtype) -> tuple[np.ndarray, tuple[float, float]]:
    """The raw voxels as a [k, j, i] array, and their (min, max) taken slab by slab as they are read."""
    i, j, k = raw.sizes
    with ordinary_pages():
        array = np.empty((k, j, i), dtype)
    flat = array.reshape(-1)
    buffer = memoryview(flat).cast("B")
    step = max(1, _SLAB_BYTES // dtype.itemsize)
    lows, highs = [], []
    with open(raw.data_path, "rb", buffering=0) as stream:
        stream.seek(raw.offset)
        for start in range(0, flat.size, step):
            stop = min(flat.size, start + step)
            view, done = buffer[start * dtype.itemsize: stop * dtype.itemsize], 0
            while done < len(view):
                got = stream.readinto(view[done:])
                if not got:
                    raise CorruptFileError(path, f"is truncated: its image data ends after "
                                                 f"{start * dtype.itemsize + done} of {len(buffer)} bytes.")
                done += got
            slab = flat[start:stop]
            if raw.big_endian and dtype.itemsize > 1:
                slab.byteswap(inplace=True)
            lows.append(slab.min())
            highs.append(slab.max())
    return array, (float(np.min(lows)), float(np.max(highs)))  # np.min / np.max: a NaN wins, as in array.min()


def read_image_file(path: str | Path, volume_index: int = 0) -> Volume:
    """A 3-D volume from an image file; for 4-D files, volume ``volume_index`` (0-based) of the last axis."""
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "does not exist.")
    if not os.access(path, os.R_OK):
        raise LoadError(path, "cannot be read: permission denied.")
    fmt = _format_name(path)
    raw = None
    try:
        if fmt == "NIfTI":
            check_nifti_header(path)  # ITK trusts headers: some damaged ones crash or hang it
        elif fmt == "NRRD":
            raw = check_nrrd_header(path)
    except OSError as exc:  # a NRRD's data file in a folder that cannot be read, say
        raise LoadError(path, f"cannot be read ({exception_clause(exc)}).") from None
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        _check_header(reader, path)  # before anything is allocated
        dtype = _raw_nrrd_layout(reader, raw)
        if dtype is not None:
            return _raw_volume(path, reader, raw, dtype)
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


def _raw_volume(path: Path, reader: sitk.ImageFileReader, raw: RawNrrdData, dtype: np.dtype) -> Volume:
    """A raw NRRD's Volume: ITK's geometry from the header ``reader`` has read, the voxels read here."""
    try:
        geometry = geometry_from_sitk(reader)
    except ValueError as exc:  # a sheared grid or a spacing that Geometry refuses
        raise GeometryError(path, f"has a voxel grid MedSeg cannot represent ({exception_clause(exc)}).") from None
    try:
        array, value_range = _read_raw(path, raw, dtype)
    except OSError as exc:
        raise LoadError(path, f"cannot be read ({exception_clause(exc)}).") from None
    volume = Volume(array=array, geometry=geometry, modality="", units="", source_path=str(path))
    volume.derived("value_range", lambda: value_range)  # what Volume.value_range() would compute, already known
    return volume
