"""Voxels whose intensity lies in [lower, upper], written into reused buffers, with their bounding box.

Integer images are compared in their own type (bounds rounded inwards), which costs one subtraction and one
comparison per voxel: ``lower <= v <= upper`` is ``(v - lower) mod 2^n <= upper - lower`` read as unsigned;
when one bound is open (or the type's extreme) a single comparison does.
The volume is processed a few slices at a time so that the scratch array stays in cache and the box comes
from per-chunk projections instead of extra passes over the whole mask.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=256)
def _cached_plan(dtype: np.dtype, lower, upper) -> tuple:
    return _make_plan(dtype, lower, upper)


def _plan(dtype: np.dtype, lower, upper) -> tuple:
    """How to test ``lower <= v <= upper`` on values of ``dtype`` (bool images are read as uint8):
    ``("none",)``, ``("all",)``, ``("lower", lo)``, ``("upper", hi)``, ``("between", lo, unsigned, hi - lo)``
    for integers or ``("between_float", lo, hi)``. Cached: numpy's type queries cost tens of µs when cold,
    as much as comparing a whole 512 × 512 slice."""
    try:
        return _cached_plan(dtype, lower, upper)
    except TypeError:  # an unhashable bound
        return _make_plan(dtype, lower, upper)


def _make_plan(dtype: np.dtype, lower, upper) -> tuple:
    bounds = image_bounds(dtype, lower, upper)
    if bounds is None:
        return ("none",)
    lo, hi = bounds
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low_open, high_open = lo <= info.min, hi >= info.max
        if low_open and high_open:
            return ("all",)
        if high_open:
            return ("lower", dtype.type(lo))
        if low_open:
            return ("upper", dtype.type(hi))
        unsigned = np.dtype(f"u{dtype.itemsize}")
        return ("between", dtype.type(lo), unsigned, unsigned.type(hi - lo))
    # Floats: a NaN fails a single comparison as it fails both.
    if hi == math.inf:
        return ("lower", lo)
    if lo == -math.inf:
        return ("upper", hi)
    return ("between_float", lo, hi)


def _in_range(values: np.ndarray, plan: tuple, out: np.ndarray, scratch: np.ndarray | None) -> None:
    kind = plan[0]
    if kind == "lower":
        np.greater_equal(values, plan[1], out=out)
    elif kind == "between":
        if scratch is None:
            scratch = np.empty(values.shape, values.dtype)
        np.subtract(values, plan[1], out=scratch, casting="unsafe")
        np.less_equal(scratch.view(plan[2]), plan[3], out=out)
    elif kind == "upper":
        np.less_equal(values, plan[1], out=out)
    elif kind == "between_float":
        np.greater_equal(values, plan[1], out=out)
        out &= values <= plan[2]
    else:
        out.fill(kind == "all")


def range_mask_slice(plane: np.ndarray, lower: float | None, upper: float | None,
                     scratch: "SliceScratch | None" = None) -> np.ndarray:
    """The 2-D mask of one slice (a new array, cheap: one comparison when one bound is open, else a
    subtraction into ``scratch``'s reused buffer and one comparison)."""
    if plane.dtype == bool:
        plane = plane.view(np.uint8)
    plan = _plan(plane.dtype, lower, upper)
    out = np.empty(plane.shape, bool)
    buffer = scratch.get(plane.shape, plane.dtype) if scratch is not None and plan[0] == "between" else None
    _in_range(plane, plan, out, buffer)
    return out


class SliceScratch:
    """One reused scratch array for :func:`range_mask_slice` (fresh arrays cost page faults on every call)."""

    def __init__(self):
        self._buffer: np.ndarray | None = None

    def get(self, shape, dtype) -> np.ndarray:
        buffer = self._buffer
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffer = np.empty(shape, dtype)
        return buffer


def range_mask(image: np.ndarray, lower: float | None, upper: float | None,
               out: np.ndarray | None = None) -> tuple[np.ndarray, Box, int]:
    """Fill ``out`` (bool, image's shape; allocated when None) and return it, its tight box and its count."""
    if out is None:
        out = np.empty(image.shape, bool)
    if image.dtype == bool:
        image = image.view(np.uint8)
    plan = _plan(image.dtype, lower, upper)
    if plan[0] == "none" or image.size == 0:
        out.fill(False)
        return out, Box((0, 0, 0), (0, 0, 0)), 0
    depth = image.shape[0]
    step = max(1, CHUNK_VOXELS // max(1, image.shape[1] * image.shape[2]))
    scratch = np.empty((step,) + image.shape[1:], image.dtype) if plan[0] == "between" else None
    plane_hits = np.zeros(image.shape[1:], bool)
    slice_hits = np.zeros(depth, bool)
    count = 0
    for k0 in range(0, depth, step):
        k1 = min(depth, k0 + step)
        chunk = out[k0:k1]
        _in_range(image[k0:k1], plan, chunk, None if scratch is None else scratch[: k1 - k0])
        projection = np.logical_or.reduce(chunk, axis=0)
        if projection.any():
            plane_hits |= projection
            slice_hits[k0:k1] = chunk.any(axis=(1, 2))
            count += int(np.count_nonzero(chunk))
    return out, box_from_hits(slice_hits, plane_hits), count


def finite_filled(values: np.ndarray) -> np.ndarray:
    """``values`` with every NaN (outside a source layer) replaced by a value below all the others, so filters that
    cannot take NaN (gradients, confidence statistics) see an edge there and never a value in a seed's range."""
    if values.dtype.kind != "f":
        return values
    nan = np.isnan(values)
    if not nan.any():
        return values
    finite = values[~nan]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return np.where(nan, np.float32(low - (high - low) - 1.0), values).astype(values.dtype, copy=False)


def tight_box(mask: np.ndarray, offset=(0, 0, 0)) -> Box:
    """Bounding box of the True voxels of a 3-D ``mask`` (two reductions instead of Box.of_mask's three)."""
    return box_from_hits(mask.any(axis=(1, 2)), np.logical_or.reduce(mask, axis=0), offset)


def box_from_hits(slice_hits: np.ndarray, plane_hits: np.ndarray, offset=(0, 0, 0)) -> Box:
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
