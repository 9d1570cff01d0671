"""The grid a model sees, and the two resamplings between it and the displayed image grid.

A model never sees the displayed image directly: its input is the image resampled (linearly, in LPS) onto a
*model grid*: for a box-prompted model the user's box plus a margin, stretched onto a fixed number of voxels
along the image's own index axes; for a whole-image model the image reoriented to the bundle's axis codes and
resampled to its voxel spacing (MONAI's ``Orientationd`` + ``Spacingd``). Probabilities come back by the
exact inverse: each displayed voxel centre is mapped to the model grid and interpolated there, so a result
lands on the displayed grid with no half-voxel shift or flip.

A model run on a study layer (a PET under a planning CT) gives its probabilities straight onto the reference grid
(:func:`resample_to_reference`: each reference voxel centre mapped through the layer transform into the model grid
and interpolated linearly there), so the arg-max happens on the reference grid and the result is never a
nearest-neighbour copy of the layer's coarse voxels.

Model tensors use MONAI's layout (channel, x, y, z) = (i, j, k); our arrays are numpy (k, j, i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..core.box import Box
from ..core.geometry import ImageGeometry
from ..core.layer_resampling import sitk_transform
from ..core.layer_transform import LayerTransform
from ..core.sitk_bridge import apply_geometry

# Axis codes as in nibabel / MONAI ("RAS": axis 0 points to the patient's right), as LPS unit vectors.
_AXIS_LPS = {"L": (1, 0, 0), "R": (-1, 0, 0), "P": (0, 1, 0), "A": (0, -1, 0), "S": (0, 0, 1), "I": (0, 0, -1)}
MIN_BOX_MM = 4.0


@dataclass(frozen=True)
class ModelGrid:
    geometry: ImageGeometry  # the grid the network sees
    region: Box  # the displayed-image voxels (k, j, i) the model grid covers: where results are pasted


def box_corners_to_index(geometry: ImageGeometry, box_lps) -> tuple[np.ndarray, np.ndarray]:
    """Continuous index (i, j, k) bounds of a box given by two opposite LPS corners (mm)."""
    a, b = np.asarray(box_lps, dtype=float).reshape(2, 3)
    corners = np.array([[x, y, z] for x in (a[0], b[0]) for y in (a[1], b[1]) for z in (a[2], b[2])])
    idx = geometry.patient_to_index(corners)
    return idx.min(axis=0), idx.max(axis=0)


def box_model_grid(geometry: ImageGeometry, box_lps, margin: float, spatial_size) -> ModelGrid:
    """The box (plus ``margin`` × its size on every side) on ``spatial_size`` voxels along the image axes."""
    lo, hi = box_corners_to_index(geometry, box_lps)
    extent = np.maximum(hi - lo, MIN_BOX_MM / geometry.spacing)
    centre = (lo + hi) / 2
    lo, hi = centre - extent * (0.5 + margin), centre + extent * (0.5 + margin)
    n = np.asarray(spatial_size, dtype=int)
    step = (hi - lo) / n  # model voxel size in displayed-index units
    first_centre = lo + step / 2
    target = ImageGeometry(size=tuple(n), spacing=step * geometry.spacing,
                           origin=geometry.index_to_patient(first_centre), direction=geometry.direction)
    return ModelGrid(target, _covered_region(geometry, lo, hi))


def whole_image_model_grid(geometry: ImageGeometry, axcodes: str | None, pixdim) -> ModelGrid:
    """The image reoriented to ``axcodes`` (or kept as it is) and resampled to ``pixdim`` mm (None: kept)."""
    region = Box.whole(geometry.shape)
    if axcodes is None and pixdim is None:
        return ModelGrid(geometry, region)
    direction = geometry.direction if axcodes is None else axcodes_direction(axcodes)
    # Extent of the image (voxel edges) along the target axes.
    edges = np.array([[x, y, z] for x in (-0.5, geometry.size[0] - 0.5) for y in (-0.5, geometry.size[1] - 0.5)
                      for z in (-0.5, geometry.size[2] - 0.5)])
    along = geometry.index_to_patient(edges) @ direction  # coordinates along each target axis
    lo, hi = along.min(axis=0), along.max(axis=0)
    if pixdim is None:  # reorientation only: keep each axis's spacing, matched to the nearest source axis
        nearest = np.argmax(np.abs(geometry.direction.T @ direction), axis=0)
        spacing = geometry.spacing[nearest]
    else:
        spacing = np.array([float(p) if p and p > 0 else geometry.spacing[a]
                            for a, p in enumerate(list(pixdim) + [None] * (3 - len(pixdim)))])
    size = np.maximum(np.round((hi - lo) / spacing).astype(int), 1)
    start = (lo + hi) / 2 - (size - 1) * spacing / 2  # centre the new grid on the image
    target = ImageGeometry(size=tuple(size), spacing=spacing, origin=direction @ start, direction=direction)
    return ModelGrid(target, region)


def axcodes_direction(axcodes: str) -> np.ndarray:
    codes = axcodes.upper()
    if len(codes) != 3 or any(c not in _AXIS_LPS for c in codes):
        raise ValueError(f"axis codes {axcodes!r} are not three of L/R, A/P, S/I")
    direction = np.array([_AXIS_LPS[c] for c in codes], dtype=float).T
    if abs(abs(np.linalg.det(direction)) - 1) > 1e-6:
        raise ValueError(f"axis codes {axcodes!r} repeat an axis")
    return direction


def _covered_region(geometry: ImageGeometry, lo, hi) -> Box:
    start = np.clip(np.floor(lo + 0.5), 0, np.asarray(geometry.size)).astype(int)
    stop = np.clip(np.ceil(hi + 0.5), 0, np.asarray(geometry.size)).astype(int)
    return Box(tuple(start[::-1].tolist()), tuple(stop[::-1].tolist()))


def _region_image(array: np.ndarray, geometry: ImageGeometry, region: Box) -> sitk.Image:
    """The displayed image inside ``region`` as a SimpleITK image with its true position."""
    sub = np.ascontiguousarray(array[region.slices], dtype=np.float32)
    start_ijk = np.asarray(region.start[::-1], dtype=float)
    sub_geometry = ImageGeometry(size=sub.shape[::-1], spacing=geometry.spacing,
                                 origin=geometry.index_to_patient(start_ijk), direction=geometry.direction)
    return apply_geometry(sitk.GetImageFromArray(sub), sub_geometry)


def _reference(geometry: ImageGeometry) -> sitk.Image:
    ref = sitk.Image([int(s) for s in geometry.size], sitk.sitkFloat32)
    return apply_geometry(ref, geometry)


def sample_to_model_grid(array: np.ndarray, geometry: ImageGeometry, grid: ModelGrid) -> np.ndarray:
    """The image on the model grid, numpy (k, j, i) float32. Outside the image the nearest edge value is
    repeated (so a box reaching past a cropped study does not see an artificial black border)."""
    region = _read_region(geometry, grid)
    if region.empty:
        raise ValueError("the box lies entirely outside the image")
    image = _region_image(array, geometry, region)
    if grid.geometry.same_grid(ImageGeometry(image.GetSize(), image.GetSpacing(), image.GetOrigin(),
                                             np.asarray(image.GetDirection()).reshape(3, 3))):
        return sitk.GetArrayFromImage(image)
    below, above = _overhang(geometry, region, grid.geometry)
    image = sitk.ZeroFluxNeumannPad(image, [int(v) + 2 for v in below], [int(v) + 2 for v in above])
    out = sitk.Resample(image, _reference(grid.geometry), sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)


def _read_region(geometry: ImageGeometry, grid: ModelGrid) -> Box:
    """The displayed voxels needed to interpolate every model-grid voxel (one voxel of slack)."""
    lo, hi = _model_grid_index_bounds(geometry, grid.geometry)
    start = np.clip(np.floor(lo) - 1, 0, np.asarray(geometry.size)).astype(int)
    stop = np.clip(np.ceil(hi) + 2, 0, np.asarray(geometry.size)).astype(int)
    return Box(tuple(start[::-1].tolist()), tuple(stop[::-1].tolist()))


def _model_grid_index_bounds(geometry: ImageGeometry, target: ImageGeometry):
    corners = np.array([[x, y, z] for x in (0, target.size[0] - 1) for y in (0, target.size[1] - 1)
                        for z in (0, target.size[2] - 1)], dtype=float)
    idx = geometry.patient_to_index(target.index_to_patient(corners))
    return idx.min(axis=0), idx.max(axis=0)


def _overhang(geometry: ImageGeometry, region: Box, target: ImageGeometry):
    """Voxels (i, j, k) by which the model grid reaches past ``region`` below and above."""
    lo, hi = _model_grid_index_bounds(geometry, target)
    start, stop = np.asarray(region.start[::-1]), np.asarray(region.stop[::-1])
    below = np.maximum(np.ceil(start - lo), 0)
    above = np.maximum(np.ceil(hi - (stop - 1)), 0)
    return below.astype(int), above.astype(int)


def resample_to_display(channels: np.ndarray, grid: ModelGrid, geometry: ImageGeometry,
                        outside: np.ndarray | None = None) -> np.ndarray:
    """Model-grid channels (C, k, j, i) back onto the displayed voxels of ``grid.region``: (C, *region.shape).

    ``outside`` holds each channel's value where a displayed voxel falls outside the model grid (for
    probabilities: 1 for background, 0 otherwise)."""
    region = grid.region
    start_ijk = np.asarray(region.start[::-1], dtype=float)
    region_geometry = ImageGeometry(size=region.shape[::-1], spacing=geometry.spacing,
                                    origin=geometry.index_to_patient(start_ijk), direction=geometry.direction)
    if grid.geometry.same_grid(region_geometry):
        return np.asarray(channels, dtype=np.float32)
    reference = _reference(region_geometry)
    out = np.empty((channels.shape[0],) + region.shape, dtype=np.float32)
    for c in range(channels.shape[0]):
        image = apply_geometry(sitk.GetImageFromArray(np.ascontiguousarray(channels[c], dtype=np.float32)),
                               grid.geometry)
        default = 0.0 if outside is None else float(outside[c])
        out[c] = sitk.GetArrayFromImage(sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear,
                                                      default, sitk.sitkFloat32))
    return out


def reference_region(grid: ModelGrid, reference: ImageGeometry, transform: LayerTransform) -> Box:
    """The reference-grid voxels (k, j, i) whose centres may fall in the model grid: the bounding box of the model
    grid's 8 outer corners mapped into the reference, clipped to it."""
    g = grid.geometry
    corners = np.array([[x, y, z] for x in (-0.5, g.size[0] - 0.5) for y in (-0.5, g.size[1] - 0.5)
                        for z in (-0.5, g.size[2] - 0.5)])
    idx = reference.patient_to_index(transform.map_to_reference(g.index_to_patient(corners)))
    return _covered_region(reference, idx.min(axis=0), idx.max(axis=0))


