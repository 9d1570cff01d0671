"""The 3-D scene puts the slice planes and the outline where the voxels are in the patient (LPS mm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.volume import Volume
from medseg_app.core.window_level import WindowLevel
from medseg_app.io import load_volume
from medseg_app.render.slice_planes import SlicePlanesScene

REPO = Path(__file__).resolve().parents[2]
T2S = REPO / "tests" / "data" / "sct_spinalcord_mri" / "t2s" / "t2s.nii.gz"
SAMPLE_CT = REPO / "resources" / "sample" / "STS_001" / "CT" / "dicom" / "image"


def _rotated_volume() -> Volume:
    """Synthetic, strongly oblique (rotated 30° about z and 20° about x), anisotropic grid."""
    a, b = np.deg2rad(30), np.deg2rad(20)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    geometry = ImageGeometry(size=(20, 14, 9), spacing=(0.8, 1.3, 2.5), origin=(-12.0, 40.0, 7.5),
                             direction=rz @ rx)
    return Volume(np.arange(9 * 14 * 20, dtype=np.int16).reshape(9, 14, 20), geometry)


def _bounds(points) -> np.ndarray:
    points = np.asarray(points, float)
    return np.stack([points.min(0), points.max(0)], axis=1).reshape(-1)


def _corner_voxels_bounds(geometry: ImageGeometry, fixed: dict | None = None) -> np.ndarray:
    """Bounds of the grid's outer voxel edges (corner voxel centres ± half a voxel); ``fixed`` pins axes."""
    ranges = [(-0.5, n - 0.5) for n in geometry.size]
    for axis, value in (fixed or {}).items():
        ranges[axis] = (value, value)
    corners = [(i, j, k) for i in ranges[0] for j in ranges[1] for k in ranges[2]]
    return _bounds(geometry.index_to_patient(corners))


@pytest.mark.parametrize("load", [lambda: load_volume(T2S), lambda: load_volume(SAMPLE_CT), _rotated_volume],
                         ids=["t2s-oblique-mr", "sample-ct", "synthetic-rotated"])
def test_planes_and_outline_sit_at_the_volume_in_patient_space(load):
    volume = load()
    geometry = volume.geometry
    scene = SlicePlanesScene()
    scene.set_volume(volume)
    whole = _corner_voxels_bounds(geometry)
    np.testing.assert_allclose(scene.outline.GetBounds(), whole, atol=1e-6, rtol=0)
    for crosshair in (np.asarray(volume.size) // 2, np.zeros(3, int), np.asarray(volume.size) - 1):
        scene.set_crosshair(crosshair)
        planes = np.array(scene.plane_bounds())
        for axis in range(3):
            expected = _corner_voxels_bounds(geometry, {axis: int(crosshair[axis])})
            np.testing.assert_allclose(planes[axis], expected, atol=1e-6, rtol=0)
        union = np.concatenate([planes[:, 0::2].min(0)[:, None], planes[:, 1::2].max(0)[:, None]], axis=1).ravel()
        assert np.all(union[0::2] >= whole[0::2] - 1e-6) and np.all(union[1::2] <= whole[1::2] + 1e-6)
        if np.allclose(np.abs(geometry.direction), np.eye(3)):
            np.testing.assert_allclose(union, whole, atol=1e-6, rtol=0)  # an axis-aligned grid: the planes span the box


def test_plane_textures_show_the_crosshair_slices_without_copying_axial():
    volume = _rotated_volume()
    scene = SlicePlanesScene()
    scene.set_volume(volume, crosshair=(3, 5, 7))
    i_plane, j_plane, k_plane = scene.planes
    np.testing.assert_array_equal(k_plane.pixels, volume.array[7])
    np.testing.assert_array_equal(j_plane.pixels, volume.array[:, 5, :])
    np.testing.assert_array_equal(i_plane.pixels, volume.array[:, :, 3])
    assert np.shares_memory(k_plane.pixels, volume.array)
    dims = k_plane.image.GetDimensions()
    assert dims == (20, 14, 1)


def test_window_maps_through_the_lookup_table():
    scene = SlicePlanesScene()
    scene.set_window(WindowLevel(400, 40), "hot")
    assert scene.lut.GetRange() == (-160.0, 240.0)
    assert scene.lut.GetTableValue(0)[:3] == (0.0, 0.0, 0.0)
    assert scene.lut.GetTableValue(255)[:3] == (1.0, 1.0, 1.0)


def test_camera_starts_anterior_oblique_with_superior_up():
    scene = SlicePlanesScene()
    scene.set_volume(_rotated_volume())
    camera = scene.renderer.GetActiveCamera()
    direction = np.asarray(camera.GetFocalPoint()) - np.asarray(camera.GetPosition())
    direction /= np.linalg.norm(direction)
    # From the front (looking towards +y, posterior), from the patient's left and from above, at 30° and 20°.
    np.testing.assert_allclose(direction, [-np.sin(np.radians(30)) * np.cos(np.radians(20)),
                                           np.cos(np.radians(30)) * np.cos(np.radians(20)),
                                           -np.sin(np.radians(20))], atol=1e-9)
    up = np.asarray(camera.GetViewUp())
    assert up[2] > 0.9 and abs(np.dot(up, direction)) < 1e-9  # superior up, orthogonal to the view
