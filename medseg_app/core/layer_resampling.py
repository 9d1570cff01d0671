"""Layer voxels on the reference grid: whole volumes (tools, statistics, fused display) and single slices.

Linear interpolation for images, as 3D Slicer and ITK-SNAP show an overlay. Points of the reference grid that fall
outside the layer get ``fill`` (NaN for float output, so a threshold or a statistic never counts them; the display
shows them transparent).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .box import Box
from .geometry import ImageGeometry
from .layer_transform import LayerTransform
from .sitk_bridge import apply_geometry, to_sitk
from .volume import Volume


def sitk_transform(transform: LayerTransform) -> sitk.AffineTransform:
    """The layer transform as a SimpleITK transform (fixed = reference, moving = layer)."""
    m = transform.reference_to_layer
    affine = sitk.AffineTransform(3)
    affine.SetMatrix([float(v) for v in m[:3, :3].reshape(9)])
    affine.SetTranslation([float(v) for v in m[:3, 3]])
    return affine


def sub_geometry(geometry: ImageGeometry, box: Box) -> ImageGeometry:
    """The grid of the voxels inside ``box`` (numpy order k, j, i)."""
    (k0, j0, i0), (k1, j1, i1) = box.start, box.stop
    origin = geometry.index_to_patient((i0, j0, k0))
    return ImageGeometry((i1 - i0, j1 - j0, k1 - k0), geometry.spacing, origin, geometry.direction)


def resample_volume(layer: Volume, transform: LayerTransform, reference: ImageGeometry, *,
                    linear: bool = True, fill: float = np.nan, dtype=np.float32) -> np.ndarray:
    """``layer``'s voxels at every voxel centre of ``reference`` (numpy order k, j, i)."""
    target = apply_geometry(sitk.Image([int(s) for s in reference.size], sitk.sitkUInt8), reference)
    image = to_sitk(layer)
    if image.GetPixelID() not in (sitk.sitkFloat32, sitk.sitkFloat64):
        image = sitk.Cast(image, sitk.sitkFloat32)
    out = sitk.Resample(image, target, sitk_transform(transform),
                        sitk.sitkLinear if linear else sitk.sitkNearestNeighbor, float(fill), sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out).astype(dtype, copy=False)


def resample_onto_reference(layer: Volume, transform: LayerTransform, reference: ImageGeometry,
                            box: Box | None = None) -> Volume:
    """A Volume on ``reference`` (or the part of it inside ``box``) with the layer's values, modality and units."""
    grid = reference if box is None else sub_geometry(reference, box)
    array = resample_volume(layer, transform, grid)
    return Volume(array, grid, modality=layer.modality, units=layer.units, identity=layer.identity,
                  source_path=layer.source_path)


def resample_plane(layer: Volume, transform: LayerTransform, reference: ImageGeometry,
                   plane_index: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Linear samples of ``layer`` at reference voxel indices ``plane_index`` (..., 3 as i, j, k): one displayed
    slice of an overlay computed on the fly."""
    m = transform.reference_index_to_layer_index(reference, layer.geometry)
    idx = np.asarray(plane_index, dtype=float) @ m[:3, :3].T + m[:3, 3]
    coords = idx[..., ::-1].reshape(-1, 3).T  # map_coordinates wants numpy order (k, j, i)
    values = ndimage.map_coordinates(layer.array.astype(np.float32, copy=False), coords, order=1,
                                     mode="constant", cval=np.nan, prefilter=False)
    values = values.reshape(idx.shape[:-1])
    # map_coordinates with cval treats the last half voxel as outside; a voxel's extent reaches ±0.5, half-open
    # as ITK's IsInsideBuffer (so a slice sampled here equals the same slice of resample_volume, edges included)
    size = np.asarray(layer.geometry.size, dtype=float)
    inside = np.all((idx >= -0.5) & (idx < size - 0.5), axis=-1)
    if np.any(inside & np.isnan(values)):
        clipped = np.clip(idx, 0, size - 1)[..., ::-1].reshape(-1, 3).T
        edge = ndimage.map_coordinates(layer.array.astype(np.float32, copy=False), clipped, order=1,
                                       prefilter=False).reshape(idx.shape[:-1])
        values = np.where(inside & np.isnan(values), edge, values)
    values[~inside] = fill
    return values.astype(np.float32, copy=False)


def overlap_fraction(layer: ImageGeometry, transform: LayerTransform, reference: ImageGeometry) -> float:
    """Fraction of the reference grid's bounding box that the layer covers (0 when they do not overlap),
    estimated on a coarse lattice of reference points."""
    axes = [np.linspace(0, s - 1, min(int(s), 16)) for s in reference.size]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    points = transform.map_to_layer(reference.index_to_patient(grid))
    return float(np.mean(layer.contains_index(layer.patient_to_index(points))))
