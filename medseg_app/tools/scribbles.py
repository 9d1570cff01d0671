"""Scribbles drawn from a rough mask, as a user would draw them: a stroke inside the object and a loop around it
on a few slices, and a patch beyond each end of it. What the graph-cut and GrowCut tests and benchmarks seed with
(deterministic, so their Dice values can be written down), and a headless way to refine a rough segment.

``scribbles_from_mask`` picks the slices (numpy axis 0) at 25 %, 50 % and 75 % of the mask's extent; on each, the
foreground is the mask eroded in-plane by ``core_mm`` and the background the one-voxel outline of the mask
dilated in-plane by ``ring_mm``; beyond both ends, ``ring_mm`` past the last slice, the background is that
dilated end slice, filled.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _disc(radius_mm: float, spacing_ji) -> np.ndarray:
    reach = np.maximum(1, np.round(radius_mm / np.asarray(spacing_ji, float))).astype(int)
    j, i = np.ogrid[-reach[0]:reach[0] + 1, -reach[1]:reach[1] + 1]
    return (j * spacing_ji[0]) ** 2 + (i * spacing_ji[1]) ** 2 <= radius_mm ** 2 + 1e-9


def scribbles_from_mask(mask: np.ndarray, spacing_kji, core_mm: float = 3.0,
                        ring_mm: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, background) voxels as (N, 3) arrays of (i, j, k) for a bool ``mask`` (k, j, i)."""
    spacing_kji = np.asarray(spacing_kji, float)
    ks = np.flatnonzero(mask.any(axis=(1, 2)))
    if ks.size == 0:
        raise ValueError("the mask is empty")
    first, last = int(ks[0]), int(ks[-1])
    core, ring = _disc(core_mm, spacing_kji[1:]), _disc(ring_mm, spacing_kji[1:])
    foreground, background = np.zeros(mask.shape, bool), np.zeros(mask.shape, bool)
    for k in sorted({first + round(f * (last - first)) for f in (0.25, 0.5, 0.75)}):
        plane = mask[k]
        inner = ndimage.binary_erosion(plane, core)
        if not inner.any():  # thinner than the core: the voxel deepest inside
            depth = ndimage.distance_transform_edt(plane, spacing_kji[1:])
            inner = depth == depth.max()
        foreground[k] = inner
        around = ndimage.binary_dilation(plane, ring)
        background[k] = around & ~ndimage.binary_erosion(around)
    gap = max(1, int(round(ring_mm / spacing_kji[0])))
    for end, beyond in ((first, first - gap), (last, last + gap)):
        if 0 <= beyond < mask.shape[0]:
            background[beyond] = ndimage.binary_dilation(mask[end], ring)
    return np.argwhere(foreground)[:, ::-1], np.argwhere(background)[:, ::-1]
