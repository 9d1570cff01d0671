"""Overlap and surface-distance metrics between two masks on one grid, and the audit of a corrected proposal.

``a`` is the segment being judged, ``b`` the reference: ``volume_diff_ml = volume(a) − volume(b)`` and
``volume_diff_percent`` is that difference over the reference volume.

``hd_mm`` is the Hausdorff distance between the two voxel sets (mm, voxel centres), as SimpleITK's
HausdorffDistanceImageFilter computes it: a 4 mm margin gives 4 mm. HD95 and ASSD are surface distances as
MONAI's ``compute_hausdorff_distance`` / ``compute_average_surface_distance`` define them: a surface voxel is a
mask voxel with a 6-neighbour outside the mask (``mask ^ binary_erosion(mask)``, the image border counting as
outside); each surface voxel's distance is the Euclidean distance to the nearest surface voxel of the other
mask. HD95 is the larger of the two directed 95th percentiles (linear interpolation, as numpy and
torch.quantile), ASSD the mean over both surfaces' distances. (A surface voxel of one mask deep inside the
other has a surface distance but no set distance, so in rare shapes HD95 can exceed the set HD.)
Only the union's bounding box is read; distances are exact nearest-voxel distances (core/surface_distance.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .box import Box
from .sparse_mask import SparseMask
from .surface_distance import nearest_distances

MaskLike = SparseMask | np.ndarray


def mask_box_and_crop(mask: MaskLike) -> tuple[Box, np.ndarray]:
    """The mask's stored (or tight) bounding box and its contents there (a view where possible)."""
    if isinstance(mask, SparseMask):
        return mask.box, mask.data
    mask = np.asarray(mask, dtype=bool)
    box = Box.of_mask(mask)
    return box, mask[box.slices]


def _grid_shape(mask: MaskLike) -> tuple[int, int, int]:
    return tuple(mask.shape)


def _check_same_grid(a: MaskLike, b: MaskLike) -> None:
    if _grid_shape(a) != _grid_shape(b):
        raise ValueError(f"masks are on different grids: {_grid_shape(a)} vs {_grid_shape(b)}")


def _read(mask: MaskLike, box: Box) -> np.ndarray:
    if isinstance(mask, SparseMask):
        return mask.read(box)
    return np.asarray(mask[box.slices], dtype=bool)


def _voxel_count(mask: MaskLike) -> int:
    return mask.count() if isinstance(mask, SparseMask) else int(np.count_nonzero(mask))


def intersection_and_sizes(a: MaskLike, b: MaskLike) -> tuple[int, int, int]:
    """(|a ∩ b|, |a|, |b|) in voxels, reading only where both boxes overlap."""
    _check_same_grid(a, b)
    count_a, count_b = _voxel_count(a), _voxel_count(b)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _dense_intersection(a, b), count_a, count_b
    box_a = a.box if isinstance(a, SparseMask) else Box.whole(a.shape)
    box_b = b.box if isinstance(b, SparseMask) else Box.whole(b.shape)
    common = box_a.intersection(box_b)
    if common.empty:
        return 0, count_a, count_b
    return int(np.count_nonzero(_read(a, common) & _read(b, common))), count_a, count_b


