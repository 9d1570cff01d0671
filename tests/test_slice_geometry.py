"""Slice geometry on real series altered in tmp_path: ordering along the normal, uneven spacing, missing and
duplicate slices, shear (gantry tilt), and index <-> patient conversion, checked against SimpleITK and against
independently computed expectations."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from scipy.spatial.transform import Rotation

from conftest import STS_002, series_dir
from medseg_app.core.errors import GeometryError
from medseg_app.io import load_volume

CT = series_dir(STS_002, "CT")  # 161 × 143 × 48, 0.977 × 0.977 × 3.27 mm, slices named feet to head


def _sitk_read(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


@functools.lru_cache(maxsize=None)
def _reference():
    """SimpleITK's reading of the untouched series: (array [k, j, i], origin, spacing, direction 3×3)."""
    image = _sitk_read(CT)
    return (sitk.GetArrayFromImage(image), np.array(image.GetOrigin()), np.array(image.GetSpacing()),
            np.array(image.GetDirection()).reshape(3, 3))


def _slices_feet_to_head() -> list[pydicom.Dataset]:
    """The real slices, sorted by z (read from the headers, not trusted from the file names)."""
    return sorted((pydicom.dcmread(p) for p in CT.glob("*.dcm")), key=lambda ds: float(ds.ImagePositionPatient[2]))


def _write(datasets, folder: Path, names=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, ds in enumerate(datasets):
        ds.save_as(folder / (names[n] if names else f"{n:06d}.dcm"))
    return folder


def _ds(values, decimals: int = 6) -> list[str]:
    """Decimal strings that fit DS's 16 characters."""
    return [f"{float(v):.{decimals}f}" for v in values]


def _one_sentence_naming(message: str, path: Path) -> None:
    assert str(path) in message, message
    assert "\n" not in message and message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message.replace(str(path), "PATH")), message


def _assert_same_as_reference(volume) -> None:
    array, origin, spacing, direction = _reference()
    np.testing.assert_array_equal(volume.array, array)
    np.testing.assert_allclose(volume.origin, origin, atol=1e-4)
    np.testing.assert_allclose(volume.spacing, spacing, atol=1e-4)
    np.testing.assert_allclose(volume.direction, direction, atol=1e-6)
    assert volume.warnings == []


# --- order ------------------------------------------------------------------------------------------------
def test_slices_are_sorted_along_the_normal_not_by_name_or_instance_number(tmp_path):
    rng = np.random.default_rng(11)
    slices = _slices_feet_to_head()
    names, numbers, locations = rng.permutation(len(slices)), rng.permutation(len(slices)), rng.permutation(len(slices))
    assert not np.array_equal(np.argsort(names), np.arange(len(slices)))  # the shuffle really shuffles
    for ds, number, location in zip(slices, numbers, locations):
        ds.InstanceNumber = int(number) + 1
        ds.SliceLocation = f"{float(location):.1f}"  # informative only: must not be used for ordering
    folder = _write(slices, tmp_path / "shuffled", names=[f"IM{n:04d}.dcm" for n in names])
    volume = load_volume(folder)
    _assert_same_as_reference(volume)
    # identity follows slice order, not file order
    assert volume.identity.sop_instance_uids == tuple(str(ds.SOPInstanceUID) for ds in slices)


@pytest.mark.parametrize("naming", ["feet-to-head", "head-to-foot"])
def test_file_order_in_either_direction_gives_the_same_volume(tmp_path, naming):
    slices = _slices_feet_to_head()
    if naming == "head-to-foot":
        slices = slices[::-1]
        for n, ds in enumerate(slices):
            ds.InstanceNumber = n + 1
    folder = _write(slices, tmp_path / naming)
    volume = load_volume(folder)
    _assert_same_as_reference(volume)
    assert volume.origin[2] == pytest.approx(min(float(ds.ImagePositionPatient[2]) for ds in slices), abs=1e-4)


# --- uneven spacing, missing slices, duplicates ------------------------------------------------------------
def _linear(z_src: np.ndarray, planes: np.ndarray, z: float) -> np.ndarray:
    """Independent linear interpolation along z between the two source planes around z (float64)."""
    upper = int(np.searchsorted(z_src, z - 1e-6))
    if abs(z_src[upper] - z) < 1e-6:
        return planes[upper].astype(float)
    lower = upper - 1
    w = (z - z_src[lower]) / (z_src[upper] - z_src[lower])
    return (1 - w) * planes[lower] + w * planes[upper]


