"""The one contract every segmentation tool follows, as 3D Slicer's Segment Editor effects do.

A tool has an ``id``, a ``title`` and ``parameters`` with defaults. ``activate(context)`` binds it to an image
and a segmentation; ``preview(**inputs)`` computes what ``apply()`` would do without touching any segment
(it may run in a worker thread: it reads the context and returns numpy arrays only); ``apply()`` commits
the last preview as one undo step; ``cancel()`` drops it. Option widgets live in ``medseg_app.ui``, never here.

Source layer (3D Slicer's "source volume"): a tool reads intensities from ``context.image``, which is the source
layer's voxels on the reference grid (``Study.on_reference``: linear, NaN outside the layer) when the context names
one, else the reference image itself; masks, boxes and spacings stay those of the reference grid
(``context.volume``). A NaN fails every comparison, so it never enters a mask. ``context.box_lps`` (two opposite
LPS corners, mm, in the reference's patient space) is the box a tool limited to a box works in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.box import Box
from ..core.prompt_box import voxels_in_lps_box
from ..core.segmentation import Segmentation
from ..core.study import ImageLayer, Study
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
    volume: Volume  # the reference image: its grid is the segmentation's
    segmentation: Segmentation
    segment_id: int | None = None  # the active segment the tool edits
    study: Study | None = None
    source_layer: int | None = None  # the study layer whose intensities tools read; None: the reference
    box_lps: np.ndarray | None = None  # (2, 3) opposite LPS corners (mm) of the box a tool may be limited to

    @property
    def layer(self) -> ImageLayer | None:
        """The source layer, or None when the tools read the reference."""
        if self.study is None or self.source_layer is None:
            return None
        layer = self.study.layer(self.source_layer)
        return None if layer is self.study.reference else layer

    @property
    def source_volume(self) -> Volume:
        """The source layer on the reference grid (resampled on first use: slow, call it off the GUI thread)."""
        layer = self.layer
        return self.volume if layer is None else self.study.on_reference(layer.id)

    @property
    def source_ready(self) -> bool:
        """Whether :attr:`source_volume` is at hand without resampling (what the GUI thread may read)."""
        layer = self.layer
        return layer is None or self.study.cached_on_reference(layer.id) is not None

    @property
    def units(self) -> str:
        """The source's units (HU, SUV, ...), known without resampling."""
        layer = self.layer
        return self.volume.units if layer is None else layer.units

    @property
    def source_name(self) -> str:
        layer = self.layer
        return "the reference" if layer is None else layer.name

    @property
    def image(self) -> np.ndarray:
        """The intensities tools read: the source layer's voxels on the reference grid (NaN outside it)."""
        return self.source_volume.array

    def box_voxels(self) -> Box:
        """The reference-grid voxels inside :attr:`box_lps` (numpy order); a ValueError when there is no box."""
        if self.box_lps is None:
            raise ValueError("draw a box first (the AI dock's Draw box, on any slice view)")
        box = voxels_in_lps_box(self.volume.geometry, self.box_lps)
        if box.empty:
            raise ValueError("the box lies outside the image")
        return box


@dataclass
class Preview:
    """What apply() would write: per segment, a box and the region in it, and how (add / remove / set)."""

    changes: list[tuple[int, Box, np.ndarray, str]] = field(default_factory=list)
    info: dict = field(default_factory=dict)  # e.g. voxel count, chosen threshold

    @property
    def empty(self) -> bool:
        """True when applying would change nothing (no change, or only empty additions)."""
        return all(mode == "add" and not region.any() for _sid, _box, region, mode in self.changes)

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
                image = context.image if seg.options.intensity_range is not None else None
                changed = changed.union(seg.modify(segment_id, box, region, mode, image=image))
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
