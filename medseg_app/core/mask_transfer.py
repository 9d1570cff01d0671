"""Binary masks and label maps carried from one grid to another, keeping their volume and shape.

Method "distance" (the default): the mask's signed distance map on its own grid, interpolated linearly at the
target's voxel centres, negative inside. The distance is symmetric — half of (distance from the inside boundary
voxels minus distance from the outside boundary voxels), both SimpleITK's SignedMaurerDistanceMap in mm — so its
zero level lies on the voxel faces between inside and outside voxels, and a transfer onto the same grid gives the
mask back exactly. (Maurer's own map puts the zero on the inside boundary voxel centres and shrinks a PET-sized mask
by half a 5 mm voxel: Dice 0.71 on STS_002.) Where the source voxels are coarse along an axis (more than
``COARSER`` times the target's spacing there: a 5 mm PET mask going onto a 1 mm CT grid), the distance map is first
smoothed along that axis (Gaussian, sigma ``SMOOTHING_VOXELS`` source voxels) to take out the voxel staircase, and
the threshold is set so that the target holds the source mask's volume (the smoothing alone would shrink convex
shapes) — what 3D Slicer reaches through a windowed-sinc smoothed closed surface, without leaving the voxel world.
Otherwise (same or finer source voxels) the threshold is 0.

"fraction" interpolates the mask as 0 / 1 fractions linearly and keeps ≥ 0.5; "nearest" is the nearest-neighbour
resample, for comparison only. On the three sarcoma patients (PET mask → CT grid, Dice against the CT's own mask,
benchmark ``transfer_pet_to_ct``): nearest 0.944 on average, fraction 0.955, distance without smoothing 0.963,
distance 0.973 (0.984 / 0.963 / 0.973; a Slicer-like closed surface 0.974); CT → PET 0.996–0.999 for all.

Work is cropped: the distance map is computed on the mask's bounding box padded by ``MARGIN_VOXELS`` (zeros beyond
the source grid), and only the target voxels inside that padded box's image are resampled (the volume is matched
before the target grid's edge cuts the box, so a mask partly outside the target keeps the volume of the part that
lands). Results are a target :class:`Box` and the boolean contents there.

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
MARGIN_VOXELS = 4  # ≥ the Gaussian's reach (truncated at 4 sigma of 0.75 voxel) plus one outside voxel
SMOOTHING_VOXELS = 0.75  # sigma of the distance map's smoothing along a coarse source axis (source voxels)
COARSER = 1.5  # a source axis is coarse when its voxels exceed the target's spacing along it by this factor
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


def target_box(source_box_grid: ImageGeometry, target: ImageGeometry, target_to_source: LayerTransform,
               clip: bool = True) -> Box:
    """The target voxels whose centres can fall inside ``source_box_grid`` (its 8 corners mapped, then the
    enclosing index box; clipped to the target grid unless ``clip`` is False)."""
    size = np.asarray(source_box_grid.size, dtype=float)
    corners = np.array(list(itertools.product(*[(-0.5, s - 0.5) for s in size])))
    points = target_to_source.map_to_reference(source_box_grid.index_to_patient(corners))
    index = target.patient_to_index(points)
    lo, hi = np.floor(index.min(axis=0)).astype(int), np.ceil(index.max(axis=0)).astype(int) + 1
    if clip:
        lo, hi = np.maximum(lo, 0), np.minimum(hi, np.asarray(target.size))
    return Box(tuple(int(v) for v in lo[::-1]), tuple(int(max(a, b)) for a, b in zip(lo[::-1], hi[::-1])))


def smoothing_sigma_voxels(source: ImageGeometry, target: ImageGeometry,
                           target_to_source: LayerTransform) -> np.ndarray:
    """Gaussian sigma (source voxels, numpy order k, j, i) for the distance map: ``SMOOTHING_VOXELS`` along each
    source axis whose voxels are more than ``COARSER`` times the target's spacing along it, else 0."""
    linear = target_to_source.reference_to_layer[:3, :3]
    # |component of each target axis step, seen in the source, along each source axis|
    steps = np.abs(source.direction.T @ linear @ target.direction) * target.spacing[np.newaxis, :]
    along = steps.sum(axis=1)  # the target's spacing along source axes i, j, k (exact for aligned grids)
    return np.where(source.spacing > COARSER * along, SMOOTHING_VOXELS, 0.0)[::-1]


def _resample(values: np.ndarray, grid: ImageGeometry, target_grid: ImageGeometry, transform: LayerTransform,
              interpolator, fill: float) -> np.ndarray:
    image = apply_geometry(sitk.GetImageFromArray(values), grid)
    reference = apply_geometry(sitk.Image([int(s) for s in target_grid.size], sitk.sitkUInt8), target_grid)
    out = sitk.Resample(image, reference, sitk_transform(transform), interpolator, float(fill),
                        image.GetPixelID())
    return sitk.GetArrayFromImage(out)


def _volume_matched(field: np.ndarray, voxels: float) -> np.ndarray:
    """``field`` shifted so that exactly its ``voxels`` lowest values are negative."""
    n = int(round(voxels))
    if n <= 0:
        return np.full_like(field, _OUTSIDE)
    if n >= field.size:
        return np.full_like(field, -_OUTSIDE)
    return field - np.partition(field.ravel(), n)[n]


def _smoothed_distance(crop, grid, target, transform, mask_voxels: int, target_voxel_mm3: float):
    """The distance method's field on the unclipped target box (negative inside) and that box."""
    from scipy import ndimage

    values = signed_distance_mm(crop, grid.spacing[::-1])
    sigma = smoothing_sigma_voxels(grid, target, transform)
    box = target_box(grid, target, transform, clip=not sigma.any())
    if box.empty:
        return box, None
    field = _resample(values if not sigma.any() else ndimage.gaussian_filter(values, sigma, mode="nearest"),
                      grid, sub_geometry(target, box), transform, sitk.sitkLinear, _OUTSIDE)
    if sigma.any():
        field = _volume_matched(field, mask_voxels * grid.voxel_volume_mm3 / target_voxel_mm3)
        clipped = box.intersection(Box.whole(target.shape))
        if clipped.empty:
            return clipped, None
        field, box = field[clipped.relative_to(box)], clipped
    return box, field


def transferred_field(mask: MaskLike, source: ImageGeometry, target: ImageGeometry,
                      target_to_source: LayerTransform | None = None,
                      method: str = "distance") -> tuple[Box, np.ndarray] | None:
    """The method's field on the target box (distance: mm, negative inside; fraction: ≥ 0.5 inside; nearest: 0 / 1),
    None when the mask is empty or lands outside the target grid."""
    if method not in METHODS:
        raise ValueError(f"unknown transfer method {method!r}; one of {', '.join(METHODS)}")
    transform = target_to_source or LayerTransform.identity()
    padded = _padded_source(mask, source)
    if padded is None:
        return None
    crop, grid = padded
    if method == "distance":
        box, field = _smoothed_distance(crop, grid, target, transform, int(np.count_nonzero(crop)),
                                        target.voxel_volume_mm3)
        return None if field is None else (box, field)
    box = target_box(grid, target, transform)
    if box.empty:
        return None
    target_grid = sub_geometry(target, box)
    if method == "fraction":
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