def test_uneven_spacing_is_resampled_onto_a_regular_grid_with_a_warning(tmp_path):
    slices = _slices_feet_to_head()
    original = np.stack([ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in slices])
    z_true = np.array([float(ds.ImagePositionPatient[2]) for ds in slices])
    moved = {10: +1.0, 30: -0.8}
    for k, dz in moved.items():
        ipp = [float(v) for v in slices[k].ImagePositionPatient]
        slices[k].ImagePositionPatient = _ds([ipp[0], ipp[1], ipp[2] + dz])
    z_src = np.array([float(ds.ImagePositionPatient[2]) for ds in slices])
    volume = load_volume(_write(slices, tmp_path / "uneven"))

    assert any("not uniform" in w and "resampled" in w for w in volume.warnings), volume.warnings
    array, origin, spacing, _ = _reference()
    assert volume.size == (161, 143, 48)
    np.testing.assert_allclose(volume.origin, origin, atol=1e-4)
    np.testing.assert_allclose(volume.spacing, spacing, atol=1e-3)
    for k in range(48):
        if k in moved:  # the grid plane where the moved slice was is rebuilt from its new neighbours
            got = volume.array[k].astype(float)
            assert np.abs(got - _linear(z_src, original, z_true[k])).max() <= 1.0
            assert np.abs(got - array[k]).max() > 50  # and really differs from the slice that moved away
        else:
            np.testing.assert_array_equal(volume.array[k], array[k])


@pytest.mark.parametrize("deleted", [(20,), (12, 30), (20, 21), (20, 21, 22)], ids=lambda d: "-".join(map(str, d)))
def test_missing_slices_are_interpolated_from_their_neighbours_with_a_warning(tmp_path, deleted):
    array, origin, spacing, _ = _reference()
    slices = _slices_feet_to_head()
    kept = [ds for k, ds in enumerate(slices) if k not in deleted]
    volume = load_volume(_write(kept, tmp_path / "gappy"))

    assert any(f"{len(deleted)} slice(s) are missing" in w for w in volume.warnings), volume.warnings
    assert volume.size == (161, 143, 48)
    np.testing.assert_allclose(volume.origin, origin, atol=1e-4)
    np.testing.assert_allclose(volume.spacing, spacing, atol=1e-3)
    for k in range(48):
        if k in deleted:
            lower = max(n for n in range(k) if n not in deleted)
            upper = min(n for n in range(k + 1, 48) if n not in deleted)
            w = (k - lower) / (upper - lower)
            expected = (1 - w) * array[lower].astype(float) + w * array[upper].astype(float)
            assert np.abs(volume.array[k] - expected).max() <= 1.0
        else:
            np.testing.assert_array_equal(volume.array[k], array[k])


def test_a_gap_of_more_than_four_slices_is_refused(tmp_path):
    slices = _slices_feet_to_head()
    folder = _write([ds for k, ds in enumerate(slices) if not 20 <= k < 25], tmp_path / "hole")
    with pytest.raises(GeometryError) as caught:
        load_volume(folder)
    _one_sentence_naming(str(caught.value), folder)
    assert "gap" in str(caught.value) and "missing" in str(caught.value)


@pytest.mark.parametrize("how", ["copied-file", "moved-slice"])
def test_duplicate_positions_are_refused(tmp_path, how):
    slices = _slices_feet_to_head()
    if how == "copied-file":
        twin = pydicom.dcmread(CT / "000020.dcm")
        twin.SOPInstanceUID = twin.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        slices.append(twin)
    else:
        slices[21].ImagePositionPatient = slices[20].ImagePositionPatient
    folder = _write(slices, tmp_path / how)
    with pytest.raises(GeometryError) as caught:
        load_volume(folder)
    _one_sentence_naming(str(caught.value), folder)
    assert "same slice position" in str(caught.value)


# --- shear (gantry tilt) -----------------------------------------------------------------------------------
ROW_MM, COLUMN_MM = 0.976562, 0.5  # made non-square so that swapping the two pixel spacings would show


def _sheared_copy(folder: Path, pixels_per_slice: float, axis: int) -> Path:
    """Slice k moved by k·s pixels along rows (axis 0) or columns (axis 1) in space, its pixels the opposite
    way, so the anatomy stays where it was; non-integer shifts move the pixels by linear interpolation."""
    slices = _slices_feet_to_head()
    for k, ds in enumerate(slices):
        ds.PixelSpacing = _ds([ROW_MM, COLUMN_MM])
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        along = iop[3:] * ROW_MM if axis == 0 else iop[:3] * COLUMN_MM  # column direction moves along rows
        shift = k * pixels_per_slice
        ds.ImagePositionPatient = _ds(np.array([float(v) for v in ds.ImagePositionPatient]) + shift * along)
        plane = ds.pixel_array.astype(float)
        whole, frac = int(np.floor(shift)), shift - np.floor(shift)
        moved = (1 - frac) * np.roll(plane, -whole, axis=axis) + frac * np.roll(plane, -whole - 1, axis=axis)
        ds.PixelData = np.rint(moved).astype(ds.pixel_array.dtype).tobytes()
    return _write(slices, folder)


