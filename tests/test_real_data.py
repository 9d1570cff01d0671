"""Real sarcoma CT / MR / PET series and their NIfTI twins load to identical arrays and geometry."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, STS_002, series_dir
from medseg_app.core.sitk_bridge import geometry_from_sitk
from medseg_app.io import load_volume

CASES = [(SAMPLE, "CT"), (SAMPLE, "PET"), (STS_002, "CT"), (STS_002, "MR_T1"), (STS_002, "PET")]
IDS = [f"{c.name}-{m}" for c, m in CASES]
EXPECTED_UNITS = {"CT": ("CT", "HU"), "MR_T1": ("MR", ""), "PET": ("PT", "SUV")}


def _sitk_series(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


@pytest.mark.parametrize("case,modality", CASES, ids=IDS)
def test_dicom_series_equals_simpleitk(case, modality):
    folder = series_dir(case, modality)
    volume = load_volume(folder)
    image = _sitk_series(folder)
    assert volume.geometry.same_grid(geometry_from_sitk(image), tol_mm=1e-4)
    expected = sitk.GetArrayFromImage(image)
    if modality == "PET":  # per-slice float slopes: GDCM rescales in float64, we in float32
        np.testing.assert_allclose(volume.array, expected, rtol=1e-6, atol=1e-5)
    else:
        np.testing.assert_array_equal(volume.array, expected)
        assert volume.array.dtype == np.int16
    assert (volume.modality, volume.units) == EXPECTED_UNITS[modality]
    assert volume.warnings == []


@pytest.mark.parametrize("case,modality", CASES, ids=IDS)
def test_nifti_twin_shares_the_grid(case, modality):
    """The NIfTI mask twin was written on the DICOM grid: same size, spacing, origin and direction."""
    volume = load_volume(series_dir(case, modality))
    mask = load_volume(case / modality / "nifti" / "mask" / "mask.nii.gz")
    assert mask.geometry.same_grid(volume.geometry, tol_mm=1e-4)
    assert mask.array.any()


@pytest.mark.parametrize("case", [SAMPLE, STS_002], ids=lambda c: c.name)
def test_pet_dicom_and_nifti_image_are_identical(case):
    dicom = load_volume(series_dir(case, "PET"))
    nifti = load_volume(case / "PET" / "nifti" / "image" / "image.nii.gz")
    assert nifti.geometry.same_grid(dicom.geometry, tol_mm=1e-4)
    np.testing.assert_array_equal(nifti.array, dicom.array)


@pytest.mark.parametrize("case,modality", CASES, ids=IDS)
def test_identity_and_sop_uids_follow_slice_order(case, modality):
    folder = series_dir(case, modality)
    volume = load_volume(folder)
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in folder.glob("*.dcm")]
    by_uid = {h.SOPInstanceUID: h for h in headers}
    ident = volume.identity
    assert len(ident.sop_instance_uids) == volume.size[2] == len(headers)
    normal = volume.geometry.slice_normal
    distances = [float(np.dot(np.array(by_uid[u].ImagePositionPatient, dtype=float), normal))
                 for u in ident.sop_instance_uids]
    assert distances == sorted(distances)
    first = headers[0]
    assert ident.series_instance_uid == first.SeriesInstanceUID
    assert ident.study_instance_uid == first.StudyInstanceUID
    assert ident.frame_of_reference_uid == first.FrameOfReferenceUID
    assert ident.patient_id == first.PatientID
    assert ident.sop_class_uid == first.SOPClassUID


def test_pet_values_are_suv_from_stored_values_and_slopes():
    folder = series_dir(STS_002, "PET")
    volume = load_volume(folder)
    for k, uid in enumerate(volume.identity.sop_instance_uids[:5]):
        ds = next(pydicom.dcmread(p) for p in folder.glob("*.dcm")
                  if pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == uid)
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        np.testing.assert_allclose(volume.array[k], expected, rtol=1e-6)


def test_series_folder_with_its_rtstruct_loads_the_image(sample_ct):
    """dicom/ holds image/ and mask/RS.dcm: the RTSTRUCT is listed, the image loads."""
    from medseg_app.io import list_series

    listing = list_series(sample_ct.parent)
    assert [s["modality"] for s in listing["series"]] == ["CT"]
    assert [o["kind"] for o in listing["objects"]] == ["RTSTRUCT"]
    volume = load_volume(sample_ct.parent)
    assert volume.size == (198, 202, 59)
