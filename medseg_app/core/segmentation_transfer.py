"""A whole segmentation carried onto another layer's grid (Segment ▸ Copy segments to another layer…).

Each segment goes through :func:`core.mask_transfer.transfer_mask` (signed distance, interpolated linearly: keeps
volume and shape); name, colour, visibility, opacity, lock, source and its detail are kept. The new segmentation
starts with an empty undo history: the copy is a new document on a new grid, not an edit of the old one.
"""

from __future__ import annotations

from typing import Callable

from .errors import LoadCancelled
from .geometry import ImageGeometry
from .layer_transform import LayerTransform
from .mask_transfer import transfer_mask
from .segmentation import Segmentation
from .study import Study
from .undo import UndoStack


class TransferCancelled(LoadCancelled):
    """The user cancelled a transfer; nothing was changed."""


def carry_segmentation(segmentation: Segmentation, target: ImageGeometry, target_to_source: LayerTransform,
                       method: str = "distance", progress: Callable[[float], None] | None = None,
                       cancelled: Callable[[], bool] | None = None,
                       undo_budget_bytes: int | None = None) -> Segmentation:
    """Every segment of ``segmentation`` on ``target`` (``target_to_source``: target patient point → the
    segmentation's patient point), in the same order, with the same active segment."""
    out = Segmentation(target, undo_budget_bytes=undo_budget_bytes)
    segments = list(segmentation.segments.values())
    id_map = {}
    for n, segment in enumerate(segments):
        if cancelled is not None and cancelled():
            raise TransferCancelled()
        box, crop = transfer_mask(segment.mask, segmentation.geometry, target, target_to_source, method)
        copy = out.add_segment(segment.name, colour=segment.colour, source=segment.source)
        if not box.empty:
            copy.mask.write(box, crop)
            copy.mask.compact()
        copy.visible, copy.opacity, copy.locked = segment.visible, segment.opacity, segment.locked
        copy.source_detail = segment.source_detail
        id_map[segment.id] = copy.id
        if progress is not None:
            progress((n + 1) / max(len(segments), 1))
    out.active_id = id_map.get(segmentation.active_id, out.active_id)
    out.undo_stack = UndoStack(out.undo_stack.budget_bytes)
    return out


def rereferenced(study: Study, segmentation: Segmentation, layer_id: int, method: str = "distance",
                 progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> tuple[Study, Segmentation]:
    """The study with ``layer_id`` as its reference and the segmentation carried onto that layer's grid; the
    inputs are left as they were."""
    new_study = study.rereference(layer_id)
    # the new reference's points → the old reference's points, where the segmentation lives
    new_to_old = new_study.layer(study.reference.id).transform
    carried = carry_segmentation(segmentation, new_study.geometry, new_to_old, method, progress, cancelled)
    return new_study, carried
