"""Segment surfaces lie on the mask's boundary in LPS patient millimetres and enclose the mask's volume.

surface_arrays is pure (numpy in, numpy out), so it is tested here without Qt or a display; the scene and the
3-D view's incremental updates are tested in test_surface_view.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.sparse_mask import SparseMask
from medseg_app.io import load_volume
from medseg_app.render.segment_surfaces import (
    SegmentSurfacesScene,
    enclosed_volume_mm3,
    surface_arrays,
    vertex_normals,
)

REPO = Path(__file__).resolve().parents[2]
T2S = REPO / "tests" / "data" / "sct_spinalcord_mri" / "t2s" / "t2s.nii.gz"
SAMPLE_MASK = REPO / "resources" / "sample" / "STS_001" / "CT" / "nifti" / "mask" / "mask.nii.gz"


def _boundary_distances(points: np.ndarray, mask: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    """Distance (mm) from each surface point to the nearest centre of a mask voxel on the mask's boundary."""
    boundary = mask & ~ndimage.binary_erosion(mask, border_value=0)
    k, j, i = np.nonzero(boundary)
    centres = geometry.index_to_patient(np.stack([i, j, k], axis=1))
    distances, _ = cKDTree(centres).query(points.astype(np.float64))
    return distances


def _ellipsoid(shape, centre, radii) -> np.ndarray:
    k, j, i = np.ogrid[:shape[0], :shape[1], :shape[2]]
    return (((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2
            + ((k - centre[2]) / radii[2]) ** 2) <= 1.0


@pytest.fixture(scope="module")
def t2s_geometry() -> ImageGeometry:
    geometry = load_volume(T2S).geometry
    assert not np.allclose(np.abs(geometry.direction), np.eye(3), atol=1e-3), "t2s is expected to be oblique"
    return geometry


@pytest.mark.parametrize("smoothing", [0, 16])
def test_surface_of_an_oblique_volume_lies_on_the_mask_boundary(t2s_geometry, smoothing):
    geometry = t2s_geometry
    ni, nj, nk = geometry.size
    mask = _ellipsoid(geometry.shape, (ni * 0.4, nj * 0.55, nk * 0.5), (ni * 0.15, nj * 0.2, max(2.5, nk * 0.35)))
    points, triangles = surface_arrays(SparseMask.from_dense(mask), geometry, smoothing=smoothing)
    assert points.dtype == np.float32 and points.shape[1] == 3
    assert triangles.dtype == np.int32 and triangles.shape[1] == 3 and len(triangles) > 100
    assert triangles.min() >= 0 and triangles.max() < len(points)
    diagonal = float(np.linalg.norm(geometry.spacing))
    distances = _boundary_distances(points, mask, geometry)
    assert distances.max() <= diagonal, f"a point is {distances.max():.2f} mm from the boundary (> {diagonal:.2f})"
    # Ignoring the direction (a plain origin + spacing grid) would put the surface far away.
    wrong = points - geometry.origin
    wrong = (wrong @ geometry.direction) + geometry.origin  # rotated back to an axis-aligned grid
    assert _boundary_distances(wrong, mask, geometry).max() > 3 * diagonal
    voxel_volume = mask.sum() * geometry.voxel_volume_mm3
    if smoothing == 0:  # the voxel-faithful surface encloses the voxels exactly
        assert enclosed_volume_mm3(points, triangles) == pytest.approx(voxel_volume, rel=0.01)
    else:  # smoothing rounds this small needle (7 slices of 7.5 mm) off at its tips: measured 0.80
        assert 0.75 * voxel_volume < enclosed_volume_mm3(points, triangles) < voxel_volume


def test_the_sample_gtv_surface_lies_on_its_boundary_and_keeps_its_volume():
    labels = load_volume(SAMPLE_MASK)
    mask = labels.array > 0
    geometry = labels.geometry
    points, triangles = surface_arrays(SparseMask.from_dense(mask), geometry)
    distances = _boundary_distances(points, mask, geometry)
    assert distances.max() <= float(np.linalg.norm(geometry.spacing))
    voxel_volume = mask.sum() * geometry.voxel_volume_mm3
    assert enclosed_volume_mm3(points, triangles) == pytest.approx(voxel_volume, rel=0.03)
    for method in ("flying_edges",):
        p, t = surface_arrays(SparseMask.from_dense(mask), geometry, method=method)
        assert enclosed_volume_mm3(p, t) == pytest.approx(voxel_volume, rel=0.03)


def test_large_surfaces_are_decimated_and_keep_their_shape():
    geometry = ImageGeometry(size=(200, 180, 120), spacing=(0.9, 0.9, 1.5), origin=(-90.0, -80.0, 10.0))
    mask = _ellipsoid(geometry.shape, (100, 90, 60), (85, 75, 50))
    full_points, full_triangles = surface_arrays(SparseMask.from_dense(mask), geometry, decimate_above=None)
    points, triangles = surface_arrays(SparseMask.from_dense(mask), geometry, decimate_above=20_000)
    assert len(triangles) < len(full_triangles) / 3
    voxel_volume = mask.sum() * geometry.voxel_volume_mm3
    assert enclosed_volume_mm3(points, triangles) == pytest.approx(voxel_volume, rel=0.02)
    assert _boundary_distances(points, mask, geometry).max() <= 2 * float(np.linalg.norm(geometry.spacing))


def test_a_box_looser_than_the_mask_and_touching_the_grid_edge():
    geometry = ImageGeometry(size=(12, 10, 8), spacing=(1.0, 2.0, 3.0), origin=(0.0, 0.0, 0.0))
    dense = np.zeros(geometry.shape, bool)
    dense[0:3, 0:4, 0:5] = True  # a block in the grid's corner: closed by the padding
    mask = SparseMask.from_dense(dense)
    points, triangles = surface_arrays(mask, geometry, smoothing=0)
    assert enclosed_volume_mm3(points, triangles) == pytest.approx(dense.sum() * 6.0, rel=1e-6)
    assert surface_arrays(SparseMask(geometry.shape), geometry)[1].shape == (0, 3)


def test_vertex_normals_point_outwards_on_a_sphere():
    geometry = ImageGeometry(size=(40, 40, 40), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
    points, triangles = surface_arrays(SparseMask.from_dense(_ellipsoid(geometry.shape, (20, 20, 20),
                                                                        (12, 12, 12))), geometry)
    normals = vertex_normals(points, triangles)
    radial = points - points.mean(axis=0)
    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
    cosines = np.einsum("ij,ij->i", normals, radial)
    assert abs(np.median(cosines)) > 0.95  # consistent (one sign) and radial


def test_scene_keeps_one_actor_per_segment_and_its_style():
    from vtkmodules.vtkRenderingCore import vtkRenderer

    renderer = vtkRenderer()
    scene = SegmentSurfacesScene(renderer)
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    triangles = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], np.int32)
    scene.set_style(3, (230, 60, 50), 0.8, True)
    scene.set_surface(3, points, triangles)
    actor = scene.actors[3]
    assert renderer.GetActors().IsItemPresent(actor)
    assert actor.GetProperty().GetColor() == pytest.approx((230 / 255, 60 / 255, 50 / 255))
    scene.set_style(3, (0, 255, 0), 0.5, False)
    assert scene.actors[3] is actor and not actor.GetVisibility()
    assert actor.GetProperty().GetOpacity() == pytest.approx(0.5)
    scene.set_surface(3, points, triangles[:2])
    assert scene.actors[3] is actor and scene.triangle_count(3) == 2 and not actor.GetVisibility()
    scene.remove(3)
    assert 3 not in scene.actors and not renderer.GetActors().IsItemPresent(actor)
