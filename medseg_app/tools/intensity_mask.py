"""Voxels whose intensity lies in [lower, upper], written into reused buffers, with their bounding box.

Integer images are compared in their own type (bounds rounded inwards), which costs one subtraction and one
comparison per voxel: ``lower <= v <= upper`` is ``(v - lower) mod 2^n <= upper - lower`` read as unsigned.
The volume is processed a few slices at a time so that the scratch array stays in cache and the box comes
from per-chunk projections instead of extra passes over the whole mask.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.box import Box

CHUNK_VOXELS = 1 << 20


def image_bounds(dtype, lower: float | None, upper: float | None) -> tuple[float, float] | None:
    """``(lo, hi)`` in the image's own type with ``lower <= v <= upper`` ⇔ ``lo <= v <= hi``; None: nothing fits.

    ``None`` for a bound means open-ended.
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer) or dtype == bool:
        info = np.iinfo(np.uint8 if dtype == bool else dtype)
        if (lower is not None and lower > info.max) or (upper is not None and upper < info.min):
            return None
        lo = info.min if lower is None or lower <= info.min else math.ceil(lower)
        hi = info.max if upper is None or upper >= info.max else math.floor(upper)
        return None if lo > hi else (int(lo), int(hi))
    lo = -math.inf if lower is None else float(lower)
    hi = math.inf if upper is None else float(upper)
    return None if lo > hi else (lo, hi)


def _in_range(values: np.ndarray, bounds, out: np.ndarray, scratch: np.ndarray | None) -> None:
    lo, hi = bounds
    if np.issubdtype(values.dtype, np.integer):
        unsigned = np.dtype(f"u{values.dtype.itemsize}")
        np.subtract(values, values.dtype.type(lo), out=scratch, casting="unsafe")
        np.less_equal(scratch.view(unsigned), unsigned.type(hi - lo), out=out)
    else:
        np.greater_equal(values, lo, out=out)
        out &= values <= hi


def range_mask_slice(plane: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    """The 2-D mask of one slice (a new array, cheap: one or two passes over the slice)."""
    out = np.empty(plane.shape, bool)
    bounds = image_bounds(plane.dtype, lower, upper)
    if bounds is None:
        out.fill(False)
        return out
    if plane.dtype == bool:
        plane = plane.view(np.uint8)
    scratch = np.empty(plane.shape, plane.dtype) if np.issubdtype(plane.dtype, np.integer) else None
    _in_range(plane, bounds, out, scratch)
    return out


def range_mask(image: np.ndarray, lower: float | None, upper: float | None,
               out: np.ndarray | None = None) -> tuple[np.ndarray, Box, int]:
    """Fill ``out`` (bool, image's shape; allocated when None) and return it, its tight box and its count."""
    if out is None:
        out = np.empty(image.shape, bool)
    bounds = image_bounds(image.dtype, lower, upper)
    if bounds is None or image.size == 0:
        out.fill(False)
        return out, Box((0, 0, 0), (0, 0, 0)), 0
    if image.dtype == bool:
        image = image.view(np.uint8)
    depth = image.shape[0]
    step = max(1, CHUNK_VOXELS // max(1, image.shape[1] * image.shape[2]))
    scratch = np.empty((step,) + image.shape[1:], image.dtype) if np.issubdtype(image.dtype, np.integer) else None
    plane_hits = np.zeros(image.shape[1:], bool)
    slice_hits = np.zeros(depth, bool)
    count = 0
    for k0 in range(0, depth, step):
        k1 = min(depth, k0 + step)
        chunk = out[k0:k1]
        _in_range(image[k0:k1], bounds, chunk, None if scratch is None else scratch[: k1 - k0])
        projection = np.logical_or.reduce(chunk, axis=0)
        if projection.any():
            plane_hits |= projection
            slice_hits[k0:k1] = chunk.any(axis=(1, 2))
            count += int(np.count_nonzero(chunk))
    return out, _box_from_hits(slice_hits, plane_hits), count


def tight_box(mask: np.ndarray, offset=(0, 0, 0)) -> Box:
    """Bounding box of the True voxels of a 3-D ``mask`` (two reductions instead of Box.of_mask's three)."""
    return _box_from_hits(mask.any(axis=(1, 2)), np.logical_or.reduce(mask, axis=0), offset)


def _box_from_hits(slice_hits: np.ndarray, plane_hits: np.ndarray, offset=(0, 0, 0)) -> Box:
    ks = np.flatnonzero(slice_hits)
    if ks.size == 0:
        return Box(tuple(offset), tuple(offset))
    js = np.flatnonzero(plane_hits.any(axis=1))
    is_ = np.flatnonzero(plane_hits.any(axis=0))
    start = (ks[0], js[0], is_[0])
    stop = (ks[-1] + 1, js[-1] + 1, is_[-1] + 1)
    return Box(tuple(int(a + o) for a, o in zip(start, offset)), tuple(int(b + o) for b, o in zip(stop, offset)))


class AlternatingBuffers:
    """Two full-size bool buffers used in turn, so the previous preview's region (a view into one of them)
    stays valid while the next preview is computed into the other."""

    def __init__(self):
        self._buffers: list[np.ndarray] = []
        self._turn = 0

    def next(self, shape) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        if not self._buffers or self._buffers[0].shape != shape:
            self._buffers = [np.empty(shape, bool), np.empty(shape, bool)]
        self._turn ^= 1
        return self._buffers[self._turn]

    def release(self) -> None:
        self._buffers = []
