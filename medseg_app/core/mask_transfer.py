"""Binary masks and label maps carried from one grid to another, keeping their volume and shape.

Method ("distance", the default): the mask's signed distance map on its own grid, interpolated linearly at the
target's voxel centres, thresholded at 0. The distance is symmetric — half of (distance from the inside boundary
voxels minus distance from the outside boundary voxels), both SimpleITK's SignedMaurerDistanceMap in mm — so its
zero level lies halfway between inside and outside voxel centres, where the voxel faces are, and a transfer onto the
same grid gives the mask back exactly. (Maurer's own map puts the zero on the inside boundary voxel centres and
shrinks a PET-sized mask by half a 5 mm voxel: Dice 0.71 on STS_002.)

"fraction" interpolates the mask as 0 / 1 fractions linearly and keeps ≥ 0.5; "nearest" is the nearest-neighbour
resample, for comparison only. On the three sarcoma patients (PET mask → CT grid, Dice against the CT's own mask,
benchmark ``transfer_pet_to_ct``): nearest 0.944 on average, fraction 0.955, distance 0.963 (each ≥ 0.952, volume
within 2.1 %).

Work is cropped: the distance map is computed on the mask's bounding box padded by ``MARGIN_VOXELS`` (zeros beyond
the source grid), and only the target voxels inside that padded box's image are resampled. Results are a target
:class:`Box` and the boolean contents there.

Transforms follow ITK's fixed → moving sense: ``target_to_source`` maps a target patient point to the source patient
point showing the same anatomy (a layer's :class:`LayerTransform` when the target is the study's reference).
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np
import SimpleITK as sitk

from .box import Box
from .geometry import ImageGeometry
from .layer_resampling import sitk_transform, sub_geometry
from .layer_transform import LayerTransform
from .overlap_metrics import MaskLike, mask_box_and_crop
from .sitk_bridge import apply_geometry

METHODS = ("distance", "fraction", "nearest")
MARGIN_VOXELS = 3
_OUTSIDE = 1.0e6  # distance (mm) given to target voxels beyond the padded source box

Progress = Callable[[float], None]


def signed_distance_mm(crop: np.ndarray, spacing_kji) -> np.ndarray:
    """Symmetric signed distance (mm, negative inside) of a boolean crop, zero on the voxel faces between
    inside and outside voxels; the crop must have at least one outside voxel on every side."""
    image = sitk.GetImageFromArray(crop.astype(np.uint8))
    image.SetSpacing([float(s) for s in np.asarray(spacing_kji, dtype=float)[::-1]])

    def maurer(binary):
        return sitk.GetArrayFromImage(sitk.SignedMaurerDistanceMap(
            binary, insideIsPositive=False, squaredDistance=False, useImageSpacing=True))

    inside = maurer(image)
    outside = maurer(1 - image)
    return ((inside - outside) * 0.5).astype(np.float32)


def _padded_source(mask: MaskLike, source: ImageGeometry) -> tuple[np.ndarray, ImageGeometry] | None:
    """The mask's box padded by the margin (zeros where the pad leaves the source grid) and that box's grid."""
    box, crop = mask_box_and_crop(mask)
    if box.empty or not crop.any():
        return None
    tight = Box.of_mask(crop, box.start)
    crop = crop[tight.relative_to(box)]
    start = np.asarray(tight.start) - MARGIN_VOXELS
    padded = np.pad(crop, MARGIN_VOXELS)
    origin = source.index_to_patient(start[::-1].astype(float))
    grid = ImageGeometry(padded.shape[::-1], source.spacing, origin, source.direction)
    return padded, grid


def target_box(source_box_grid: ImageGeometry, target: ImageGeometry,
               target_to_source: LayerTransform) -> Box:
    """The target voxels whose centres can fall inside ``source_box_grid`` (its 8 corners mapped, then the
    enclosing index box, clipped to the target grid)."""
    size = np.asarray(source_box_grid.size, dtype=float)
    corners = np.array(list(itertools.product(*[(-0.5, s - 0.5) for s in size])))
    points = target_to_source.map_to_reference(source_box_grid.index_to_patient(corners))
    index = target.patient_to_index(points)
    lo = np.maximum(np.floor(index.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(index.max(axis=0)).astype(int) + 1, np.asarray(target.size))
    return Box(tuple(int(v) for v in lo[::-1]), tuple(int(max(a, b)) for a, b in zip(lo[::-1], hi[::-1])))


def _resample(values: np.ndarray, grid: ImageGeometry, target_grid: ImageGeometry, transform: LayerTransform,
              interpolator, fill: float) -> np.ndarray:
    image = apply_geometry(sitk.GetImageFromArray(values), grid)
    reference = apply_geometry(sitk.Image([int(s) for s in target_grid.size], sitk.sitkUInt8), target_grid)
    out = sitk.Resample(image, reference, sitk_transform(transform), interpolator, float(fill),
                        image.GetPixelID())
    return sitk.GetArrayFromImage(out)


def transferred_field(mask: MaskLike, source: ImageGeometry, target: ImageGeometry,
                      target_to_source: LayerTransform | None = None,
                      method: str = "distance") -> tuple[Box, np.ndarray] | None:
    """The method's field on the target box (mm distance, negative inside; or fraction, ≥ 0.5 inside; or 0 / 1
    nearest), None when the mask is empty or lands outside the target grid."""
    if method not in METHODS:
        raise ValueError(f"unknown transfer method {method!r}; one of {', '.join(METHODS)}")
    transform = target_to_source or LayerTransform.identity()
    padded = _padded_source(mask, source)
    if padded is None:
        return None
    crop, grid = padded
    box = target_box(grid, target, transform)
    if box.empty:
        return None
    target_grid = sub_geometry(target, box)
    if method == "distance":
        values = signed_distance_mm(crop, grid.spacing[::-1])
        field = _resample(values, grid, target_grid, transform, sitk.sitkLinear, _OUTSIDE)
    elif method == "fraction":
        field = _resample(crop.astype(np.float32), grid, target_grid, transform, sitk.sitkLinear, 0.0)
    else:
        field = _resample(crop.astype(np.uint8), grid, target_grid, transform, sitk.sitkNearestNeighbor, 0)
    return box, field


def inside(field: np.ndarray, method: str) -> np.ndarray:
    if method == "distance":
        return field < 0
    if method == "fraction":
        return field >= 0.5
    return field > 0


def transfer_mask(mask: MaskLike, source: ImageGeometry, target: ImageGeometry,
                  target_to_source: LayerTransform | None = None,
                  method: str = "distance") -> tuple[Box, np.ndarray]:
    """The mask on ``target``: a target box and its boolean contents (an empty box when nothing lands)."""
    result = transferred_field(mask, source, target, target_to_source, method)
    if result is None:
        return Box((0, 0, 0), (0, 0, 0)), np.zeros((0, 0, 0), dtype=bool)
    box, field = result
    return box, inside(field, method)


def transfer_mask_dense(mask: MaskLike, source: ImageGeometry, target: ImageGeometry,
                        target_to_source: LayerTransform | None = None, method: str = "distance") -> np.ndarray:
    """:func:`transfer_mask` as a whole boolean array on ``target`` (numpy order k, j, i)."""
    box, crop = transfer_mask(mask, source, target, target_to_source, method)
    out = np.zeros(target.shape, dtype=bool)
    if not box.empty:
        out[box.slices] = crop
    return out


def _depth(field: np.ndarray, method: str) -> np.ndarray:
    """How far inside each voxel is (larger = deeper), comparable between labels of one method."""
    if method == "distance":
        return -field
    return field.astype(np.float32)


def transfer_labels(labels: np.ndarray, source: ImageGeometry, target: ImageGeometry,
                    target_to_source: LayerTransform | None = None, method: str = "distance",
                    progress: Progress | None = None) -> np.ndarray:
    """An integer label map (numpy order k, j, i on ``source``) on ``target``: each label transferred as a mask;
    a voxel two labels claim goes to the one it lies deepest inside (smallest distance / largest fraction)."""
    labels = np.asarray(labels)
    if tuple(labels.shape) != tuple(source.shape):
        raise ValueError(f"label map shape {labels.shape} is not the source grid's {source.shape}")
    values = [int(v) for v in np.unique(labels) if v != 0]
    out = np.zeros(target.shape, dtype=labels.dtype if np.issubdtype(labels.dtype, np.integer) else np.int32)
    padded = _padded_source(labels != 0, source)
    if padded is None:
        return out
    union = target_box(padded[1], target, target_to_source or LayerTransform.identity())
    best = np.full(union.shape, -np.inf, dtype=np.float32)  # depth of the label each voxel holds so far
    for n, value in enumerate(values):
        result = transferred_field(labels == value, source, target, target_to_source, method)
        if result is not None:
            box, field = result
            claimed = inside(field, method)
            depth = _depth(field, method)
            region = best[box.relative_to(union)]
            wins = claimed & (depth > region)
            region[wins] = depth[wins]
            out[box.slices][wins] = value
        if progress is not None:
            progress((n + 1) / len(values))
    return out
