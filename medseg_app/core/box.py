"""Axis-aligned voxel boxes in numpy order (k, j, i), half-open: the unit of sparse storage and undo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    start: tuple[int, int, int]  # inclusive (k, j, i)
    stop: tuple[int, int, int]  # exclusive (k, j, i)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(max(0, b - a) for a, b in zip(self.start, self.stop))

    @property
    def empty(self) -> bool:
        return any(s == 0 for s in self.shape)

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(a, b) for a, b in zip(self.start, self.stop))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def union(self, other: "Box") -> "Box":
        if self.empty:
            return other
        if other.empty:
            return self
        return Box(tuple(map(min, self.start, other.start)), tuple(map(max, self.stop, other.stop)))

    def intersection(self, other: "Box") -> "Box":
        start = tuple(map(max, self.start, other.start))
        stop = tuple(map(min, self.stop, other.stop))
        return Box(start, tuple(max(a, b) for a, b in zip(start, stop)))

    def relative_to(self, outer: "Box") -> tuple[slice, slice, slice]:
        """Slices that select this box inside an array covering ``outer``."""
        return tuple(slice(a - o, b - o) for a, b, o in zip(self.start, self.stop, outer.start))

    def padded(self, pad, shape) -> "Box":
        pad = np.broadcast_to(np.asarray(pad, int), (3,))
        return Box(tuple(int(max(0, a - p)) for a, p in zip(self.start, pad)),
                   tuple(int(min(s, b + p)) for b, p, s in zip(self.stop, pad, shape)))

    @classmethod
    def whole(cls, shape) -> "Box":
        return cls((0, 0, 0), tuple(int(s) for s in shape))

    @classmethod
    def of_mask(cls, mask: np.ndarray, offset=(0, 0, 0)) -> "Box":
        """Tight box around the True voxels of ``mask`` (shifted by ``offset``); empty when there are none."""
        start, stop = [], []
        for axis in range(3):
            other = tuple(a for a in range(3) if a != axis)
            hits = np.flatnonzero(mask.any(axis=other))
            if hits.size == 0:
                return cls(tuple(offset), tuple(offset))
            start.append(int(hits[0]) + offset[axis])
            stop.append(int(hits[-1]) + 1 + offset[axis])
        return cls(tuple(start), tuple(stop))
