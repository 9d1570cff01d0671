"""A binary mask stored as the contents of its bounding box: a lesion on a 512×512×300 CT costs kilobytes.

Invariant: ``data`` covers ``box`` exactly and ``box`` lies inside ``shape``; the box may be looser than the
content after erasing (``compact`` tightens it), never tighter.
"""

from __future__ import annotations

import numpy as np

from .box import Box


class SparseMask:
    def __init__(self, shape: tuple[int, int, int]):
        self.shape = tuple(int(s) for s in shape)
        self.box = Box((0, 0, 0), (0, 0, 0))
        self.data = np.zeros((0, 0, 0), dtype=bool)

    @classmethod
    def from_dense(cls, mask: np.ndarray) -> "SparseMask":
        sparse = cls(mask.shape)
        box = Box.of_mask(mask)
        if not box.empty:
            sparse.box, sparse.data = box, np.ascontiguousarray(mask[box.slices], dtype=bool)
        return sparse

    def copy(self) -> "SparseMask":
        other = SparseMask(self.shape)
        other.box, other.data = self.box, self.data.copy()
        return other

    # --- reading -----------------------------------------------------------------------------
    def read(self, box: Box) -> np.ndarray:
        """The mask's values inside ``box`` (a new array)."""
        out = np.zeros(box.shape, dtype=bool)
        common = self.box.intersection(box)
        if not common.empty:
            out[common.relative_to(box)] = self.data[common.relative_to(self.box)]
        return out

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=bool)
        if not self.box.empty:
            out[self.box.slices] = self.data
        return out

    def count(self) -> int:
        return int(np.count_nonzero(self.data))

    @property
    def empty(self) -> bool:
        return self.box.empty or not self.data.any()

    def slice_plane(self, axis: int, index: int) -> tuple[np.ndarray, Box] | None:
        """The 2-D cut at ``index`` along numpy ``axis`` of the stored box, or None when it misses the box."""
        if self.box.empty or not self.box.start[axis] <= index < self.box.stop[axis]:
            return None
        return np.take(self.data, index - self.box.start[axis], axis=axis), self.box

    # --- writing -----------------------------------------------------------------------------
    def _grow_to(self, box: Box) -> None:
        target = self.box.union(box)
        if target == self.box:
            return
        data = np.zeros(target.shape, dtype=bool)
        if not self.box.empty:
            data[self.box.relative_to(target)] = self.data
        self.box, self.data = target, data

    def write(self, box: Box, values: np.ndarray) -> None:
        """Set the mask inside ``box`` to ``values`` (bool, shape of the box)."""
        if box.empty:
            return
        if values.any():
            self._grow_to(box)
        common = self.box.intersection(box)
        if not common.empty:
            self.data[common.relative_to(self.box)] = values[common.relative_to(box)]

    def compact(self) -> None:
        """Shrink the stored box to the content (after erasing)."""
        inner = Box.of_mask(self.data, self.box.start)
        if inner.empty:
            self.box, self.data = Box((0, 0, 0), (0, 0, 0)), np.zeros((0, 0, 0), bool)
        elif inner != self.box:
            self.data = np.ascontiguousarray(self.data[inner.relative_to(self.box)])
            self.box = inner

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)
