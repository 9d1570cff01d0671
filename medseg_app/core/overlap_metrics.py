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
from .surface_distance import PAD, far_distances, flat_distances, near_distances, padded_layout

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


SURFACE_SLAB_VOXELS = 1 << 19  # a few slices at a time: the erosion's scratch stays in cache


def surface_mask(crop: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The voxels of ``crop`` that have a 6-neighbour outside it (the crop's edge counting as outside).

    Written into ``out`` (bool, crop's shape, e.g. the inner part of a padded buffer) when given.
    """
    crop = np.asarray(crop, dtype=bool)
    if out is None:
        out = np.empty(crop.shape, bool)
    for k0, k1, scratch in _slabs(crop):
        _surface_slab(crop, k0, k1, scratch, out[k0:k1])
    return out


def _slabs(crop: np.ndarray):
    """(k0, k1, scratch) for a few slices at a time, the scratch reused (it stays in cache)."""
    depth = crop.shape[0]
    if crop.size == 0:
        return
    step = max(1, SURFACE_SLAB_VOXELS // max(1, crop.shape[1] * crop.shape[2]))
    scratch = np.empty((min(step, depth),) + crop.shape[1:], bool)
    for k0 in range(0, depth, step):
        k1 = min(depth, k0 + step)
        yield k0, k1, scratch[: k1 - k0]


def _surface_slab(crop: np.ndarray, k0: int, k1: int, interior: np.ndarray, out: np.ndarray) -> None:
    """``out`` = the surface of ``crop`` in slices k0:k1 (``interior``: scratch of that slab's shape)."""
    depth = crop.shape[0]
    part = crop[k0:k1]
    # interior = part and its 6 neighbours, the crop's edge counting as outside
    if k0 > 0:
        np.logical_and(part, crop[k0 - 1:k1 - 1], out=interior)
    else:
        interior[0] = False
        np.logical_and(part[1:], crop[k0:k1 - 1], out=interior[1:])
    if k1 < depth:
        interior &= crop[k0 + 1:k1 + 1]
    else:
        interior[-1] = False
        interior[:-1] &= crop[k0 + 1:k1]
    interior[:, 1:, :] &= part[:, :-1, :]
    interior[:, :-1, :] &= part[:, 1:, :]
    interior[:, :, 1:] &= part[:, :, :-1]
    interior[:, :, :-1] &= part[:, :, 1:]
    interior[:, (0, -1), :] = False
    interior[:, :, (0, -1)] = False
    np.logical_xor(part, interior, out=out)


def voxel_indices(mask: np.ndarray) -> np.ndarray:
    """(n, 3) indices (k, j, i) of the True voxels, in C order (flatnonzero is one pass; argwhere is three)."""
    return np.stack(np.unravel_index(np.flatnonzero(mask), mask.shape), axis=1)


def surface_voxels(crop: np.ndarray) -> np.ndarray:
    """(n, 3) indices (k, j, i) of the surface voxels of ``crop``."""
    return voxel_indices(surface_mask(crop))


def _padded_surface(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The surface of ``crop`` written into a zero-padded buffer, and its voxels' flat positions there."""
    shape, inner = padded_layout(crop.shape)
    padded = np.zeros(shape, bool)
    plane = shape[1] * shape[2]
    inside = padded[inner]
    flats = []
    for k0, k1, scratch in _slabs(crop):
        _surface_slab(crop, k0, k1, scratch, inside[k0:k1])
        # Whole padded planes are contiguous: their flat positions, read while the slab is still in cache.
        flats.append(np.flatnonzero(padded[PAD + k0:PAD + k1]) + (PAD + k0) * plane)
    return padded, np.concatenate(flats) if flats else np.zeros(0, np.int64)


def _padded_flat(flat_in_crop: np.ndarray, crop_shape) -> np.ndarray:
    """Flat positions in the padded layout of ``crop_shape`` for flat positions in the crop itself."""
    shape, _ = padded_layout(crop_shape)
    k, j, i = np.unravel_index(flat_in_crop, crop_shape)
    return ((k + PAD) * shape[1] + (j + PAD)) * shape[2] + (i + PAD)


def _union_box(a: MaskLike, b: MaskLike) -> Box:
    return _mask_box(a).union(_mask_box(b))


def _mask_box(mask: MaskLike) -> Box:
    if isinstance(mask, SparseMask):
        return mask.box
    mask = np.asarray(mask, dtype=bool)
    # Two reductions over the volume instead of Box.of_mask's three.
    slices = np.flatnonzero(mask.any(axis=(1, 2)))
    if slices.size == 0:
        return Box((0, 0, 0), (0, 0, 0))
    plane = np.logical_or.reduce(mask[slices[0]:slices[-1] + 1], axis=0)
    rows, columns = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
    return Box((int(slices[0]), int(rows[0]), int(columns[0])),
               (int(slices[-1]) + 1, int(rows[-1]) + 1, int(columns[-1]) + 1))


class _SurfacePair:
    """Both masks read on the union's bounding box and their surfaces, in padded layouts (flat positions)."""

    def __init__(self, a: MaskLike, b: MaskLike, spacing_kji):
        _check_same_grid(a, b)
        self.spacing = np.asarray(spacing_kji, dtype=float)
        # numpy releases the GIL on these whole-array passes: the two masks' work runs side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            box_a, box_b = pool.map(_mask_box, (a, b))
            union = box_a.union(box_b)
            self.crop_a, self.crop_b = _read(a, union), _read(b, union)
            (self.surface_a, self.flat_a), (self.surface_b, self.flat_b) = pool.map(
                _padded_surface, (self.crop_a, self.crop_b))
        self.empty = len(self.flat_a) == 0 or len(self.flat_b) == 0

    def surface_distances(self) -> tuple[np.ndarray, np.ndarray]:
        jobs = ((self.flat_a, self.surface_b, self.flat_b), (self.flat_b, self.surface_a, self.flat_a))
        # The offsets' part in halves of each direction (so that the threads stay busy however unequal the
        # directions), each direction's k-d tree for its far voxels queued as soon as its halves are done: a
        # third thread lets the larger tree start while the other direction's offsets still run.
        with ThreadPoolExecutor(max_workers=3) as pool:
            near = [[pool.submit(near_distances, part, surface, self.spacing)
                     for part in (where[: len(where) // 2], where[len(where) // 2:])]
                    for where, surface, _ in jobs]
            results, far = [], []
            for (where, surface, targets), halves in zip(jobs, near):
                (first, first_left), (second, second_left) = (h.result() for h in halves)
                distances = np.concatenate((first, second))
                unresolved = np.concatenate((first_left, second_left + len(first)))
                far.append(pool.submit(far_distances, distances, unresolved, where, surface, self.spacing, targets))
                results.append(distances)
            for f in far:
                f.result()
        return results[0], results[1]

    def hausdorff_mm(self) -> float:
        # The set distance (SimpleITK's): the voxel of one mask farthest from the other lies outside it, and the
        # nearest voxel of the other mask to any outside point is one of its surface voxels.
        shape = self.crop_a.shape
        directed = [flat_distances(_padded_flat(np.flatnonzero(outside), shape), surface, self.spacing, flat).max()
                    for outside, surface, flat in ((self.crop_a & ~self.crop_b, self.surface_b, self.flat_b),
                                                   (self.crop_b & ~self.crop_a, self.surface_a, self.flat_a))
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
