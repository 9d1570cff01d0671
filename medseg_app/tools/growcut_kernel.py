"""GrowCut as 3D Slicer's "Grow from seeds" runs it (FastGrowCut, Zhu et al. 2014): a Dijkstra competition.

Every voxel takes the label of the seed whose path to it has the smallest cost, a path's cost being the sum of
``|I(p) - I(q)|`` over its steps (6-connected here; Slicer's FastGrowCut uses 26 neighbours). Ties go to the
smaller label, so a result never depends on the order the heap happens to pop equal keys: the state
``(distance, label)`` is the unique fixpoint "seeds hold (0, their label); any other passable voxel holds the
lexicographic minimum over its neighbours of (their distance + step cost, their label)".

Incremental (Slicer's "adaptive Dijkstra"): after seeds are only added, the last state is an upper bound of the
new fixpoint, so a Dijkstra started from the added seeds alone, relaxing only what decreases, reaches exactly the
fixpoint a full run from all seeds gives (``tests/test_graph_methods.py`` checks it voxel for voxel).

Why numba: the competition is one priority-queue pass over the crop; scipy.sparse.csgraph.dijkstra needs one run
per label plus a 12-edges-per-voxel sparse matrix (1.6 s per label on 2 M voxels, the edge matrix 0.9 s more),
where this indexed binary heap takes a fraction of a second; itk-growcut would bring ITK (and its own copy of
the image) for the same algorithm. The kernel is compiled on first use and cached beside this file where its
source is (a frozen bundle without sources compiles it once per run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

UNREACHED = np.float32(np.inf)
CACHE = Path(__file__).suffix == ".py" and Path(__file__).is_file()  # numba's cache needs the source file


@njit(cache=CACHE, inline="always")
def _before(key_a, label_a, key_b, label_b):
    return key_a < key_b or (key_a == key_b and label_a < label_b)


@njit(cache=CACHE)
def _place(heap, keys, labels, position, at, voxel, key, lab):
    heap[at] = voxel
    keys[at] = key
    labels[at] = lab
    position[voxel] = at


@njit(cache=CACHE)
def _sift_up(heap, keys, labels, position, at):
    voxel, key, lab = heap[at], keys[at], labels[at]
    while at > 0:
        parent = (at - 1) >> 1
        if not _before(key, lab, keys[parent], labels[parent]):
            break
        _place(heap, keys, labels, position, at, heap[parent], keys[parent], labels[parent])
        at = parent
    _place(heap, keys, labels, position, at, voxel, key, lab)


@njit(cache=CACHE)
def _sift_down(heap, keys, labels, position, at, size):
    voxel, key, lab = heap[at], keys[at], labels[at]
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and _before(keys[child + 1], labels[child + 1], keys[child], labels[child]):
            child += 1
        if not _before(keys[child], labels[child], key, lab):
            break
        _place(heap, keys, labels, position, at, heap[child], keys[child], labels[child])
        at = child
    _place(heap, keys, labels, position, at, voxel, key, lab)


@njit(cache=CACHE)
def grow(image, passable, pinned, dist, label, starts, shape):
    """Relax from ``starts`` (flat indices whose dist/label are already set) until nothing decreases.

    ``image`` float32, ``passable`` / ``pinned`` (seeds: never relabelled) bool, ``dist`` float32 and ``label``
    int32 are flat arrays of the crop (numpy order, ``shape``), updated in place. Returns how many voxels were
    settled (a voxel a warm start lowers again counts again).
    """
    nz, ny, nx = shape[0], shape[1], shape[2]
    plane = ny * nx
    size_total = image.size
    heap = np.empty(size_total, np.int64)  # a binary heap of voxels with their keys beside them
    keys = np.empty(size_total, np.float32)
    labels = np.empty(size_total, np.int32)
    position = np.full(size_total, -1, np.int64)  # where a voxel sits in the heap; -1 not queued, -2 settled
    size = 0
    for voxel in starts:
        if position[voxel] >= 0:
            continue
        _place(heap, keys, labels, position, size, voxel, dist[voxel], label[voxel])
        size += 1
        _sift_up(heap, keys, labels, position, size - 1)
    settled = 0
    while size > 0:
        voxel = heap[0]
        size -= 1
        position[voxel] = -2
        if size > 0:
            _place(heap, keys, labels, position, 0, heap[size], keys[size], labels[size])
            _sift_down(heap, keys, labels, position, 0, size)
        settled += 1
        d, lab, value = dist[voxel], label[voxel], image[voxel]
        z = voxel // plane
        y = (voxel - z * plane) // nx
        x = voxel - z * plane - y * nx
        for step in range(6):
            if step == 0:
                if x == 0:
                    continue
                q = voxel - 1
            elif step == 1:
                if x == nx - 1:
                    continue
                q = voxel + 1
            elif step == 2:
                if y == 0:
                    continue
                q = voxel - nx
            elif step == 3:
                if y == ny - 1:
                    continue
                q = voxel + nx
            elif step == 4:
                if z == 0:
                    continue
                q = voxel - plane
            else:
                if z == nz - 1:
                    continue
                q = voxel + plane
            if not passable[q] or pinned[q]:
                continue
            candidate = d + np.float32(abs(value - image[q]))
            if candidate < dist[q] or (candidate == dist[q] and lab < label[q]):
                dist[q] = candidate
                label[q] = lab
                at = position[q]
                if at < 0:  # unreached, or settled earlier with a larger key (a warm start): queued again
                    at = size
                    size += 1
                _place(heap, keys, labels, position, at, q, candidate, lab)
                _sift_up(heap, keys, labels, position, at)
    return settled
