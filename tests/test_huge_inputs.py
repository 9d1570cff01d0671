"""Huge inputs ("Never lose work"): a volume larger than the available memory is refused, in one sentence that
says so, before anything volume-sized is allocated. The sizes come from headers (NIfTI dim, NRRD sizes, DICOM
Rows / Columns / NumberOfFrames), which are checked against core.memory.available_memory first; here that is
patched down to 200 MB so that files with small bodies can declare volumes that do not fit.
"""

from __future__ import annotations

import gzip
import resource
import subprocess
import sys
import tracemalloc
from io import BytesIO
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from conftest import REPO
from fuzz_replay import series_files
from medseg_app.core import memory
from medseg_app.core.errors import LoadError
from medseg_app.io import load_volume

AVAILABLE = 200 * 10**6  # bytes, as patched
PEAK_LIMIT = 20 * 10**6  # what a refused load may allocate (headers, not voxels)


@pytest.fixture
def small_memory(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: AVAILABLE)


def _refused_for_memory(path: Path) -> str:
    """Load ``path`` expecting a LoadError about memory; check that nothing large was allocated on the way."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        with pytest.raises(LoadError) as info:
            load_volume(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    message = str(info.value)
    assert "memory" in message and "\n" not in message and str(path) in message, message
    assert peak < PEAK_LIMIT, f"{peak / 1e6:.0f} MB allocated before refusing"
    assert rss_growth < 5 * PEAK_LIMIT, f"peak RSS grew by {rss_growth / 1e6:.0f} MB"
    return message


def _nifti(path: Path, shape, dtype=np.float32, body_bytes: int = 1024) -> Path:
    """A NIfTI header declaring ``shape`` followed by only ``body_bytes`` of data."""
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header.set_zooms((1.0,) * len(shape))
    header["vox_offset"] = 352
    data = header.binaryblock + b"\0" * 4 + b"\0" * body_bytes
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def _nrrd(path: Path, sizes, body_bytes: int = 1024) -> Path:
    header = (f"NRRD0004\ntype: float\ndimension: {len(sizes)}\nspace: left-posterior-superior\n"
              f"sizes: {' '.join(map(str, sizes))}\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
              "kinds: domain domain domain\nendian: little\nencoding: raw\nspace origin: (0,0,0)\n\n")
    path.write_bytes(header.encode() + b"\0" * body_bytes)
    return path


@pytest.mark.parametrize("name", ["huge.nii", "huge.nii.gz"])
def test_nifti_declaring_4000_cubed_float32_is_refused_before_allocating(tmp_path, small_memory, name):
    message = _refused_for_memory(_nifti(tmp_path / name, (4000, 4000, 4000)))
    assert "only 0.2 GB of memory is available" in message


def test_a_300_mb_nifti_is_refused_with_200_mb_available_and_a_small_one_loads(tmp_path, small_memory):
    _refused_for_memory(_nifti(tmp_path / "big.nii", (500, 500, 300)))  # 300 MB of float32
    small = _nifti(tmp_path / "small.nii", (64, 64, 64), body_bytes=64**3 * 4)
    assert load_volume(small).size == (64, 64, 64)


def test_with_enough_memory_the_same_header_is_refused_as_truncated(tmp_path):
    with pytest.raises(LoadError, match="truncated"):
        load_volume(_nifti(tmp_path / "big.nii", (500, 500, 300)))


@pytest.mark.parametrize("sizes", [(500, 500, 300), (4000, 4000, 4000), (99999999999, 2, 2)])
def test_nrrd_declaring_huge_sizes_is_refused_before_allocating(tmp_path, small_memory, sizes):
    _refused_for_memory(_nrrd(tmp_path / "huge.nrrd", sizes))


def _series_with(folder: Path, **values) -> Path:
    folder.mkdir()
    for f in series_files():
        ds = pydicom.dcmread(f)
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        ds.save_as(folder / f.name)
    return folder


def test_dicom_series_whose_rows_and_columns_do_not_fit_is_refused(tmp_path, small_memory):
    # 3 slices of 6000 × 6000 pixels: 432 MB once rescaled to float32; the files hold 202 × 198 pixels each.
    _refused_for_memory(_series_with(tmp_path / "series", Rows=6000, Columns=6000))


def _multiframe(path: Path, frames: int) -> Path:
    """An enhanced-style object declaring ``frames`` frames (each with its position) but holding one."""
    ds = pydicom.dcmread(series_files()[0])
    position = [float(v) for v in ds.ImagePositionPatient]

    def item(**sequences) -> Dataset:
        out = Dataset()
        for keyword, content in sequences.items():
            inner = Dataset()
            for k, v in content.items():
                setattr(inner, k, v)
            setattr(out, keyword, Sequence([inner]))
        return out

    ds.SharedFunctionalGroupsSequence = Sequence([item(
        PlaneOrientationSequence={"ImageOrientationPatient": ds.ImageOrientationPatient},
        PixelMeasuresSequence={"PixelSpacing": ds.PixelSpacing, "SliceThickness": ds.SliceThickness})])
    ds.PerFrameFunctionalGroupsSequence = Sequence([
        item(PlanePositionSequence={"ImagePositionPatient": [position[0], position[1], position[2] + 2.0 * n]})
        for n in range(frames)])
    ds.NumberOfFrames = frames
    buffer = BytesIO()
    ds.save_as(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_dicom_multiframe_whose_frame_count_does_not_fit_is_refused(tmp_path, small_memory):
    # 2000 frames of 202 × 198: 320 MB as float32, in a file that holds one frame.
    _refused_for_memory(_multiframe(tmp_path / "frames.dcm", 2000))


def test_medseg_info_on_a_huge_file_exits_2_with_one_line(tmp_path):
    path = _nifti(tmp_path / "huge.nii", (4000, 4000, 4000))  # 256 GB of float32
    if memory.available_memory() > 500e9:
        pytest.skip("this machine has memory for a 4000³ float32 volume")
    result = subprocess.run([sys.executable, "-m", "medseg_app", "info", str(path)], capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medseg: ") and "memory" in lines[0], result.stderr
