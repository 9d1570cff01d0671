"""Segment masks cropped to their bounding box (plus a margin) as numpy arrays and SimpleITK images.

Every correction tool works on such a crop, never on a full-size array: spacing is passed on so that
millimetre parameters stay correct on anisotropic grids. Spacing here is in numpy order (k, j, i).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from ..core.box import Box
from ..core.geometry import ImageGeometry
from ..core.sparse_mask import SparseMask


def spacing_kji(geometry: ImageGeometry) -> np.ndarray:
    return np.asarray(geometry.spacing, float)[::-1]


def radius_voxels(radius_mm: float, spacing: np.ndarray) -> np.ndarray:
    """Per-axis whole-voxel radius covering ``radius_mm`` (at least 0)."""
    return np.maximum(0, np.floor(abs(radius_mm) / np.asarray(spacing, float) + 1e-6)).astype(int)


def kernel_radius_voxels(kernel_mm: float, spacing: np.ndarray) -> np.ndarray:
    """Slicer's convention: ``kernel_mm`` rounded to whole voxels per axis, made odd (2 × radius + 1)."""
    return np.round(kernel_mm / np.asarray(spacing, float)).astype(int) // 2


def crop(mask: SparseMask, pad, shape) -> tuple[Box, np.ndarray]:
    """The mask's bounding box grown by ``pad`` voxels (clipped to ``shape``) and the mask inside it."""
    box = mask.box.padded(pad, shape)
    return box, mask.read(box)


def to_image(region: np.ndarray, spacing: np.ndarray, dtype=np.uint8) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(region, dtype=dtype))
    image.SetSpacing([float(s) for s in np.asarray(spacing, float)[::-1]])
    return image


def from_image(image: sitk.Image) -> np.ndarray:
    # A copy: a view would dangle once the temporary image is freed.
    return sitk.GetArrayFromImage(image)


def ellipsoid(radius_mm: float, spacing: np.ndarray, flat_axis: int | None = None) -> np.ndarray:
    """Voxels whose centre lies within ``radius_mm`` of the centre voxel's centre (an ellipse in voxels).

    ``flat_axis`` (numpy axis) gives a one-voxel-thick disc lying across that axis.
    """
    spacing = np.asarray(spacing, float)
    reach = radius_voxels(radius_mm, spacing)
    if flat_axis is not None:
        reach[flat_axis] = 0
    grids = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    distance2 = sum((g * s) ** 2 for g, s in zip(grids, spacing))
    footprint = distance2 <= radius_mm ** 2 + 1e-9
    footprint[tuple(reach)] = True  # a brush smaller than a voxel still paints the voxel under it
    return footprint
