"""Loading benchmarks: a DICOM CT series from its folder, MedSeg's load_volume vs SimpleITK's series reader."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, benchmark

LUNG1 = "nsclc_lung1_001/LUNG1-001/image"  # 134 slices, 512×512, uint16 + intercept -1024
LONG_SLICES = 300


def write_long_series(source: Path, folder: Path, n: int = LONG_SLICES) -> None:
    """``n`` slices cycling through ``source``'s pixels, positions and instance numbers continuing regularly."""
    import pydicom
    from pydicom.uid import generate_uid

    slices = sorted((pydicom.dcmread(p) for p in source.iterdir()), key=lambda ds: int(ds.InstanceNumber))
    first = [float(v) for v in slices[0].ImagePositionPatient]
    step = float(slices[1].ImagePositionPatient[2]) - first[2]
    for i in range(n):
        ds = slices[i % len(slices)]
        z = first[2] + i * step
        ds.ImagePositionPatient = [first[0], first[1], z]
        ds.SliceLocation = z
        ds.InstanceNumber = i + 1
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(folder / f"{i + 1:04d}.dcm")


def _medseg(folder: Path):
    from medseg_app.io.load import load_volume

    return lambda: load_volume(folder)


def _simpleitk(folder: Path):
    import SimpleITK as sitk

    def read():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        return reader.Execute()

    return read


def _same_volume(volume, image) -> None:
    """Fail loudly unless MedSeg's Volume and SimpleITK's image hold the same voxels on the same grid."""
    import SimpleITK as sitk

    theirs = sitk.GetArrayViewFromImage(image)
    if volume.array.shape != theirs.shape:
        raise AssertionError(f"shape differs: MedSeg {volume.array.shape}, SimpleITK {theirs.shape}")
    if not np.array_equal(volume.array, theirs):
        bad = np.argwhere(volume.array != theirs)
        raise AssertionError(f"{len(bad)} voxels differ, first at [k, j, i] = {bad[0].tolist()}: "
                             f"MedSeg {volume.array[tuple(bad[0])]}, SimpleITK {theirs[tuple(bad[0])]}")
    for what, ours, peer in (("origin", volume.origin, image.GetOrigin()),
                             ("spacing", volume.spacing, image.GetSpacing())):
        if not np.allclose(ours, peer, atol=1e-3):
            raise AssertionError(f"{what} differs: MedSeg {list(ours)}, SimpleITK {list(peer)}")


def _case(folder: Path) -> Case:
    try:
        peer = _simpleitk(folder)
    except ImportError:
        return Case(ours=_medseg(folder))
    return Case(ours=_medseg(folder), peer=peer, peer_name="SimpleITK", verify=_same_volume)


@benchmark("load_dicom_ct", needs=[LUNG1])
def load_dicom_ct(data: Path):
    """300-slice 512×512 CT series (written from LUNG1-001 into a temp folder): load_volume vs SimpleITK."""
    folder = Path(tempfile.mkdtemp(prefix="medseg-bench-ct-"))
    try:
        write_long_series(data / LUNG1, folder)
        yield _case(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@benchmark("load_dicom_ct_134", needs=[LUNG1])
def load_dicom_ct_134(data: Path):
    """LUNG1-001 chest CT, 134 slices 512×512: load_volume vs SimpleITK."""
    yield _case(data / LUNG1)
