"""Sparse undo: each step keeps, per segment touched, the bounding box of the change and the old values,
bit-packed and compressed; never a copy of the volume or of a whole segment (napari Labels, ITK-SNAP style).

One gesture (a brush stroke, one apply) is one step. The history is bounded by a memory budget: the oldest
steps are dropped when the compressed total exceeds it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .box import Box

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass
class MaskPatch:
    """Values of one segment's mask inside a box, compressed."""

    segment_id: int
    box: Box
    payload: bytes

    @classmethod
    def capture(cls, segment_id: int, box: Box, values: np.ndarray) -> "MaskPatch":
        packed = np.packbits(values.astype(bool, copy=False), axis=None)
        return cls(segment_id, box, zlib.compress(packed.tobytes(), 1))

    def values(self) -> np.ndarray:
        bits = np.unpackbits(np.frombuffer(zlib.decompress(self.payload), dtype=np.uint8), count=self.box.size)
        return bits.reshape(self.box.shape).astype(bool)

    @property
    def nbytes(self) -> int:
        return len(self.payload) + 64


@dataclass
class UndoStep:
    title: str
    patches: list[MaskPatch] = field(default_factory=list)  # old values, in the order they were captured
    # Structural changes (segment added / removed / renamed ...) carry their own undo and redo actions.
    undo_actions: list[Callable[[], None]] = field(default_factory=list)
    redo_actions: list[Callable[[], None]] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.patches) + 256 * len(self.undo_actions)

    @property
    def empty(self) -> bool:
        return not self.patches and not self.undo_actions


class UndoStack:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self._undo: list[UndoStep] = []
        self._redo: list[UndoStep] = []

    def push(self, step: UndoStep) -> None:
        if step.empty:
            return
        self._undo.append(step)
        self._redo.clear()
        while len(self._undo) > 1 and self.nbytes > self.budget_bytes:
            self._undo.pop(0)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._undo) + sum(s.nbytes for s in self._redo)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_title(self) -> str:
        return self._undo[-1].title if self._undo else ""

    def redo_title(self) -> str:
        return self._redo[-1].title if self._redo else ""

    def pop_undo(self) -> UndoStep | None:
        return self._undo.pop() if self._undo else None

    def pop_redo(self) -> UndoStep | None:
        return self._redo.pop() if self._redo else None

    def push_redo(self, step: UndoStep) -> None:
        self._redo.append(step)

    def push_undo_keep_redo(self, step: UndoStep) -> None:
        self._undo.append(step)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
