"""Measurements in patient millimetres: ruler lengths on anisotropic / oblique grids, ellipse ROI pixels and
statistics, and RECIST diameters of the sarcoma GTVs (STS_001, STS_002) against brute force over all contour
point pairs and against SimpleITK's Feret diameter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.measurements import (EllipseRoi, Measurements, ellipse_pixels, ellipse_statistics, on_slice,
                                          ruler_length_mm)
from medseg_app.core.recist import (boundary_pixels, plane_axes, recist_on_plane, segment_recist,
                                    sparse_segment_recist)
from medseg_app.core.sparse_mask import SparseMask
from medseg_app.io.load import load_volume

REPO = Path(__file__).resolve().parents[1]
MASKS = {"STS_001": REPO / "resources/sample/STS_001/CT/nifti/mask/mask.nii.gz",
         "STS_002": REPO / "tests/data/sts_mirp/STS_002/CT/nifti/mask/mask.nii.gz"}


def _oblique_direction(degrees: float) -> np.ndarray:
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module", params=sorted(MASKS))
def gtv(request):
    volume = load_volume(MASKS[request.param])
    return volume.array > 0, volume.geometry


# --- rulers ----------------------------------------------------------------------------------------
def test_ruler_length_uses_spacing_and_direction():
    geometry = ImageGeometry((50, 40, 30), (0.5, 2.0, 3.0), (10.0, -5.0, 7.0), _oblique_direction(30))
    start, end = np.array([1.0, 2.0, 3.0]), np.array([11.0, 6.0, 3.0])
    # 10 columns of 0.5 mm and 4 rows of 2 mm: 5 mm by 8 mm, whatever the rotation
    assert ruler_length_mm(geometry, start, end) == pytest.approx(np.hypot(5.0, 8.0), abs=1e-9)
    through = np.array([1.0, 2.0, 7.0])
    assert ruler_length_mm(geometry, start, through) == pytest.approx(12.0, abs=1e-9)


def test_measurements_lie_on_their_slice_and_round_trip_json():
    geometry = ImageGeometry((20, 20, 10), (1.0, 1.0, 2.5), (0.0, 0.0, 0.0))
    measurements = Measurements()
    seen = []
    measurements.subscribe(lambda what, mid: seen.append(what))
    a, b = geometry.index_to_patient([[2, 3, 4], [9, 3, 4]])
    ruler = measurements.add_ruler(a, b)
    assert ruler.length_mm == pytest.approx(7.0)
    assert on_slice(geometry, ruler.points, 2, 4) and not on_slice(geometry, ruler.points, 2, 5)
    assert on_slice(geometry, ruler.points, 1, 3)  # along i: it lies on a coronal slice too
    ellipse = measurements.add_ellipse(*geometry.index_to_patient([[1, 1, 6], [5, 7, 6]]), slice_axis=2)
    measurements.rename(ruler.id, "lesion A")
    again = Measurements()
    again.load_json(measurements.to_json())
    assert [m.name for m in again.items.values()] == ["lesion A", ellipse.name]
    assert np.allclose(again.items[1].end, b) and again.items[2].slice_axis == 2
    measurements.remove(ruler.id)
    assert list(measurements.items) == [ellipse.id] and seen == ["added", "added", "changed", "removed"]


# --- ellipse ROI -----------------------------------------------------------------------------------
def test_ellipse_pixels_are_the_centres_inside_and_statistics_match_numpy():
    geometry = ImageGeometry((60, 50, 12), (0.7, 1.3, 3.0), (-20.0, 4.0, 100.0))
    rng = np.random.default_rng(3)
    values = rng.normal(40, 25, geometry.shape).astype(np.float32)
    values[5, 20:24, 10:13] = np.nan  # outside a layer's image
    corner_a, corner_b = geometry.index_to_patient([[8.2, 12.6, 5.0], [31.0, 40.4, 5.0]])
    roi = EllipseRoi(1, "e", corner_a, corner_b, slice_axis=2)
    stats = ellipse_statistics(values, geometry, roi)
    jj, ii = np.mgrid[0:50, 0:60]
    ci, cj, ai, aj = (8.2 + 31.0) / 2, (12.6 + 40.4) / 2, (31.0 - 8.2) / 2, (40.4 - 12.6) / 2
    expected_mask = ((ii - ci) / ai) ** 2 + ((jj - cj) / aj) ** 2 <= 1
    picked = values[5][expected_mask].astype(np.float64)
    valid = picked[~np.isnan(picked)]
    assert stats["pixels"] == expected_mask.sum() and stats["no_value"] == np.isnan(picked).sum() > 0
    assert stats["mean"] == pytest.approx(valid.mean()) and stats["sd"] == pytest.approx(valid.std())
    assert (stats["min"], stats["max"]) == (pytest.approx(valid.min()), pytest.approx(valid.max()))
    assert stats["area_mm2"] == pytest.approx(expected_mask.sum() * 0.7 * 1.3)
    assert stats["ellipse_area_mm2"] == pytest.approx(np.pi * ai * 0.7 * aj * 1.3)
    assert abs(stats["area_mm2"] - stats["ellipse_area_mm2"]) < 0.05 * stats["ellipse_area_mm2"]


def test_ellipse_on_a_sagittal_slice_and_off_the_image():
    geometry = ImageGeometry((30, 30, 30), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0))
    values = np.arange(27000, dtype=float).reshape(geometry.shape)
    roi = EllipseRoi(1, "s", *geometry.index_to_patient([[7, 4, 3], [7, 14, 13]]), slice_axis=0)
    pixels = ellipse_pixels(geometry, roi)
    assert pixels.box[2] == slice(7, 8) and pixels.inside.sum() > 50
    assert ellipse_statistics(values, geometry, roi)["min"] >= values[3:14, 4:15, 7].min()
    outside = EllipseRoi(2, "o", *geometry.index_to_patient([[50, 4, 3], [50, 9, 9]]), slice_axis=0)
    assert ellipse_statistics(values, geometry, outside)["pixels"] == 0


# --- RECIST ----------------------------------------------------------------------------------------
def _brute_force(plane: np.ndarray, spacing, start_rc, end_rc):
    """Over all pairs of contour points: the longest distance, and across the given long axis the longest
    perpendicular offset between points on opposite sides within one pixel's larger side along it."""
    points = boundary_pixels(plane) * np.asarray(spacing)
    diff = points[:, None, :] - points[None, :, :]
    longest = float(np.sqrt((diff ** 2).sum(-1).max()))
    origin = np.asarray(start_rc) * spacing
    u = (np.asarray(end_rc) * spacing - origin)
    u /= np.linalg.norm(u)
    v = np.array([-u[1], u[0]])
    along, across = (points - origin) @ u, (points - origin) @ v
    ok = (np.abs(along[:, None] - along[None, :]) <= max(spacing)) & (across[:, None] <= 0) & (across[None, :] >= 0)
    spans = np.where(ok, across[None, :] - across[:, None], -np.inf)
    return longest, float(spans.max())


