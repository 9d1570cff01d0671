"""Index <-> patient conversion: the one place it lives, checked against SimpleITK and nibabel on real data."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, SPINAL, STS_002, series_dir
from medseg_app.core.geometry import ImageGeometry, ras_affine_to_geometry
from medseg_app.core.sitk_bridge import geometry_from_sitk, to_sitk
from medseg_app.core.volume import Volume
from medseg_app.io import load_volume

RNG = np.random.default_rng(7)

OBLIQUE_AND_AXIAL = [
    SPINAL / "t2" / "t2.nii.gz",  # non-axial direction matrix (a permutation)
    SPINAL / "t2s" / "t2s.nii.gz",  # oblique, 0.5 × 0.5 × 7.5 mm
    SPINAL / "mt" / "mt1.nii.gz",  # oblique, anisotropic
    STS_002 / "PET" / "nifti" / "image" / "image.nii.gz",
]


def _random_indices(size, n=50):
    return RNG.uniform(-0.5, np.asarray(size) - 0.5, size=(n, 3))


@pytest.mark.parametrize("path", OBLIQUE_AND_AXIAL, ids=lambda p: p.name)
def test_index_to_patient_matches_simpleitk(path):
    volume = load_volume(path)
    image = sitk.ReadImage(str(path))
    for index in _random_indices(volume.size):
        expected = image.TransformContinuousIndexToPhysicalPoint(index.tolist())
        np.testing.assert_allclose(volume.geometry.index_to_patient(index), expected, atol=1e-6)
        back = image.TransformPhysicalPointToContinuousIndex(expected)
        np.testing.assert_allclose(volume.geometry.patient_to_index(expected), back, atol=1e-6)


@pytest.mark.parametrize("path", OBLIQUE_AND_AXIAL, ids=lambda p: p.name)
def test_nifti_lands_in_lps_like_nibabel_world_coordinates(path):
    """nibabel's affine maps to RAS; our LPS point, with x and y negated, must be the same place."""
    volume = load_volume(path)
    affine = nib.load(str(path)).affine
    index = _random_indices(volume.size, 20)
    ras = index @ affine[:3, :3].T + affine[:3, 3]
    lps = volume.geometry.index_to_patient(index)
    # ITK orthonormalises the direction of slightly sheared files; allow for that (well under 0.05 voxel).
    np.testing.assert_allclose(lps * [-1, -1, 1], ras, atol=0.05 * volume.spacing.min())
    geometry = ras_affine_to_geometry(affine, volume.size)
    np.testing.assert_allclose(geometry.index_to_patient(index), lps, atol=0.05 * volume.spacing.min())


def test_integer_index_is_voxel_centre_of_dicom_slice(sample_ct):
    """Index (0, 0, k) is the centre of the first pixel of slice k: ImagePositionPatient, not a corner."""
    import pydicom

    volume = load_volume(sample_ct)
    positions = sorted(
        (np.array(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient, dtype=float)
         for p in sample_ct.glob("*.dcm")),
        key=lambda v: v[2],
    )
    for k in (0, len(positions) // 2, len(positions) - 1):
        np.testing.assert_allclose(volume.geometry.index_to_patient([0, 0, k]), positions[k], atol=1e-3)


def test_dicom_series_geometry_matches_simpleitk_series_reader():
    for modality in ("CT", "MR_T1", "PET"):
        folder = series_dir(STS_002, modality)
        volume = load_volume(folder)
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
        image = reader.Execute()
        expected = geometry_from_sitk(image)
        assert volume.size == expected.size
        np.testing.assert_allclose(volume.spacing, expected.spacing, atol=1e-4)
        np.testing.assert_allclose(volume.origin, expected.origin, atol=1e-4)
        np.testing.assert_allclose(volume.direction, expected.direction, atol=1e-6)
        for index in _random_indices(volume.size, 10):
            np.testing.assert_allclose(volume.geometry.index_to_patient(index),
                                       image.TransformContinuousIndexToPhysicalPoint(index.tolist()), atol=1e-3)


def test_affines_round_trip_and_ras_flip():
    direction = np.array(sitk.VersorRigid3DTransform([0.1, -0.2, 0.3, 0.9]).GetMatrix()).reshape(3, 3)
    geometry = ImageGeometry(size=(5, 6, 7), spacing=(0.5, 0.7, 2.5), origin=(10, -20, 30), direction=direction)
    index = _random_indices(geometry.size, 10)
    homogeneous = np.c_[index, np.ones(len(index))]
    np.testing.assert_allclose((homogeneous @ geometry.lps_affine().T)[:, :3], geometry.index_to_patient(index))
    ras = (homogeneous @ geometry.ras_affine().T)[:, :3]
    np.testing.assert_allclose(ras * [-1, -1, 1], geometry.index_to_patient(index))
    again = ras_affine_to_geometry(geometry.ras_affine(), geometry.size)
    assert again.same_grid(geometry)
    np.testing.assert_allclose(geometry.patient_to_index(geometry.index_to_patient(index)), index, atol=1e-9)


def test_geometry_rejects_bad_direction_and_spacing():
    with pytest.raises(ValueError, match="orthonormal"):
        ImageGeometry(size=(2, 2, 2), spacing=(1, 1, 1), origin=(0, 0, 0),
                      direction=[[1, 0.2, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="positive"):
        ImageGeometry(size=(2, 2, 2), spacing=(1, 0, 1), origin=(0, 0, 0))


def test_volume_to_sitk_keeps_geometry_and_voxels():
    volume = load_volume(SPINAL / "mt" / "mt1.nii.gz")
    image = to_sitk(volume)
    assert geometry_from_sitk(image).same_grid(volume.geometry, tol_mm=1e-9)
    np.testing.assert_array_equal(sitk.GetArrayViewFromImage(image), volume.array)
    with pytest.raises(ValueError, match="does not match"):
        Volume(array=np.zeros((2, 3, 4)), geometry=volume.geometry)


def test_sample_is_where_its_provenance_says():
    volume = load_volume(series_dir(SAMPLE, "CT"))
    assert volume.size == (198, 202, 59)
    np.testing.assert_allclose(volume.spacing, (0.97656, 0.97656, 3.27), atol=1e-4)
