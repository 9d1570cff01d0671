"""Named, possibly overlapping segments on one image grid, edited through one door with sparse undo.

Every change to a mask goes through :meth:`Segmentation.modify`, which applies the editing options (intensity
range, overwrite of other segments, locks), records the old values of the changed box for undo, and tells
listeners which segment changed and where. A gesture (``with seg.gesture("Paint"):``) groups many changes
into one undo step.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .box import Box
from .geometry import ImageGeometry
from .sparse_mask import SparseMask
from .undo import MaskPatch, UndoStack, UndoStep

# Imported structures say which file kind they came from ("RTSTRUCT", "SEG", "label map"), with the ROI / segment
# name as the file has it and the file's name in ``source_detail``.
SOURCES = ("manual", "threshold", "region growing", "AI model", "RTSTRUCT", "SEG", "label map")
OVERWRITE_MODES = ("none", "visible", "all")
PALETTE = [(230, 60, 50), (80, 200, 90), (70, 130, 230), (240, 200, 60), (200, 90, 210), (60, 210, 210),
           (250, 140, 60), (160, 110, 70), (150, 150, 250), (250, 150, 180)]

Listener = Callable[[str, int, Box | None], None]  # (what, segment id, changed box or None)


@dataclass
class Segment:
    id: int
    name: str
    colour: tuple[int, int, int]
    mask: SparseMask
    visible: bool = True
    opacity: float = 0.5
    locked: bool = False
    source: str = "manual"  # one of SOURCES; AI segments say which model in ``source_detail``
    source_detail: str = ""
    # The first proposal (AI or region growing) this segment began as, kept for the correction audit.
    proposal: SparseMask | None = None


@dataclass
class EditOptions:
    """3D Slicer's Segment Editor masking: edit only where intensity is in range; what happens to others."""

    intensity_range: tuple[float, float] | None = None
    overwrite: str = "none"  # "none" (overlap allowed), "visible" or "all" other unlocked segments

    def __post_init__(self):
        if self.overwrite not in OVERWRITE_MODES:
            raise ValueError(f"overwrite must be one of {OVERWRITE_MODES}")


class LockedSegmentError(ValueError):
    """An edit reached a locked segment; locks are never overridden."""


