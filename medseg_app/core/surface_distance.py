"""Exact nearest-surface distances, found by looking around each voxel before building any k-d tree.

Two delineations of one structure mostly lie within a voxel or two of each other. For each surface voxel of
``a`` the neighbouring offsets are tried in increasing physical distance (one gather over the unresolved voxels
per offset), in stages: a stage tries every offset shorter than (R + 1) × the smallest spacing, a length no
offset outside the cube of radius R can undercut, so the first hit is the exact nearest surface voxel of ``b``.
Only the voxels still unresolved after the last stage (far outliers) go to a k-d tree. On two whole-body masks
(1.4 M surface voxels each) it takes HD95 from 3.5 s to about 0.8 s, with both directions in two threads.
"""

from __future__ import annotations

import numpy as np

STAGES = (1, 2, 4, 8)  # beyond ~8 voxels the offsets outnumber what a k-d tree costs


def _offsets_between(spacing: np.ndarray, shorter_than: float, at_least: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer (k, j, i) offsets with at_least < length <= shorter_than (mm), sorted by length."""
    reach = np.floor(shorter_than / spacing).astype(int)
    axes = [np.arange(-r, r + 1) for r in reach]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    lengths = np.sqrt(((grid * spacing) ** 2).sum(axis=1))
    keep = (lengths > at_least) & (lengths <= shorter_than)
    order = np.argsort(lengths[keep], kind="stable")
    return grid[keep][order], lengths[keep][order]


def nearest_distances(points_a: np.ndarray, surface_b: np.ndarray, spacing_kji,
                      points_b: np.ndarray | None = None) -> np.ndarray:
    """Distance (mm) from each voxel index in ``points_a`` (n, 3; k, j, i) to the nearest True voxel of
    ``surface_b`` (a bool array on the same crop; ``points_b``, if given, its True voxels' indices)."""
    spacing = np.asarray(spacing_kji, dtype=float)
    n = len(points_a)
    distances = np.full(n, np.inf)
    if n == 0:
        return distances
    pad = STAGES[-1] + 2  # the longest offset tried reaches (last stage + 1) voxels along the finest axis
    padded = np.pad(surface_b, pad)
    flat = padded.reshape(-1)
    strides = np.array([padded.shape[1] * padded.shape[2], padded.shape[2], 1], dtype=np.int64)
    where = (points_a.astype(np.int64) + pad) @ strides  # flat positions of the unresolved voxels
    unresolved = np.arange(n)
    shifted = np.empty_like(where)
    hit = np.empty(n, dtype=bool)
    tried = -1.0
    for radius in STAGES:
        bound = (radius + 1) * spacing.min()
        offsets, lengths = _offsets_between(spacing, bound, tried)
        tried = bound
        for offset, length in zip(offsets @ strides, lengths):
            m = len(where)
            np.add(where, offset, out=shifted[:m])
            np.take(flat, shifted[:m], out=hit[:m])
            found = hit[:m]
            if found.any():
                distances[unresolved[found]] = length
                missed = ~found
                unresolved, where = unresolved[missed], where[missed]
                if unresolved.size == 0:
                    return distances
    from scipy.spatial import cKDTree  # here: scipy.spatial costs the GUI's start-up a fifth of a second

    targets = np.argwhere(surface_b) if points_b is None else points_b
    # Unbalanced, uncompacted: builds in about 40 % of the time; only the few far voxels are queried.
    tree = cKDTree(targets * spacing, leafsize=32, balanced_tree=False, compact_nodes=False)
    distances[unresolved] = tree.query(points_a[unresolved] * spacing, k=1, workers=-1)[0]
    return distances
