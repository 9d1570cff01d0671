"""Slice views in radiological convention on any voxel orientation, and screen <-> voxel mapping."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SAMPLE, SPINAL, series_dir
from medseg_app.core.display_axes import (VIEWS, index_to_screen, nearest_patient_axes, pixel_size_mm,
                                          screen_to_index, slice_of, view_axes)
from medseg_app.io import load_volume

# Screen x / y must move towards these patient directions (LPS): radiological convention.
EXPECTED_SCREEN = {
    "axial": ((1, 0, 0), (0, 1, 0)),  # right = patient left, down = posterior
    "coronal": ((1, 0, 0), (0, 0, -1)),  # right = patient left, down = inferior
    "sagittal": ((0, 1, 0), (0, 0, -1)),  # right = posterior, down = inferior
}
VOLUMES = [series_dir(SAMPLE, "CT"), SPINAL / "t2" / "t2.nii.gz", SPINAL / "t2s" / "t2s.nii.gz",
           SPINAL / "mt" / "mt1.nii.gz"]


@pytest.mark.parametrize("path", VOLUMES, ids=lambda p: p.parent.name + "/" + p.name)
@pytest.mark.parametrize("view", VIEWS)
def test_screen_directions_follow_radiological_convention(path, view):
    volume = load_volume(path)
    axes = view_axes(volume.geometry, view)
    geometry = volume.geometry
    k = geometry.size[axes.slice_axis] // 2
    origin = geometry.index_to_patient(screen_to_index(geometry, axes, k, 1, 1))
    step_x = geometry.index_to_patient(screen_to_index(geometry, axes, k, 2, 1)) - origin
    step_y = geometry.index_to_patient(screen_to_index(geometry, axes, k, 1, 2)) - origin
    want_x, want_y = (np.array(v, float) for v in EXPECTED_SCREEN[view])
    # Oblique volumes show their nearest orthogonal orientation: the dominant direction must match.
    assert np.dot(step_x / np.linalg.norm(step_x), want_x) > 0.7
    assert np.dot(step_y / np.linalg.norm(step_y), want_y) > 0.7


@pytest.mark.parametrize("path", VOLUMES, ids=lambda p: p.parent.name + "/" + p.name)
@pytest.mark.parametrize("view", VIEWS)
def test_slice_image_pixels_are_the_voxels_screen_to_index_names(path, view):
    volume = load_volume(path)
    axes = view_axes(volume.geometry, view)
    k = volume.geometry.size[axes.slice_axis] // 3
    plane = slice_of(volume.array, axes, k)
    rng = np.random.default_rng(0)
    for _ in range(20):
        y, x = rng.integers(0, plane.shape[0]), rng.integers(0, plane.shape[1])
        i, j, kk = screen_to_index(volume.geometry, axes, k, x, y).astype(int)
        assert plane[y, x] == volume.array[kk, j, i]
        assert index_to_screen(volume.geometry, axes, (i, j, kk)) == (x, y, k)
    assert np.shares_memory(plane, volume.array)  # a view, not a copy


def test_axial_sample_letters_and_aspect():
    volume = load_volume(series_dir(SAMPLE, "CT"))
    axial = view_axes(volume.geometry, "axial")
    assert axial.letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    coronal = view_axes(volume.geometry, "coronal")
    assert coronal.letters == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    sagittal = view_axes(volume.geometry, "sagittal")
    assert sagittal.letters == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    assert pixel_size_mm(volume.geometry, coronal) == pytest.approx((0.97656, 3.27), abs=1e-4)


def test_nearest_axes_of_a_permuted_direction():
    direction = np.array([[0, 0, -1], [1, 0, 0], [0, 1, 0]], float)
    voxel_axis, sign = nearest_patient_axes(direction)
    assert voxel_axis.tolist() == [2, 0, 1]
    assert sign.tolist() == [-1, 1, 1]
