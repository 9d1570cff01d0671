"""An AI result written into the segmentation: one new segment per label, all in one undo step.

Each label mask becomes a segment named after the label ("GTV"; "GTV (model)" when that name is taken, then
"GTV (model) 2", …), with source "AI model" and the model's name as ``source_detail``. The mask is written as the
model gave it (the editing options' intensity range and overwrite do not apply: the segments are new and may
overlap others), and a copy is kept as the segment's ``proposal`` for the correction audit (statistics ▸ Audit),
as region growing does. The last new segment becomes the active one.
"""

from __future__ import annotations

from ...core.segmentation import EditOptions, Segmentation

SOURCE = "AI model"


def unique_name(taken: set[str], label: str, model: str) -> str:
    for name in (label, f"{label} ({model})"):
        if name not in taken:
            return name
    n = 2
    while f"{label} ({model}) {n}" in taken:
        n += 1
    return f"{label} ({model}) {n}"


def add_result_segments(segmentation: Segmentation, labels, model: str) -> list[int]:
    """Add ``labels`` (LabelMask-like: name, box, mask) as new segments in one undo step; their ids."""
    labels = [lm for lm in labels if lm.mask.any()]
    if not labels:
        return []
    ids: list[int] = []
    with segmentation.gesture(f"AI segmentation ({model})"):
        for label in labels:
            taken = {s.name for s in segmentation.segments.values()}
            segment = segmentation.add_segment(unique_name(taken, label.name, model), source=SOURCE)
            segmentation.modify(segment.id, label.box, label.mask.astype(bool, copy=False), "set",
                                options=EditOptions())
            segment.proposal = segment.mask.copy()
            segmentation.set_properties(segment.id, source_detail=model)
            ids.append(segment.id)
    segmentation.set_active(ids[-1])
    return ids
