"""DICOM files without the 128-byte preamble and DICM marker (as older systems wrote them, and as pydicom's own
rtstruct.dcm test file is) load as DICOM, images and structures alike; files that are not DICOM are still refused.

The files are made from the real sarcoma series: once with only the preamble and marker cut off (the group 0002
file meta stays first), once rewritten as a bare implicit-VR little-endian dataset with no file meta (starting
with group 0008).
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from pydicom.errors import InvalidDicomError

from conftest import SAMPLE, STS_002, series_dir
from medseg_app.cli import main
from medseg_app.core.errors import LoadError, NotDicomError
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume, scan
from medseg_app.io.dicom_files import has_bare_dataset, read_dicom
from medseg_app.io.dicom_scan import read_header
from medseg_app.io.rtstruct_import import read_rtstruct
from medseg_app.io.seg_io import read_seg, write_seg
from medseg_app.io.structure_files import input_kind


def strip_preamble(src, dst) -> None:
    data = src.read_bytes()
    assert data[128:132] == b"DICM"
    dst.write_bytes(data[132:])


def bare_implicit(src, dst) -> None:
    ds = pydicom.dcmread(src)
    ds.decompress() if ds.file_meta.TransferSyntaxUID.is_compressed else None
    del ds.file_meta
    ds.preamble = None
    ds.save_as(dst, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert dst.read_bytes()[:2] == b"\x08\x00" and dst.read_bytes()[128:132] != b"DICM"


MAKERS = {"no_preamble": strip_preamble, "bare_implicit": bare_implicit}


def _remade(src_dir, dst_dir, maker):
    dst_dir.mkdir(parents=True)
    for path in sorted(src_dir.glob("*.dcm")):
        maker(path, dst_dir / path.name)
    return dst_dir


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_series_without_preambles_loads_as_the_original(tmp_path, kind):
    original = load_volume(series_dir(STS_002, "CT"))
    folder = _remade(series_dir(STS_002, "CT"), tmp_path / "ct", MAKERS[kind])
    volume = load_volume(folder)
    assert np.array_equal(volume.array, original.array)
    g, o = volume.geometry, original.geometry
    assert g.size == o.size and np.allclose(g.spacing, o.spacing) and np.allclose(g.origin, o.origin)
    assert np.allclose(np.asarray(g.direction), np.asarray(o.direction))
    assert volume.modality == "CT" and volume.units == original.units
    first = sorted(folder.glob("*.dcm"))[0]
    assert has_bare_dataset(first)
    assert read_header(first).header.SOPInstanceUID == pydicom.dcmread(sorted(series_dir(STS_002, "CT").glob("*.dcm"))[0]).SOPInstanceUID
    assert len(scan(folder).images) == 1


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_info_reads_a_folder_without_preambles(tmp_path, kind, capsys):
    folder = _remade(series_dir(STS_002, "CT"), tmp_path / "ct", MAKERS[kind])
    assert main(["info", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["size"] == list(load_volume(series_dir(STS_002, "CT")).geometry.size) and info["modality"] == "CT"


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_an_rtstruct_without_preamble_gives_the_same_masks(tmp_path, kind):
    volume = load_volume(series_dir(SAMPLE, "CT"))
    rs = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"
    bare = tmp_path / "RS.dcm"
    MAKERS[kind](rs, bare)
    assert input_kind(bare) == "rtstruct"
    ours = {r.name: r.to_dense() for r in read_rtstruct(bare, volume)}
    theirs = {r.name: r.to_dense() for r in read_rtstruct(rs, volume)}
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[n], theirs[n]) for n in theirs)
    assert any(m.any() for m in ours.values())


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_seg_without_preamble_reads_back_the_same(tmp_path, kind):
    volume = load_volume(series_dir(STS_002, "CT"))
    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    mask = np.zeros(volume.array.shape, bool)
    mask[10:20, 40:90, 50:110] = True
    segmentation.add_segment("Box", mask=mask)
    written = tmp_path / "seg.dcm"
    write_seg(segmentation, volume, written)
    bare = tmp_path / "bare_seg.dcm"
    MAKERS[kind](written, bare)
    assert input_kind(bare) == "seg"
    ((name, _colour, got),) = read_seg(bare, volume)
    assert name == "Box" and np.array_equal(np.asarray(got, bool), mask)


def test_a_single_file_without_preamble_and_without_a_suffix_is_found(tmp_path):
    src = sorted(series_dir(STS_002, "PET").glob("*.dcm"))[5]
    bare = tmp_path / "IM000005"
    strip_preamble(src, bare)
    (entry,) = scan(bare).images
    assert entry.modality == "PT" and entry.size == (30, 27, 1)
    single, original = load_volume(bare), load_volume(src)
    assert single.units == original.units == "SUV" and np.array_equal(single.array, original.array)
    assert np.allclose(single.geometry.origin, original.geometry.origin)


def test_pydicoms_own_preamble_less_rtstruct_is_read_as_rtstruct():
    from pydicom.data import get_testdata_file

    path = get_testdata_file("rtstruct.dcm", download=False)
    if path is None:
        pytest.skip("pydicom's test files are not installed")
    assert has_bare_dataset(path) and input_kind(path) == "rtstruct"
    (entry,) = scan(path).objects
    assert entry.kind == "RTSTRUCT" and read_header(path).header.Modality == "RTSTRUCT"


GARBAGE = {
    "text": b"this is a plain text note about the patient\n" * 20,
    "random": bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)),
    "group_8_implicit_overlong": b"\x08\x00\x05\x00" + b"\xff" * 60,
    "group_8_explicit_overlong": b"\x08\x00\x05\x00CS\x7f\x7f" + b"garbage " * 8,
    "group_2_long_vr_not_reserved": b"\x02\x00\x01\x00OB\x01\x02\x02\x00\x00\x00" + b"\x00" * 60,
    "too_short": b"\x08\x00",
    "nifti_header": (348).to_bytes(4, "little") + b"\x00" * 344 + b"n+1\x00",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_files_that_are_not_dicom_are_still_refused(tmp_path, name):
    path = tmp_path / "note.dcm"
    path.write_bytes(GARBAGE[name])
    with pytest.raises(NotDicomError, match="is not a DICOM file"):
        read_header(path)
    with pytest.raises(NotDicomError, match="is not a DICOM file"):
        load_volume(path)
    with pytest.raises(InvalidDicomError):
        read_dicom(path)
    with open(path, "rb") as fp, pytest.raises(InvalidDicomError):
        read_dicom(fp)
    with pytest.raises(LoadError, match="not a label map, RTSTRUCT or SEG"):
        input_kind(path)
    assert not has_bare_dataset(path)


def test_a_file_with_its_preamble_is_read_as_before():
    first = sorted(series_dir(STS_002, "CT").glob("*.dcm"))[0]
    assert not has_bare_dataset(first)
    assert read_dicom(first).SOPInstanceUID == pydicom.dcmread(first).SOPInstanceUID
