"""Split islands to segments: every connected component of a segment becomes a segment of its own.

As 3D Slicer's Islands effect "Split islands to segments": components (face-connected, or 26-connected with
``fully_connected``) by SimpleITK on the segment's bounding box (:func:`label_islands`), largest first. The
segment keeps the largest island and is renamed "<name> 1"; the others become new segments "<name> 2",
"<name> 3"... in decreasing size, with the segment's source (a segment of one island keeps its name). Islands
smaller than the minimum size (in voxels or mm³) are removed, as Slicer's minimum size does. The whole split, new
segments and rename included, is one undo step (segments added inside a gesture are taken out again by its
undo). The split only moves voxels between segments: it ignores the intensity range and never overwrites other
segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.box import Box
from ..core.segmentation import EditOptions
from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .islands import label_islands
from .mask_crops import crop

SIZE_UNITS = ("voxels", "mm³")


@dataclass
class SplitPreview(Preview):
    """The segment's change (``changes``: what leaves it) and the new segments, (name, box, region) each."""

    new_segments: list[tuple[str, Box, np.ndarray]] = field(default_factory=list)
    new_name: str = ""  # what the split segment is renamed to

    @property
    def empty(self) -> bool:
        return not self.new_segments and super().empty


class SplitIslandsTool(Tool):
    id = "split_islands"
    title = "Split islands"
    parameters = (
        Parameter("min_size", 0.0, "Minimum size", minimum=0.0),
        Parameter("size_unit", "voxels", "Size in", kind="choice", choices=SIZE_UNITS),
        Parameter("fully_connected", False, "Diagonal neighbours connect", kind="bool"),
    )

    def compute(self, cancelled=None, **inputs) -> SplitPreview:
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return SplitPreview(info={"reason": EMPTY_SEGMENT_REASON})
        box, region = crop(mask, 0, context.segmentation.shape)
        labels, counts = label_islands(region, bool(self.values["fully_connected"]))
        sizes = counts[1:] * (context.volume.geometry.voxel_volume_mm3 if self.values["size_unit"] == "mm³" else 1)
        kept = np.flatnonzero(sizes >= float(self.values["min_size"])) + 1  # labels are ordered by size
        name = context.segmentation.segments[segment_id].name
        removed = region & (labels != (kept[0] if len(kept) else -1))
        new_segments = []
        for number, label in enumerate(kept[1:], start=2):
            island = labels == label
            tight = Box.of_mask(island, box.start)
            new_segments.append((f"{name} {number}", tight, island[tight.relative_to(box)]))
        info = {"islands": len(counts) - 1, "segments": len(kept), "dropped": int(len(counts) - 1 - len(kept))}
        return SplitPreview([(segment_id, box, removed, "remove")], info, new_segments=new_segments,
                            new_name=f"{name} 1" if len(kept) > 1 else name)

    def apply(self, preview: SplitPreview | None = None) -> Box:
        context = self._require_context()
        preview = preview or self.last_preview
        if preview is None:
            raise RuntimeError(f"{self.title}: nothing to apply; run preview() first")
        seg, plain = context.segmentation, EditOptions()
        changed = Box((0, 0, 0), (0, 0, 0))
        with seg.gesture(self.title) as step:
            for segment_id, box, region, mode in preview.changes:
                changed = changed.union(seg.modify(segment_id, box, region, mode, options=plain))
                old_name = seg.segments[segment_id].name
                if preview.new_name != old_name:
                    seg.set_properties(segment_id, name=preview.new_name)
                    step.undo_actions.append(lambda s=segment_id, n=old_name: _rename(seg, s, n))
                    step.redo_actions.append(lambda s=segment_id, n=preview.new_name: _rename(seg, s, n))
                source = seg.segments[segment_id].source
                for name, box_new, island in preview.new_segments:
                    segment = seg.add_segment(name, source=source)
                    changed = changed.union(seg.modify(segment.id, box_new, island, "set", options=plain))
        self.last_preview = None
        return changed


def _rename(seg, segment_id: int, name: str) -> None:
    if segment_id in seg.segments:
        seg.set_properties(segment_id, name=name)
