"""DICOM Spatial Registration (REG) and ITK .tfm files of a layer transform, on the real STS_002 CT / MR / PET:
written, checked with dciodvfy, read back to the same matrix; a REG of other series is refused; and
``medseg register`` end to end."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from medseg_app.cli import main
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.io import load_volume
from medseg_app.io.spatial_registration import (SPATIAL_REGISTRATION_SOP_CLASS, RegistrationFileError,
                                                read_registration, write_registration)
from tests.conftest import require_tool

STS_002 = Path(__file__).parent / "data" / "sts_mirp" / "STS_002"
CT, MR, PET = (STS_002 / m / "dicom" / "image" for m in ("CT", "MR_T1", "PET"))
TRANSFORM = LayerTransform.rigid((12.5, -7.25, 3.125), (4.0, -6.5, 9.75), (80.0, 129.0, -552.0))


@pytest.fixture(scope="module")
def volumes():
    return load_volume(CT), load_volume(MR), load_volume(PET)


def dciodvfy_errors(path: Path) -> list[str]:
    report = subprocess.run([require_tool("dciodvfy"), str(path)], capture_output=True, text=True)
    return [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]


def test_reg_round_trip_is_valid_and_exact(volumes, tmp_path):
    ct, mr, _ = volumes
    out = tmp_path / "reg.dcm"
    write_registration(out, ct, mr, TRANSFORM)
    assert dciodvfy_errors(out) == []
    ds = pydicom.dcmread(out)
    assert ds.SOPClassUID == SPATIAL_REGISTRATION_SOP_CLASS and ds.Modality == "REG"
    assert ds.FrameOfReferenceUID == ct.identity.frame_of_reference_uid
    fixed, moving = ds.RegistrationSequence
    matrix = moving.MatrixRegistrationSequence[0].MatrixSequence[0]
    assert matrix.FrameOfReferenceTransformationMatrixType == "RIGID"
    assert np.allclose(np.asarray(matrix.FrameOfReferenceTransformationMatrix, float).reshape(4, 4),
                       TRANSFORM.layer_to_reference, atol=1e-6)
    identity = fixed.MatrixRegistrationSequence[0].MatrixSequence[0].FrameOfReferenceTransformationMatrix
    assert np.allclose(np.asarray(identity, float), np.eye(4).reshape(16))
    assert {i.ReferencedSOPInstanceUID for i in moving.ReferencedImageSequence} == set(mr.identity.sop_instance_uids)
    referenced = {s.SeriesInstanceUID for s in ds.ReferencedSeriesSequence}
    assert referenced == {ct.identity.series_instance_uid, mr.identity.series_instance_uid}
    assert ds.PatientID == ct.identity.patient_id and ds.StudyInstanceUID == ct.identity.study_instance_uid
    back = read_registration(out, ct, mr)
    assert np.abs(back.reference_to_layer - TRANSFORM.reference_to_layer).max() < 1e-6


def test_an_affine_layer_from_another_study_is_referenced_there(volumes, tmp_path):
    ct, mr, _ = volumes
    other_study = dataclasses.replace(mr, identity=dataclasses.replace(mr.identity, study_instance_uid="1.2.3.4.5"))
    stretch = LayerTransform(np.diag([1.05, 0.95, 1.0, 1.0]) @ TRANSFORM.reference_to_layer)
    out = tmp_path / "affine.dcm"
    write_registration(out, ct, other_study, stretch)
    assert dciodvfy_errors(out) == []
    ds = pydicom.dcmread(out)
    assert [s.SeriesInstanceUID for s in ds.ReferencedSeriesSequence] == [ct.identity.series_instance_uid]
    other = ds.StudiesContainingOtherReferencedInstancesSequence[0]
    assert other.StudyInstanceUID == "1.2.3.4.5"
    assert other.ReferencedSeriesSequence[0].SeriesInstanceUID == mr.identity.series_instance_uid
    item = ds.RegistrationSequence[1].MatrixRegistrationSequence[0].MatrixSequence[0]
    assert item.FrameOfReferenceTransformationMatrixType == "AFFINE"
    back = read_registration(out, ct, other_study)
    assert np.abs(back.reference_to_layer - stretch.reference_to_layer).max() < 1e-6


def test_a_reg_written_the_other_way_round_reads_the_same(volumes, tmp_path):
    ct, mr, _ = volumes
    out = tmp_path / "reverse.dcm"
    write_registration(out, mr, ct, LayerTransform(TRANSFORM.layer_to_reference))  # MR as the registered frame
    back = read_registration(out, ct, mr)
    assert np.abs(back.reference_to_layer - TRANSFORM.reference_to_layer).max() < 1e-6


def test_a_reg_of_other_series_is_refused_in_one_sentence(volumes, tmp_path):
    ct, mr, pet = volumes
    out = tmp_path / "reg.dcm"
    write_registration(out, ct, mr, TRANSFORM)
    with pytest.raises(RegistrationFileError) as caught:
        read_registration(out, ct, pet)
    message = str(caught.value)
    assert "other series" in message and message.count(". ") == 0 and message.endswith(".")
    with pytest.raises(RegistrationFileError, match="not a DICOM Spatial Registration"):
        read_registration(next(CT.iterdir()), ct, mr)


def test_tfm_round_trip_and_a_simpleitk_euler_file(volumes, tmp_path):
    ct, mr, _ = volumes
    out = tmp_path / "t.tfm"
    write_registration(out, ct, mr, TRANSFORM)
    back = read_registration(out, ct, mr)
    assert np.abs(back.reference_to_layer - TRANSFORM.reference_to_layer).max() < 1e-6
    euler = sitk.Euler3DTransform((10.0, 20.0, 30.0), 0.1, -0.2, 0.3, (1.0, 2.0, 3.0))
    sitk.WriteTransform(euler, str(tmp_path / "euler.tfm"))
    read = read_registration(tmp_path / "euler.tfm", ct, mr)
    point = np.array([5.0, -7.0, 11.0])
    assert np.allclose(read.map_to_layer(point), euler.TransformPoint(point.tolist()), atol=1e-9)
    (tmp_path / "junk.tfm").write_text("not a transform\n")
    with pytest.raises(RegistrationFileError, match="not a readable ITK transform"):
        read_registration(tmp_path / "junk.tfm", ct, mr)


def test_medseg_register_prints_and_writes(volumes, tmp_path, capsys):
    ct, mr, _ = volumes
    out = tmp_path / "reg.dcm"
    box = "-40,40,-600,120,200,-500"  # negative numbers after --box, as typed
    code = main(["register", str(CT), str(MR), "--out", str(out), "--box", box])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "translation:" in printed and "rotation:" in printed and "matrix (moving → fixed):" in printed
    assert "metric (Mattes MI, lower is better): start" in printed
    assert dciodvfy_errors(out) == []
    transform = read_registration(out, ct, mr)
    centre = np.array([80.0, 129.0, -552.0])
    assert np.linalg.norm(transform.map_to_layer(centre) - centre) < 5.0  # the series were aligned to start with
    code = main(["register", str(CT), str(MR), "--out", str(tmp_path / "r.nii")])
    assert code == 2 and "write a DICOM registration (.dcm) or an ITK transform (.tfm)" in capsys.readouterr().err
