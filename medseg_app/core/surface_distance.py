"""Exact nearest-surface distances, found by looking around each voxel before building any k-d tree.

Two delineations of one structure mostly lie within a voxel or two of each other. For each surface voxel of
``a`` the neighbouring offsets are tried in increasing physical distance, all those no longer than
(R + 1) × the smallest spacing (a length no offset outside the cube of radius R can undercut), so the first
hit is the exact nearest surface voxel of ``b``. The offsets go in blocks (per offset one gather over the
unresolved voxels from a shifted view of the mask, longest first, each hit writing its length), the
block growing as fewer voxels remain, so that the compaction is paid a few dozen times, not once per offset. Only the voxels still
unresolved (far outliers, typically a few per cent) go to a k-d tree. Every distance is the length of an
integer (k, j, i) offset computed one way, ``sqrt(sum((offset × spacing)²))``, the k-d tree's answers included.

The masks are addressed as flat positions in a zero-padded copy (:func:`padded_layout`), so that no offset
leaves the array and no index conversion is needed until the k-d tree; callers that build the surfaces can
write them straight into such a layout (``overlap_metrics`` does).
"""

from __future__ import annotations

import functools

import numpy as np

RADIUS = 4  # voxels: beyond ~4 the offsets outnumber what a k-d tree costs (the tree is built anyway)
PAD = RADIUS + 1  # the longest offset tried reaches RADIUS + 1 voxels along the finest axis
_BLOCKS = (1, 4, 8, 8, 16, 16, 32)  # offsets per gather, then 64 at a time
_CHUNK = 1 << 15  # points at a time: the gathered hits and their lengths stay in cache
_SAMPLE_STEP = 64  # every n-th target bounds the far voxels' distances before the k-d tree is built
_CELL = 8  # voxels: the grid on which those bounds select the targets worth putting in the tree


def padded_layout(shape, pad: int = PAD) -> tuple[tuple[int, int, int], tuple[slice, slice, slice]]:
    """The shape of a copy of an array of ``shape`` with ``pad`` zeros on every side, and its inner slices."""
    return tuple(int(s) + 2 * pad for s in shape), tuple(slice(pad, pad + int(s)) for s in shape)


def _flat_strides(padded_shape) -> np.ndarray:
    return np.array([padded_shape[1] * padded_shape[2], padded_shape[2], 1], dtype=np.int64)


