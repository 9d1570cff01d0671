"""Segment editing from Python, without Qt: the same tools, options and undo the GUI uses.

    editor = SegmentEditor(load_volume("resources/sample/STS_001/CT/dicom/image"))
    editor.add_segment("Bone")
    editor.run("threshold", preset="CT bone")
    editor.undo()

``run`` takes the tool's parameters as keywords and its inputs (``seeds``, ``index``, ``points``,
``slice_axis``) in ``inputs``; it previews and applies in one call and returns the Preview it applied.
"""

from __future__ import annotations

import numpy as np

from ..core.segmentation import EditOptions, Segmentation
from ..core.volume import Volume
from .base import CancelFn, EditContext, Preview, Tool
from .registry import make_tools


class SegmentEditor:
    def __init__(self, volume: Volume, segmentation: Segmentation | None = None):
        self.volume = volume
        self.segmentation = segmentation or Segmentation(volume.geometry)
        self.tools: dict[str, Tool] = make_tools()

    # --- segments ----------------------------------------------------------------------------
    def add_segment(self, name: str, colour=None, mask: np.ndarray | None = None) -> int:
        segment = self.segmentation.add_segment(name, colour=colour, mask=mask)
        self.segmentation.set_active(segment.id)
        return segment.id

    def segment_id(self, segment: int | str | None = None) -> int:
        if segment is None:
            if self.segmentation.active_id is None:
                raise ValueError("no segment to edit: add one first")
            return self.segmentation.active_id
        return segment if isinstance(segment, int) else self.segmentation.by_name(segment).id

    def mask(self, segment: int | str | None = None) -> np.ndarray:
        """The segment as a full-size bool array (a copy; segments are stored cropped)."""
        return self.segmentation.segments[self.segment_id(segment)].mask.to_dense()

    def set_options(self, intensity_range: tuple[float, float] | None = None, overwrite: str = "none") -> None:
        self.segmentation.options = EditOptions(intensity_range, overwrite)

    # --- tools -------------------------------------------------------------------------------
    def run(self, tool_id: str, segment: int | str | None = None, inputs: dict | None = None,
            cancelled: CancelFn | None = None, **parameters) -> Preview:
        """Preview and apply one tool on a segment (default: the active one) as one undo step."""
        tool = self.tools[tool_id]
        tool.set(**parameters)
        tool.activate(EditContext(self.volume, self.segmentation, self.segment_id(segment)))
        preview = tool.preview(cancelled=cancelled, **(inputs or {}))
        tool.apply(preview)
        return preview

    def paint_sphere(self, centre_index, diameter_mm: float, segment: int | str | None = None,
                     erase: bool = False) -> None:
        """One 3-D brush dab at voxel (i, j, k), as one undo step."""
        tool = self.tools["erase" if erase else "paint"]
        tool.set(diameter_mm=diameter_mm, shape="sphere")
        tool.activate(EditContext(self.volume, self.segmentation, self.segment_id(segment)))
        tool.begin_stroke(centre_index)
        tool.end_stroke()

    def undo(self) -> str | None:
        return self.segmentation.undo()

    def redo(self) -> str | None:
        return self.segmentation.redo()
