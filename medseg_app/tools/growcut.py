"""GrowCut on a crop, remembering its last state so that adding seeds re-grows only from the added ones.

:func:`grow_cut` labels every passable voxel of a crop by the seed that reaches it at the smallest summed
intensity difference (see :mod:`growcut_kernel`). It returns a :class:`GrowCutState`; given back with the next
call, that state is reused when the crop's intensities and passable voxels are the same and the new seeds keep
every old seed with its label: then only the added seeds are grown, and the result is the one a full run gives.
A removed or relabelled seed, a new crop or new intensities run it in full (as 3D Slicer's effect does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .growcut_kernel import UNREACHED, grow


@dataclass
class GrowCutState:
    image: np.ndarray  # float32 crop the distances were grown on
    passable: np.ndarray  # bool, same shape
    seed_voxels: np.ndarray  # sorted flat indices of the seeds
    seed_labels: np.ndarray  # int32, their labels (1, 2, ...)
    dist: np.ndarray  # float32 flat, summed |ΔI| from the nearest seed (inf: unreached)
    label: np.ndarray  # int32 flat, 0: unreached
    incremental: bool = False  # whether this state came from a warm start

    @property
    def labels(self) -> np.ndarray:
        return self.label.reshape(self.image.shape)


def seed_map(seeds: dict[int, np.ndarray], shape) -> tuple[np.ndarray, np.ndarray]:
    """(sorted flat indices, labels) of seeds {label: (N, 3) local k, j, i}; a voxel seeded twice keeps the
    smaller label."""
    flats, labels = [], []
    for lab, points in seeds.items():
        points = np.asarray(points, np.int64).reshape(-1, 3)
        flats.append(np.ravel_multi_index(tuple(points.T), shape))
        labels.append(np.full(len(points), lab, np.int32))
    flat, lab = np.concatenate(flats), np.concatenate(labels)
    order = np.lexsort((lab, flat))
    flat, lab = flat[order], lab[order]
    first = np.ones(len(flat), bool)
    first[1:] = flat[1:] != flat[:-1]
    return flat[first], lab[first]


def grow_cut(image: np.ndarray, passable: np.ndarray, seeds: dict[int, np.ndarray],
             last: GrowCutState | None = None) -> GrowCutState:
    """Label the crop ``image`` (float32; ``passable`` says where labels may go) from ``seeds`` {label ≥ 1:
    local (k, j, i) voxels}; ``last`` is the previous call's state (reused when only seeds were added)."""
    image = np.ascontiguousarray(image, np.float32)
    passable = np.ascontiguousarray(passable, bool)
    flat, labels = seed_map(seeds, image.shape)
    keep = passable.ravel()[flat]
    flat, labels = flat[keep], labels[keep]
    added = _added_seeds(last, image, passable, flat, labels)
    if added is None:
        dist = np.full(image.size, UNREACHED, np.float32)
        label = np.zeros(image.size, np.int32)
        starts, incremental = flat, False
    else:
        dist, label = last.dist.copy(), last.label.copy()
        starts, incremental = flat[added], True
    pinned = np.zeros(image.size, bool)
    pinned[flat] = True
    dist[starts] = 0.0
    label[starts] = labels[added] if incremental else labels
    grow(image.ravel(), passable.ravel(), pinned, dist, label, starts.astype(np.int64), np.array(image.shape))
    return GrowCutState(image, passable, flat, labels, dist, label, incremental)


def _added_seeds(last, image, passable, flat, labels) -> np.ndarray | None:
    """Where in ``flat`` the seeds added since ``last`` are, when a warm start gives the full run's result;
    None when it does not (no last state, other voxels, a seed removed or relabelled)."""
    if last is None or last.image.shape != image.shape or not np.array_equal(last.passable, passable):
        return None
    if not np.array_equal(last.image, image, equal_nan=True):
        return None
    at = np.searchsorted(flat, last.seed_voxels)
    if np.any(at >= len(flat)) or not np.array_equal(flat[np.minimum(at, len(flat) - 1)], last.seed_voxels):
        return None  # a seed was removed
    if not np.array_equal(labels[at], last.seed_labels):
        return None  # a seed changed segment
    added = np.ones(len(flat), bool)
    added[at] = False
    new = np.flatnonzero(added)
    # A new seed where the last state already held distance 0 with a smaller label would raise that voxel's
    # key; a warm start only lowers keys, so that case runs in full.
    old_dist, old_label = last.dist[flat[new]], last.label[flat[new]]
    if np.any((old_dist == 0) & (old_label < labels[new])):
        return None
    return new