def test_recist_matches_brute_force_on_every_gtv_slice(gtv):
    mask, geometry = gtv
    checked = 0
    for slice_axis in (2, 1, 0):  # axial (0.98 × 0.98 mm), coronal and sagittal (0.98 × 3.27 mm)
        rows, cols = plane_axes(slice_axis)
        spacing = (geometry.spacing[rows], geometry.spacing[cols])
        counts = mask.sum(axis=tuple(a for a in (0, 1, 2) if a != 2 - slice_axis))
        for index in np.flatnonzero(counts)[::3]:
            plane = np.take(mask, index, axis=2 - slice_axis)
            (start, end, length), across = recist_on_plane(plane, spacing)
            longest, perpendicular = _brute_force(plane, spacing, start, end)
            assert length == pytest.approx(longest, abs=1e-9)
            # no perpendicular: every pair across the axis is a point with itself (a one-pixel-wide strip)
            assert (across[2] if across is not None else 0.0) == pytest.approx(max(perpendicular, 0.0), abs=1e-9)
            assert across is None or 0 < across[2] <= length
            checked += across is not None
    assert checked > 20


def test_recist_in_patient_space_agrees_with_simpleitk_feret_diameter(gtv):
    mask, geometry = gtv
    axial = int(np.argmax(mask.sum(axis=(1, 2))))
    found = segment_recist(mask, geometry, 2, axial)
    image = sitk.GetImageFromArray(mask[axial].astype(np.uint8))
    image.SetSpacing((float(geometry.spacing[0]), float(geometry.spacing[1])))
    shape = sitk.LabelShapeStatisticsImageFilter()
    shape.ComputeFeretDiameterOn()
    shape.Execute(image)
    assert found.longest.length_mm == pytest.approx(shape.GetFeretDiameter(1), rel=1e-6)
    assert found.longest.start[2] == axial == found.perpendicular.end[2]
    # the two lines cross at a right angle in patient space
    long_dir = geometry.index_to_patient(found.longest.end) - geometry.index_to_patient(found.longest.start)
    short_dir = geometry.index_to_patient(found.perpendicular.end) - geometry.index_to_patient(found.perpendicular.start)
    assert abs(long_dir @ short_dir) < 1e-6 * np.linalg.norm(long_dir) * np.linalg.norm(short_dir)
    assert 10.0 < found.perpendicular.length_mm < found.longest.length_mm


def test_recist_of_a_known_ellipse_on_an_oblique_anisotropic_grid():
    geometry = ImageGeometry((120, 80, 3), (0.5, 1.0, 4.0), (0.0, 0.0, 0.0), _oblique_direction(25))
    jj, ii = np.mgrid[0:80, 0:120]
    disc = ((ii - 60) * 0.5 / 25.0) ** 2 + ((jj - 40) * 1.0 / 12.0) ** 2 <= 1  # 50 mm by 24 mm
    mask = np.zeros(geometry.shape, bool)
    mask[1] = disc
    found = segment_recist(mask, geometry, 2, 1)
    assert found.longest.length_mm == pytest.approx(50.0, abs=1.1)
    assert found.perpendicular.length_mm == pytest.approx(24.0, abs=2.1)
    assert segment_recist(mask, geometry, 2, 0) is None


def test_recist_of_a_sparse_mask_equals_the_dense_one(gtv):
    mask, geometry = gtv
    sparse = SparseMask.from_dense(mask)
    for slice_axis in (2, 1, 0):
        index = int(np.argmax(mask.sum(axis=tuple(a for a in (0, 1, 2) if a != 2 - slice_axis))))
        dense, boxed = segment_recist(mask, geometry, slice_axis, index), sparse_segment_recist(sparse, geometry,
                                                                                               slice_axis, index)
        for name in ("longest", "perpendicular"):
            a, b = getattr(dense, name), getattr(boxed, name)
            assert np.allclose(a.start, b.start) and np.allclose(a.end, b.end)
            assert a.length_mm == pytest.approx(b.length_mm, abs=1e-9)
