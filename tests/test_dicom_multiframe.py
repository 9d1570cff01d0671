"""One file holding a whole series (legacy-converted enhanced CT / MR / PET), and DICOMDIR indexes.

The enhanced objects are built at test time with highdicom from the vendored single-frame series, so the
single-frame volume is the ground truth: same voxels, same grid, and each slice traced back to its frame.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from highdicom.legacy import (LegacyConvertedEnhancedCTImage, LegacyConvertedEnhancedMRImage,
                              LegacyConvertedEnhancedPETImage)
from pydicom.fileset import FileSet
from pydicom.uid import JPEGLSLossless, RLELossless, generate_uid

from conftest import SAMPLE, STS_002, require_tool, series_dir
from medseg_app.core.errors import AmbiguousSeriesError
from medseg_app.io import load_volume

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:highdicom.*")
logging.getLogger("highdicom").setLevel(logging.ERROR)

LEGACY = {"CT": LegacyConvertedEnhancedCTImage, "MR_T1": LegacyConvertedEnhancedMRImage,
          "PET": LegacyConvertedEnhancedPETImage}
LEGACY_CLASS_UID = {"CT": "1.2.840.10008.5.1.4.1.1.2.2", "MR_T1": "1.2.840.10008.5.1.4.1.1.4.4",
                    "PET": "1.2.840.10008.5.1.4.1.1.128.1"}


def _enhanced(modality: str, path: Path, perm: np.ndarray | None = None, syntax: str | None = None):
    """A legacy-converted enhanced object of STS_002 ``modality``, its frames reordered by ``perm``."""
    folder = series_dir(STS_002, modality)
    legacy = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    ds = LEGACY[modality](legacy, generate_uid(), 900, generate_uid(), 1,
                          **({} if syntax is None else {"transfer_syntax_uid": syntax}))
    if perm is not None:  # new frame j is old frame perm[j]: pixels and functional groups move together
        assert ds.file_meta.TransferSyntaxUID.is_little_endian and not ds.file_meta.TransferSyntaxUID.is_compressed
        size = ds.Rows * ds.Columns * ds.BitsAllocated // 8
        ds.PixelData = b"".join(ds.PixelData[i * size:(i + 1) * size] for i in perm)
        ds.PerFrameFunctionalGroupsSequence = [ds.PerFrameFunctionalGroupsSequence[i] for i in perm]
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path)
    return ds


def _check_against_single_frame(volume, single, ds) -> None:
    assert volume.array.dtype == single.array.dtype
    np.testing.assert_array_equal(volume.array, single.array)
    for attr in ("spacing", "origin", "direction"):
        np.testing.assert_array_equal(getattr(volume, attr), getattr(single, attr), err_msg=attr)
    assert (volume.modality, volume.units) == (single.modality, single.units)
    assert volume.warnings == single.warnings == []
    ident = volume.identity
    assert ident.sop_instance_uids == (ds.SOPInstanceUID,)
    assert ident.sop_class_uid == ds.SOPClassUID
    assert ident.series_instance_uid == ds.SeriesInstanceUID != single.identity.series_instance_uid
    assert ident.frame_of_reference_uid == single.identity.frame_of_reference_uid
    assert sorted(ident.frame_numbers) == list(range(1, int(ds.NumberOfFrames) + 1))
    for k, number in enumerate(ident.frame_numbers):
        group = ds.PerFrameFunctionalGroupsSequence[number - 1]
        # Slice k comes from the frame converted from single-frame slice k ...
        source = group.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
        assert source == single.identity.sop_instance_uids[k], f"slice {k}"
        # ... and that frame lies where the grid puts slice k.
        position = np.asarray(group.PlanePositionSequence[0].ImagePositionPatient, dtype=float)
        np.testing.assert_allclose(position, volume.geometry.index_to_patient([0, 0, k]), atol=1e-3)


@pytest.mark.parametrize("modality", list(LEGACY))
def test_legacy_converted_enhanced_equals_the_single_frame_series(tmp_path, modality):
    path = tmp_path / "enhanced" / "lce.dcm"
    ds = _enhanced(modality, path)
    assert ds.SOPClassUID == LEGACY_CLASS_UID[modality]
    single = load_volume(series_dir(STS_002, modality))
    for where in (path, path.parent):  # the file, and a folder holding it
        _check_against_single_frame(load_volume(where), single, ds)


@pytest.mark.parametrize("modality", ["CT", "PET"])  # PET: every frame has its own rescale slope
def test_shuffled_frames_are_ordered_by_position_not_frame_number(tmp_path, modality):
    _enhanced(modality, tmp_path / "plain.dcm")
    plain = load_volume(tmp_path / "plain.dcm")
    n = len(plain.identity.frame_numbers)
    perm = np.random.default_rng(7).permutation(n)
    assert not np.array_equal(perm, np.arange(n)) and not np.array_equal(perm, np.arange(n)[::-1])
    ds = _enhanced(modality, tmp_path / "shuffled.dcm", perm)
    volume = load_volume(tmp_path / "shuffled.dcm")
    _check_against_single_frame(volume, load_volume(series_dir(STS_002, modality)), ds)
    where = np.argsort(perm)  # old frame i is now frame where[i]
    expected = tuple(int(where[number - 1]) + 1 for number in plain.identity.frame_numbers)
    assert volume.identity.frame_numbers == expected != plain.identity.frame_numbers


def test_compressed_enhanced_objects_decode_every_frame(tmp_path):
    single = load_volume(series_dir(STS_002, "CT"))
    rle = _enhanced("CT", tmp_path / "rle" / "lce.dcm", syntax=RLELossless)  # encoded by highdicom
    assert pydicom.dcmread(tmp_path / "rle" / "lce.dcm").file_meta.TransferSyntaxUID == RLELossless
    _check_against_single_frame(load_volume(tmp_path / "rle" / "lce.dcm"), single, rle)

    plain = _enhanced("CT", tmp_path / "plain.dcm")
    assert not plain.file_meta.TransferSyntaxUID.is_compressed
    (tmp_path / "jpegls").mkdir()
    subprocess.run([require_tool("gdcmconv"), "--jpegls", str(tmp_path / "plain.dcm"),
                    str(tmp_path / "jpegls" / "lce.dcm")], check=True, capture_output=True)
    converted = pydicom.dcmread(tmp_path / "jpegls" / "lce.dcm")
    assert converted.file_meta.TransferSyntaxUID == JPEGLSLossless
    _check_against_single_frame(load_volume(tmp_path / "jpegls"), single, converted)


# --- DICOMDIR ---------------------------------------------------------------------------------------------

def _write_fileset(root: Path, folders: list[Path]) -> Path:
    fileset = FileSet()
    for folder in folders:
        for p in sorted(folder.iterdir()):
            fileset.add(p)
    fileset.write(root)
    return root / "DICOMDIR"


def _assert_same(got, ref, media: Path) -> None:
    assert got.array.dtype == ref.array.dtype
    np.testing.assert_array_equal(got.array, ref.array)
    for attr in ("spacing", "origin", "direction"):
        np.testing.assert_array_equal(getattr(got, attr), getattr(ref, attr), err_msg=attr)
    assert (got.modality, got.units, got.identity, got.warnings) == (ref.modality, ref.units, ref.identity, [])
    assert Path(got.source_path).is_relative_to(media)  # read from the copies the DICOMDIR names


def test_dicomdir_and_its_folder_load_like_the_plain_series(tmp_path):
    folders = {"ct": series_dir(SAMPLE, "CT"), "pet": series_dir(STS_002, "PET")}
    media = tmp_path / "media"
    dicomdir = _write_fileset(media, list(folders.values()))
    assert not any(p.suffix == ".dcm" for p in media.rglob("*"))  # FileSet renamed every copy
    plain = {name: load_volume(folder) for name, folder in folders.items()}
    for where in (dicomdir, media):
        with pytest.raises(AmbiguousSeriesError) as info:
            load_volume(where)
        assert all(v.identity.series_instance_uid in str(info.value) for v in plain.values())
        for ref in plain.values():
            _assert_same(load_volume(where, series=ref.identity.series_instance_uid), ref, media)


def test_folder_with_a_dicomdir_reads_what_the_dicomdir_references(tmp_path):
    pet = series_dir(STS_002, "PET")
    media = tmp_path / "media"
    dicomdir = _write_fileset(media, [pet])
    stray = sorted(series_dir(STS_002, "CT").iterdir())[0]  # a real image the DICOMDIR does not list
    shutil.copyfile(stray, media / "STRAY.dcm")
    ref = load_volume(pet)
    _assert_same(load_volume(dicomdir), ref, media)
    _assert_same(load_volume(media), ref, media)
