"""The one contract every segmentation tool follows, as 3D Slicer's Segment Editor effects do.

A tool has an ``id``, a ``title`` and ``parameters`` with defaults. ``activate(context)`` binds it to an image
and a segmentation; ``preview(**inputs)`` computes what ``apply()`` would do without touching any segment
(it may run in a worker thread: it reads the context and returns numpy arrays only); ``apply()`` commits
the last preview as one undo step; ``cancel()`` drops it. Option widgets live in ``medseg_app.ui``, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.box import Box
from ..core.segmentation import Segmentation
from ..core.volume import Volume

CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    label: str = ""
    kind: str = "float"  # float, int, bool, choice, text
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    unit: str = ""  # "mm", "mm³", "HU" ...


@dataclass
class EditContext:
    volume: Volume
    segmentation: Segmentation
    segment_id: int | None = None  # the active segment the tool edits

    @property
    def image(self) -> np.ndarray:
        return self.volume.array


@dataclass
class Preview:
    """What apply() would write: per segment, a box and the region in it, and how (add / remove / set)."""

    changes: list[tuple[int, Box, np.ndarray, str]] = field(default_factory=list)
    info: dict = field(default_factory=dict)  # e.g. voxel count, chosen threshold

    def mask_for(self, segment_id: int) -> tuple[Box, np.ndarray] | None:
        for sid, box, region, _mode in self.changes:
            if sid == segment_id:
                return box, region
        return None


EMPTY_SEGMENT_REASON = "the segment is empty"


class Tool:
    id: str = ""
    title: str = ""
    parameters: tuple[Parameter, ...] = ()
    source: str = "manual"  # what a segment this tool fills from empty says it came from
    proposes: bool = False  # region growing and AI: the result is a proposal a human then corrects

    def __init__(self, **values):
        self.values = {p.name: p.default for p in self.parameters}
        self.set(**values)
        self.context: EditContext | None = None
        self.last_preview: Preview | None = None

    def set(self, **values) -> None:
        known = {p.name for p in self.parameters}
        for name, value in values.items():
            if name not in known:
                raise KeyError(f"{self.id} has no parameter {name!r}; it has {', '.join(sorted(known))}")
            self.values[name] = value

    def activate(self, context: EditContext) -> None:
        self.context = context
        self.last_preview = None

    def preview(self, cancelled: CancelFn | None = None, **inputs) -> Preview:
        self._require_context()
        self.last_preview = self.compute(cancelled=cancelled, **inputs)
        return self.last_preview

    def compute(self, cancelled: CancelFn | None = None, **inputs) -> Preview:
        raise NotImplementedError(f"{type(self).__name__} must implement compute()")

    def apply(self, preview: Preview | None = None) -> Box:
        """Commit ``preview`` (default: the last one) as one undo step; returns the changed box."""
        context = self._require_context()
        preview = preview or self.last_preview
        if preview is None:
            raise RuntimeError(f"{self.title}: nothing to apply; run preview() first")
        seg = context.segmentation
        changed = Box((0, 0, 0), (0, 0, 0))
        with seg.gesture(self.title):
            for segment_id, box, region, mode in preview.changes:
                segment = seg.segments[segment_id]
                was_empty = segment.mask.empty
                changed = changed.union(seg.modify(segment_id, box, region, mode, image=context.image))
                if was_empty and not segment.mask.empty:
                    if self.proposes:
                        segment.proposal = segment.mask.copy()
                    # listeners (the segment list) hear it; whatever the segment was read from before it was
                    # emptied (an RTSTRUCT ROI, a model) no longer describes it
                    seg.set_properties(segment_id, source=self.source, source_detail="")
        self.last_preview = None
        return changed

    def cancel(self) -> None:
        self.last_preview = None

    def _require_context(self) -> EditContext:
        if self.context is None:
            raise RuntimeError(f"{self.title}: activate() the tool on an image and a segmentation first")
        return self.context

    def _target_mask(self):
        """(context, segment id, mask) of the segment this tool edits."""
        context = self._require_context()
        segment_id = self._target()
        return context, segment_id, context.segmentation.segments[segment_id].mask

    def _target(self) -> int:
        context = self._require_context()
        segment_id = context.segment_id if context.segment_id is not None else context.segmentation.active_id
        if segment_id is None:
            raise RuntimeError(f"{self.title}: choose or add a segment to edit first")
        return segment_id
