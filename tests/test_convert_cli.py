"""``medseg convert``: label map → SEG / NIfTI / NRRD / STL / RTSTRUCT, SEG and RTSTRUCT back, refusals."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, series_dir
from medseg_app.cli import main

IMAGE = str(series_dir(SAMPLE, "CT"))
MASK = SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"
HAS_RTSTRUCT = importlib.util.find_spec("medseg_app.io.rtstruct_export") is not None


def _run(capsys, *args):
    code = main(["convert", "--image", IMAGE, *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def _gtv():
    return sitk.GetArrayFromImage(sitk.ReadImage(str(MASK))) > 0


def test_label_map_to_seg_verifies_and_back_to_nifti(tmp_path, capsys):
    code, out, err = _run(capsys, "--seg", MASK, "--out", tmp_path / "gtv.dcm", "--format", "seg")
    assert code == 0, err
    assert "PASS" in out and "1.0000" in out and "FAIL" not in out
    assert pydicom.dcmread(tmp_path / "gtv.dcm").Modality == "SEG"
    code, _, err = _run(capsys, "--seg", tmp_path / "gtv.dcm", "--out", tmp_path / "back.nii.gz")
    assert code == 0, err
    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "back.nii.gz"))) > 0, _gtv())
    assert json.loads((tmp_path / "back.json").read_text())["labels"][0]["name"] == "Label_1"


def test_nrrd_and_stl_output(tmp_path, capsys):
    assert _run(capsys, "--seg", MASK, "--out", tmp_path / "gtv.nrrd")[0] == 0
    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "gtv.nrrd"))) > 0, _gtv())
    code, out, _ = _run(capsys, "--seg", MASK, "--out", tmp_path / "mesh.stl")
    assert code == 0 and (tmp_path / "mesh_Label_1.stl").stat().st_size > 1000


def test_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    target = tmp_path / "gtv.nii.gz"
    assert _run(capsys, "--seg", MASK, "--out", target)[0] == 0
    code, _, err = _run(capsys, "--seg", MASK, "--out", target)
    assert code == 2 and "already exists" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert _run(capsys, "--seg", MASK, "--out", target, "--force")[0] == 0


def test_wrong_frame_of_reference_is_one_sentence(tmp_path, capsys):
    assert _run(capsys, "--seg", MASK, "--out", tmp_path / "gtv.dcm", "--format", "seg")[0] == 0
    ds = pydicom.dcmread(tmp_path / "gtv.dcm")
    ds.FrameOfReferenceUID = "1.2.3.4.5"
    ds.save_as(tmp_path / "other.dcm")
    code, _, err = _run(capsys, "--seg", tmp_path / "other.dcm", "--out", tmp_path / "x.nii.gz")
    assert code == 2 and "Frame of Reference" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.nii.gz").exists()


def test_empty_structure_and_unsupported_input(tmp_path, capsys):
    image = sitk.ReadImage(str(MASK))
    sitk.WriteImage(image, str(tmp_path / "two.nii.gz"))
    (tmp_path / "two.json").write_text(json.dumps({"labels": [{"value": 1, "name": "GTV"},
                                                              {"value": 2, "name": "Cord"}]}))
    code, _, err = _run(capsys, "--seg", tmp_path / "two.nii.gz", "--out", tmp_path / "x.dcm", "--format", "seg")
    assert code == 2 and "'Cord'" in err and len(err.strip().splitlines()) == 1
    ct_file = sorted(series_dir(SAMPLE, "CT").glob("*.dcm"))[0]
    code, _, err = _run(capsys, "--seg", ct_file, "--out", tmp_path / "x.nii.gz")
    assert code == 2 and "not an RTSTRUCT, SEG or label map" in err
    code, _, err = _run(capsys, "--seg", MASK, "--out", tmp_path / "x.dcm")
    assert code == 2 and "--format" in err


@pytest.mark.skipif(not HAS_RTSTRUCT, reason="RTSTRUCT export (io/rtstruct_export.py) is not in this checkout")
def test_label_map_to_rtstruct_and_back(tmp_path, capsys):
    code, out, err = _run(capsys, "--seg", MASK, "--out", tmp_path / "rs.dcm", "--format", "rtstruct")
    assert code == 0, err
    assert "PASS" in out and "FAIL" not in out
    assert pydicom.dcmread(tmp_path / "rs.dcm").Modality == "RTSTRUCT"
    code, _, err = _run(capsys, "--seg", tmp_path / "rs.dcm", "--out", tmp_path / "seg.dcm", "--format", "seg")
    assert code == 0, err