def offsets_between(spacing: np.ndarray, shorter_than: float, at_least: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer (k, j, i) offsets with at_least < length <= shorter_than (mm), sorted by length."""
    # The tolerance keeps an offset of length exactly ``shorter_than`` that rounding would drop (e.g. 3 × 0.7 mm
    # along a 0.7 mm axis: 2.0999999999999996 / 0.7 floors to 2); extra offsets are filtered out below.
    reach = np.floor(shorter_than / spacing * (1 + 1e-9)).astype(int)
    axes = [np.arange(-r, r + 1) for r in reach]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    lengths = _lengths(grid, spacing)
    keep = (lengths > at_least) & (lengths <= shorter_than)
    order = np.argsort(lengths[keep], kind="stable")
    return grid[keep][order], lengths[keep][order]


def _lengths(offsets: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    return np.sqrt(((offsets * spacing) ** 2).sum(axis=1))


@functools.lru_cache(maxsize=16)
def _offset_blocks(spacing: tuple, padded_shape: tuple) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The offsets within reach, as flat steps in ``padded_shape``, in blocks of growing size."""
    spacing_array = np.asarray(spacing, dtype=float)
    offsets, lengths = offsets_between(spacing_array, (RADIUS + 1) * spacing_array.min(), -1.0)
    steps = offsets @ _flat_strides(padded_shape)
    blocks, start, n = [], 0, 0
    while start < len(steps):
        size = _BLOCKS[n] if n < len(_BLOCKS) else 64
        blocks.append((steps[start:start + size], lengths[start:start + size]))
        start, n = start + size, n + 1
    return tuple(blocks)


def flat_distances(where: np.ndarray, padded_b: np.ndarray, spacing_kji,
                   targets_b: np.ndarray | None = None) -> np.ndarray:
    """Distance (mm) from each flat position ``where`` of a padded layout (:func:`padded_layout` with
    :data:`PAD`) to the nearest True voxel of ``padded_b`` (same layout; ``targets_b``, if given, the flat
    positions of its True voxels)."""
    distances, unresolved = near_distances(where, padded_b, spacing_kji)
    far_distances(distances, unresolved, where, padded_b, spacing_kji, targets_b)
    return distances


def near_distances(where: np.ndarray, padded_b: np.ndarray, spacing_kji) -> tuple[np.ndarray, np.ndarray]:
    """The offsets' part of :func:`flat_distances`: the distances (inf where unresolved) and the indices
    of the unresolved positions. Independent per position, so parts of ``where`` may run in parallel."""
    spacing = np.asarray(spacing_kji, dtype=float)
    n = len(where)
    distances = np.full(n, np.inf)
    unresolved = np.arange(n)
    if n == 0:
        return distances, unresolved
    flat = padded_b.reshape(-1)
    blocks = _offset_blocks(tuple(float(s) for s in spacing), tuple(padded_b.shape))
    lowest = min(int(steps.min()) for steps, _ in blocks)
    # flat[where + step] is flat[step - lowest:][base]: a gather from a shifted view, no index arithmetic.
    base = np.asarray(where, dtype=np.int64) + lowest
    found = np.empty(min(n, _CHUNK))  # per point: the shortest length hit in this block, else inf
    hit_here = np.empty(len(found), dtype=bool)
    for steps, lengths in blocks:
        m = len(base)
        block = np.empty(m)
        for c0 in range(0, m, _CHUNK):
            part = base[c0:c0 + _CHUNK]
            best, here = found[:len(part)], hit_here[:len(part)]
            best.fill(np.inf)
            # Longest first, so that the shortest offset that hits is the one left written.
            for step, length in zip(steps[::-1], lengths[::-1]):
                np.take(flat[int(step) - lowest:], part, out=here, mode="clip")
                np.copyto(best, length, where=here)
            block[c0:c0 + len(part)] = best
        hit = block < np.inf
        if hit.any():
            distances[unresolved[hit]] = block[hit]
            missed = ~hit
            unresolved, base = unresolved[missed], base[missed]
            if unresolved.size == 0:
                break
    return distances, unresolved


def far_distances(distances: np.ndarray, unresolved: np.ndarray, where: np.ndarray, padded_b: np.ndarray,
                  spacing_kji, targets_b: np.ndarray | None = None) -> None:
    """The k-d tree's part of :func:`flat_distances`: fill ``distances[unresolved]``."""
    if len(unresolved):
        distances[unresolved] = _tree_distances(np.asarray(where, dtype=np.int64)[unresolved], padded_b,
                                                np.asarray(spacing_kji, dtype=float), targets_b)


def _coordinates(flat: np.ndarray, shape) -> np.ndarray:
    """(n, 3) indices (k, j, i) of flat positions in an array of ``shape``."""
    plane = shape[1] * shape[2]
    k, rest = np.divmod(flat, plane)
    j, i = np.divmod(rest, shape[2])
    return np.stack((k, j, i), axis=1)


def _tree_distances(where: np.ndarray, padded_b: np.ndarray, spacing: np.ndarray,
                    targets_b: np.ndarray | None) -> np.ndarray:
    from scipy.spatial import cKDTree  # here: scipy.spatial costs the GUI's start-up a fifth of a second

    if targets_b is None:
        targets_b = np.flatnonzero(padded_b)
    targets = _coordinates(targets_b, padded_b.shape)
    points = _coordinates(where, padded_b.shape)
    scaled = points * spacing
    if len(targets) > 16 * _SAMPLE_STEP:
        targets = targets[_candidates(targets, points, scaled, spacing, padded_b.shape)]
    # Unbalanced, uncompacted: builds in about 40 % of the time; only the few far voxels are queried.
    tree = cKDTree(targets * spacing, leafsize=32, balanced_tree=False, compact_nodes=False)
    nearest = tree.query(scaled, k=1, workers=-1)[1]
    return _lengths(targets[nearest] - points, spacing)


def _candidates(targets: np.ndarray, points: np.ndarray, scaled: np.ndarray, spacing: np.ndarray,
                shape) -> np.ndarray:
    """Which targets may be the nearest one of some point: every point's distance to a sample of the targets
    bounds its nearest distance; a target farther than that bound from all points cannot be nearest.

    The test is done on cells of _CELL³ voxels, conservatively: a cell's points share its largest bound, and
    a target is kept when its cell lies within that bound's reach (in cells, per axis) of such a cell.
    """
    from scipy import ndimage
    from scipy.spatial import cKDTree

    sample = cKDTree(targets[::_SAMPLE_STEP] * spacing, leafsize=32, balanced_tree=False, compact_nodes=False)
    bound = sample.query(scaled, k=1, workers=-1)[0]
    grid_shape = tuple(-(-int(s) // _CELL) for s in shape)
    cells = tuple((points // _CELL).T)
    unit = _CELL * float(spacing.min())
    level = np.zeros(grid_shape, np.int64)  # per cell: its largest bound, in whole units of the finest cell side
    np.maximum.at(level, cells, np.ceil(bound / unit).astype(np.int64) + 1)  # + 1: 0 means "no point here"
    keep = np.zeros(grid_shape, bool)
    for value in np.unique(level[cells]):
        reach = np.ceil((value - 1) * unit / (_CELL * spacing) + 1e-9).astype(int)
        keep |= ndimage.maximum_filter(level == value, size=tuple(2 * reach + 1), mode="constant")
    return keep[tuple((targets // _CELL).T)]


def nearest_distances(points_a: np.ndarray, surface_b: np.ndarray, spacing_kji,
                      points_b: np.ndarray | None = None) -> np.ndarray:
    """Distance (mm) from each voxel index in ``points_a`` (n, 3; k, j, i) to the nearest True voxel of
    ``surface_b`` (a bool array on the same crop; ``points_b``, if given, its True voxels' indices)."""
    if len(points_a) == 0:
        return np.full(0, np.inf)
    shape, inner = padded_layout(surface_b.shape)
    padded = np.zeros(shape, bool)
    padded[inner] = surface_b
    strides = _flat_strides(shape)
    where = (np.asarray(points_a, dtype=np.int64) + PAD) @ strides
    targets = None if points_b is None else (np.asarray(points_b, dtype=np.int64) + PAD) @ strides
    return flat_distances(where, padded, spacing_kji, targets)