def resample_to_reference(channels: np.ndarray, grid: ModelGrid, reference: ImageGeometry,
                          transform: LayerTransform, outside: np.ndarray | None = None) -> tuple[Box, np.ndarray]:
    """Model-grid channels (C, k, j, i) of a model run on a layer, linearly onto the reference grid:
    ``(region, (C, *region.shape))``. ``transform`` maps reference points to the layer's (ITK's fixed → moving)."""
    region = reference_region(grid, reference, transform)
    if region.empty:
        raise ValueError("the model's region does not reach the reference image")
    start_ijk = np.asarray(region.start[::-1], dtype=float)
    region_geometry = ImageGeometry(size=region.shape[::-1], spacing=reference.spacing,
                                    origin=reference.index_to_patient(start_ijk), direction=reference.direction)
    target = _reference(region_geometry)
    mapping = sitk_transform(transform)
    out = np.empty((channels.shape[0],) + region.shape, dtype=np.float32)
    for c in range(channels.shape[0]):
        image = apply_geometry(sitk.GetImageFromArray(np.ascontiguousarray(channels[c], dtype=np.float32)),
                               grid.geometry)
        default = 0.0 if outside is None else float(outside[c])
        out[c] = sitk.GetArrayFromImage(sitk.Resample(image, target, mapping, sitk.sitkLinear, default,
                                                      sitk.sitkFloat32))
    return region, out