class Segmentation:
    def __init__(self, geometry: ImageGeometry, undo_budget_bytes: int | None = None):
        self.geometry = geometry
        self.shape = geometry.shape
        self.segments: dict[int, Segment] = {}
        self.active_id: int | None = None
        self.options = EditOptions()
        self.undo_stack = UndoStack() if undo_budget_bytes is None else UndoStack(undo_budget_bytes)
        self._next_id = 1
        self._gesture: UndoStep | None = None
        self._listeners: list[Listener] = []

    # --- observers ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str, segment_id: int, box: Box | None = None) -> None:
        for listener in list(self._listeners):
            listener(what, segment_id, box)

    # --- segments ----------------------------------------------------------------------------
    def add_segment(self, name: str | None = None, colour=None, source: str = "manual",
                    mask: np.ndarray | None = None) -> Segment:
        segment_id = self._next_id
        self._next_id += 1
        segment = Segment(
            id=segment_id,
            name=name or f"Segment_{segment_id}",
            colour=tuple(int(c) for c in (colour or PALETTE[(segment_id - 1) % len(PALETTE)])),
            mask=SparseMask(self.shape),
            source=source,
        )
        if self.active_id is None:  # before the "added" news, so listeners already see it as active
            self.active_id = segment_id
        self._insert(segment, len(self.segments))
        step = UndoStep(f"Add {segment.name}")
        step.undo_actions.append(lambda: self._take_out(segment_id))
        position = len(self.segments) - 1
        step.redo_actions.append(lambda: self._insert(segment, position))
        with self.gesture(f"Add {segment.name}", step):
            if mask is not None:
                self.modify(segment_id, Box.whole(self.shape), mask.astype(bool, copy=False), "set")
        return segment

    def remove_segment(self, segment_id: int) -> None:
        segment = self.segments[segment_id]
        position = list(self.segments).index(segment_id)
        self._take_out(segment_id)
        step = UndoStep(f"Delete {segment.name}")
        step.undo_actions.append(lambda: self._insert(segment, position))
        step.redo_actions.append(lambda: self._take_out(segment_id))
        self.undo_stack.push(step)

    def _insert(self, segment: Segment, position: int) -> None:
        items = list(self.segments.items())
        items.insert(position, (segment.id, segment))
        self.segments = dict(items)
        self._notify("added", segment.id, segment.mask.box)

    def _take_out(self, segment_id: int) -> None:
        segment = self.segments.pop(segment_id)
        if self.active_id == segment_id:
            self.active_id = next(iter(self.segments), None)
        self._notify("removed", segment_id, segment.mask.box)

    def set_properties(self, segment_id: int, **changes) -> None:
        """Rename, recolour, show / hide, set opacity, lock: name=, colour=, visible=, opacity=, locked=."""
        segment = self.segments[segment_id]
        for key, value in changes.items():
            if key not in ("name", "colour", "visible", "opacity", "locked", "source", "source_detail"):
                raise AttributeError(f"segments have no property {key!r}")
            setattr(segment, key, tuple(int(c) for c in value) if key == "colour" else value)
        self._notify("properties", segment_id, segment.mask.box)

    def set_active(self, segment_id: int | None) -> None:
        self.active_id = segment_id
        self._notify("active", segment_id or 0, None)

    def by_name(self, name: str) -> Segment:
        for segment in self.segments.values():
            if segment.name == name:
                return segment
        raise KeyError(name)

    # --- editing -----------------------------------------------------------------------------
    @contextmanager
    def gesture(self, title: str, step: UndoStep | None = None):
        """Group every change made inside into one undo step (a brush stroke, an apply)."""
        if self._gesture is not None:  # nested: the outer gesture owns the step, and takes on its actions
            if step is not None:
                self._gesture.undo_actions.extend(step.undo_actions)
                self._gesture.redo_actions.extend(step.redo_actions)
            yield self._gesture
            return
        self._gesture = step or UndoStep(title)
        try:
            yield self._gesture
        finally:
            finished, self._gesture = self._gesture, None
            self.undo_stack.push(finished)

    def modify(self, segment_id: int, box: Box, region: np.ndarray, mode: str = "add",
               image: np.ndarray | None = None, options: EditOptions | None = None) -> Box:
        """Add, remove or set ``region`` (bool, shape of ``box``) in a segment; returns the changed box.

        ``image`` (the volume's array) is needed only when the options restrict the intensity range.
        """
        options = options or self.options
        segment = self.segments[segment_id]
        if segment.locked:
            raise LockedSegmentError(f"segment {segment.name!r} is locked")
        if region.shape != box.shape:
            raise ValueError(f"region shape {region.shape} does not match box shape {box.shape}")
        requested, box = box, box.intersection(Box.whole(self.shape))
        region = region[box.relative_to(requested)]
        editable = np.ones(box.shape, bool)
        if options.intensity_range is not None and image is not None:
            lo, hi = options.intensity_range
            values = image[box.slices]
            editable = (values >= lo) & (values <= hi)
        old = segment.mask.read(box)
        if mode == "add":
            new = old | (region & editable)
        elif mode == "remove":
            new = old & ~(region & editable)
        elif mode == "set":
            new = np.where(editable, region, old)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        changed = new != old
        tight = Box.of_mask(changed, box.start)
        if tight.empty:
            return tight
        inner = tight.relative_to(box)
        with self.gesture("Edit"):
            self._write(segment, tight, old[inner], new[inner])
            added = (new & ~old)[inner]
            if options.overwrite != "none" and added.any():
                for other in self.segments.values():
                    if other.id == segment_id or other.locked:
                        continue
                    if options.overwrite == "visible" and not other.visible:
                        continue
                    before = other.mask.read(tight)
                    if (before & added).any():
                        self._write(other, tight, before, before & ~added)
        return tight

    def _write(self, segment: Segment, box: Box, old: np.ndarray, new: np.ndarray) -> None:
        self._gesture.patches.append(MaskPatch.capture(segment.id, box, old))
        segment.mask.write(box, new)
        self._notify("mask", segment.id, box)

    # --- undo / redo -------------------------------------------------------------------------
    def _swap(self, step: UndoStep, actions: list[Callable[[], None]]) -> UndoStep:
        """Restore a step's patches (last first) and return the step that puts back what was there."""
        reverse = UndoStep(step.title, undo_actions=step.undo_actions, redo_actions=step.redo_actions)
        for patch in reversed(step.patches):
            segment = self.segments.get(patch.segment_id)
            if segment is None:
                continue
            reverse.patches.append(MaskPatch.capture(patch.segment_id, patch.box, segment.mask.read(patch.box)))
            segment.mask.write(patch.box, patch.values())
            self._notify("mask", patch.segment_id, patch.box)
        for action in reversed(actions):  # undone last first (redo replays them in order)
            action()
        return reverse

    def undo(self) -> str | None:
        step = self.undo_stack.pop_undo()
        if step is None:
            return None
        # Patches are undone before the segment they belong to is taken out again (added segments).
        self.undo_stack.push_redo(self._swap(step, step.undo_actions))
        return step.title

    def redo(self) -> str | None:
        step = self.undo_stack.pop_redo()
        if step is None:
            return None
        for action in step.redo_actions:
            action()
        self.undo_stack.push_undo_keep_redo(self._swap(step, []))
        return step.title

    # --- views -------------------------------------------------------------------------------
    def visible_segments(self) -> list[Segment]:
        return [s for s in self.segments.values() if s.visible]

    def label_map(self, segment_ids: list[int] | None = None) -> np.ndarray:
        """A dense uint16 label map (later segments on top); labels are 1-based positions in ``segment_ids``."""
        ids = list(self.segments) if segment_ids is None else segment_ids
        out = np.zeros(self.shape, dtype=np.uint16)
        for label, segment_id in enumerate(ids, start=1):
            mask = self.segments[segment_id].mask
            if not mask.box.empty:
                view = out[mask.box.slices]
                view[mask.data] = label
        return out

    @property
    def nbytes(self) -> int:
        return sum(s.mask.nbytes for s in self.segments.values())