def _dense_intersection(a: np.ndarray, b: np.ndarray, slab_voxels: int = 1 << 20) -> int:
    # Slab by slab through one small reused buffer: a whole-volume temporary costs more than the counting.
    step = max(1, slab_voxels // max(1, int(np.prod(a.shape[1:]))))
    buffer = np.empty((step,) + tuple(a.shape[1:]), bool)
    total = 0
    for start in range(0, a.shape[0], step):
        part = buffer[: min(step, a.shape[0] - start)]
        np.logical_and(a[start:start + step], b[start:start + step], out=part)
        total += int(np.count_nonzero(part))
    return total


def dice_and_jaccard(a: MaskLike, b: MaskLike) -> tuple[float | None, float | None]:
    """Dice and Jaccard coefficients; None for both when both masks are empty (undefined)."""
    both, count_a, count_b = intersection_and_sizes(a, b)
    if count_a + count_b == 0:
        return None, None
    return 2.0 * both / (count_a + count_b), both / (count_a + count_b - both)


def surface_mask(crop: np.ndarray) -> np.ndarray:
    """The voxels of ``crop`` that have a 6-neighbour outside it (the crop's edge counting as outside)."""
    interior = crop.copy()
    for axis in range(3):
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        interior[tuple(upper)] &= crop[tuple(lower)]
        interior[tuple(lower)] &= crop[tuple(upper)]
        edge = [slice(None)] * 3
        for end in (0, -1):
            edge[axis] = end
            interior[tuple(edge)] = False
    return np.logical_xor(crop, interior, out=interior)


def voxel_indices(mask: np.ndarray) -> np.ndarray:
    """(n, 3) indices (k, j, i) of the True voxels, in C order (flatnonzero is one pass; argwhere is three)."""
    return np.stack(np.unravel_index(np.flatnonzero(mask), mask.shape), axis=1)


def surface_voxels(crop: np.ndarray) -> np.ndarray:
    """(n, 3) indices (k, j, i) of the surface voxels of ``crop``."""
    return voxel_indices(surface_mask(crop))


def _surface_and_indices(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    surface = surface_mask(crop)
    return surface, voxel_indices(surface)


class _SurfacePair:
    """Both masks read on the union's bounding box and their surface voxels."""

    def __init__(self, a: MaskLike, b: MaskLike, spacing_kji):
        _check_same_grid(a, b)
        union = mask_box_and_crop(a)[0].union(mask_box_and_crop(b)[0])
        self.crop_a, self.crop_b = _read(a, union), _read(b, union)
        self.spacing = np.asarray(spacing_kji, dtype=float)
        # numpy releases the GIL on these whole-array passes: the two masks' work runs side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            (self.surface_a, self.index_a), (self.surface_b, self.index_b) = pool.map(
                _surface_and_indices, (self.crop_a, self.crop_b))
        self.empty = len(self.index_a) == 0 or len(self.index_b) == 0

    def surface_distances(self) -> tuple[np.ndarray, np.ndarray]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            a_to_b = pool.submit(nearest_distances, self.index_a, self.surface_b, self.spacing, self.index_b)
            b_to_a = pool.submit(nearest_distances, self.index_b, self.surface_a, self.spacing, self.index_a)
            return a_to_b.result(), b_to_a.result()

    def hausdorff_mm(self) -> float:
        # The set distance (SimpleITK's): the voxel of one mask farthest from the other lies outside it, and the
        # nearest voxel of the other mask to any outside point is one of its surface voxels.
        directed = [nearest_distances(np.argwhere(outside), surface, self.spacing, points).max()
                    for outside, surface, points in ((self.crop_a & ~self.crop_b, self.surface_b, self.index_b),
                                                     (self.crop_b & ~self.crop_a, self.surface_a, self.index_a))
                    if outside.any()]
        return float(max(directed, default=0.0))


def surface_distances(a: MaskLike, b: MaskLike, spacing_kji) -> tuple[np.ndarray, np.ndarray] | None:
    """Distances (mm) from each surface voxel of ``a`` to ``b``'s surface and back; None if either is empty."""
    pair = _SurfacePair(a, b, spacing_kji)
    return None if pair.empty else pair.surface_distances()


def _distance_summary(pair: _SurfacePair) -> dict:
    if pair.empty:
        return {"hd_mm": None, "hd95_mm": None, "assd_mm": None}
    a_to_b, b_to_a = pair.surface_distances()
    return {
        "hd_mm": pair.hausdorff_mm(),
        "hd95_mm": float(max(np.percentile(a_to_b, 95), np.percentile(b_to_a, 95))),
        "assd_mm": float((a_to_b.sum() + b_to_a.sum()) / (len(a_to_b) + len(b_to_a))),
    }


def compare_masks(a: MaskLike, b: MaskLike, spacing_kji) -> dict:
    """Segment ``a`` against reference ``b``: dice, jaccard, hd_mm, hd95_mm, assd_mm, volume_diff_ml, volume_diff_percent.

    Metrics that are undefined (a mask is empty) are None.
    """
    voxel_ml = float(np.prod(spacing_kji)) / 1000.0
    dice, jaccard = dice_and_jaccard(a, b)
    count_a, count_b = _voxel_count(a), _voxel_count(b)
    diff_ml = (count_a - count_b) * voxel_ml
    return {
        "dice": dice,
        "jaccard": jaccard,
        **_distance_summary(_SurfacePair(a, b, spacing_kji)),
        "volume_diff_ml": diff_ml,
        "volume_diff_percent": 100.0 * (count_a - count_b) / count_b if count_b else None,
    }


def correction_audit(proposal: MaskLike, current: MaskLike, spacing_kji) -> dict:
    """How much a user changed an AI / region-growing proposal: added_ml, removed_ml, dice, hd95_mm."""
    both, count_proposal, count_current = intersection_and_sizes(proposal, current)
    voxel_ml = float(np.prod(spacing_kji)) / 1000.0
    dice, _ = dice_and_jaccard(proposal, current)
    return {
        "added_ml": (count_current - both) * voxel_ml,
        "removed_ml": (count_proposal - both) * voxel_ml,
        "dice": dice,
        "hd95_mm": _distance_summary(_SurfacePair(current, proposal, spacing_kji))["hd95_mm"],
    }