@pytest.mark.parametrize("axis", [0, 1], ids=["along-columns", "along-rows"])
def test_integer_shear_is_undone_exactly_on_an_orthogonal_grid(tmp_path, axis):
    array, origin, _, _ = _reference()
    volume = load_volume(_sheared_copy(tmp_path / "sheared", 1.0, axis))
    assert any("sheared" in w and "orthogonal grid" in w for w in volume.warnings), volume.warnings
    np.testing.assert_allclose(volume.direction, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(volume.spacing, [COLUMN_MM, ROW_MM, 3.27], atol=1e-3)
    np.testing.assert_allclose(volume.origin, origin, atol=1e-4)
    assert volume.size == (161, 143, 48)
    covered = (slice(None), slice(47, None), slice(None)) if axis == 0 else (slice(None), slice(None), slice(47, None))
    np.testing.assert_array_equal(volume.array[covered], array[covered])


def test_half_pixel_shear_gives_values_close_to_the_original(tmp_path):
    array, _, _, _ = _reference()
    folder = _sheared_copy(tmp_path / "sheared", 0.5, 0)
    volume = load_volume(folder)
    assert any("sheared" in w for w in volume.warnings)
    ref = array.astype(float)[:, 25:-1]
    got = volume.array.astype(float)[:, 25:-1]
    # even slices moved by whole pixels: exact; odd slices went through two half-pixel linear shifts, which
    # is a [1, 2, 1] / 4 blur along the rows (up to two roundings)
    blurred = (array[:, 24:-2].astype(float) + 2 * ref + array[:, 26:].astype(float)) / 4
    np.testing.assert_array_equal(got[0::2], ref[0::2])
    assert np.abs(got[1::2] - blurred[1::2]).max() <= 1.5
    stored = np.stack([ds.pixel_array for ds in sorted((pydicom.dcmread(p) for p in folder.glob("*.dcm")),
                                                       key=lambda ds: float(ds.ImagePositionPatient[2]))])
    naive = np.abs(stored[:, 25:-1] - ref).mean()  # what stacking the slices as they are would cost (~260 HU)
    assert np.abs(got - ref).mean() < 0.1 * naive


# --- index <-> patient -------------------------------------------------------------------------------------
def _reoriented_copy(folder: Path, orientation: str) -> Path:
    if orientation == "axial":
        return CT
    if orientation == "oblique":
        rotation = Rotation.from_rotvec(np.radians(25) * np.array([1.0, 2.0, 0.5]) / np.linalg.norm([1, 2, 0.5]))
        matrix = rotation.as_matrix()
    else:  # feet-first style: rows run right-to-left, so the normal points to the feet
        matrix = np.diag([-1.0, 1.0, -1.0])
    slices = _slices_feet_to_head()
    for ds in slices:
        iop = np.array([float(v) for v in ds.ImageOrientationPatient]).reshape(2, 3)
        ds.ImageOrientationPatient = _ds((iop @ matrix.T).reshape(6), 12)
        ds.ImagePositionPatient = _ds(matrix @ np.array([float(v) for v in ds.ImagePositionPatient]))
    return _write(slices, folder)


@pytest.mark.parametrize("orientation", ["axial", "oblique", "flipped"])
def test_index_patient_conversion_matches_simpleitk(tmp_path, orientation):
    folder = _reoriented_copy(tmp_path / orientation, orientation)
    volume, image = load_volume(folder), _sitk_read(folder)
    np.testing.assert_array_equal(volume.array, sitk.GetArrayFromImage(image))
    geometry, rng = volume.geometry, np.random.default_rng(3)
    for index in rng.uniform(-0.5, np.asarray(volume.size) - 0.5, size=(40, 3)):
        np.testing.assert_allclose(geometry.index_to_patient(index),
                                   image.TransformContinuousIndexToPhysicalPoint(index.tolist()), atol=1e-4)
    for index in (rng.integers(0, volume.size, size=(40, 3))):
        point = image.TransformIndexToPhysicalPoint([int(v) for v in index])
        np.testing.assert_allclose(geometry.index_to_patient(index), point, atol=1e-4)
        assert volume.value_at_index(index) == image.GetPixel(*(int(v) for v in index))
        np.testing.assert_array_equal(geometry.patient_to_nearest_index(point), index)
    corners = geometry.index_to_patient(np.array([[0, 0, 0], np.asarray(volume.size) - 1]))
    for point in rng.uniform(corners.min(axis=0), corners.max(axis=0), size=(40, 3)):
        np.testing.assert_allclose(geometry.patient_to_index(point),
                                   image.TransformPhysicalPointToContinuousIndex(point.tolist()), atol=1e-4)
