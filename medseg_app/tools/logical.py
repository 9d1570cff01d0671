"""Logical operators between segments, as 3D Slicer's Logical operators effect.

copy (the segment becomes a copy of the other), union (add the other), intersect (keep only what the other
also covers), subtract (remove the other), invert (the segment becomes everything else in the image).
All but invert work on bounding boxes; invert needs one transient full-size array, as the result does.
"""

from __future__ import annotations

from ..core.box import Box
from .base import Parameter, Preview, Tool

OPERATIONS = ("copy", "union", "intersect", "subtract", "invert")


class LogicalTool(Tool):
    id = "logical"
    title = "Logical operators"
    parameters = (
        Parameter("operation", "union", "Operation", kind="choice", choices=OPERATIONS),
        # Which segment is the other operand: a segment id (the UI offers the segment list).
        Parameter("other_segment_id", 0, "Other segment", kind="int", minimum=0),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context = self._require_context()
        seg = context.segmentation
        segment_id = self._target()
        target = seg.segments[segment_id].mask
        operation = self.values["operation"]
        if operation == "invert":
            whole = Box.whole(seg.shape)
            return Preview([(segment_id, whole, ~target.read(whole), "set")])
        other_id = int(self.values["other_segment_id"])
        if other_id not in seg.segments or other_id == segment_id:
            raise ValueError(f"{self.title}: choose another segment (other_segment_id), not {other_id}")
        other = seg.segments[other_id].mask
        if operation == "copy":
            box = target.box.union(other.box)
            return Preview([(segment_id, box, other.read(box), "set")])
        if operation == "union":
            return Preview([(segment_id, other.box, other.data.copy(), "add")])
        if operation == "intersect":
            return Preview([(segment_id, target.box, ~other.read(target.box), "remove")])
        if operation == "subtract":
            box = target.box.intersection(other.box)
            return Preview([(segment_id, box, other.read(box), "remove")])
        raise ValueError(f"unknown operation {operation!r}; choose one of {OPERATIONS}")
