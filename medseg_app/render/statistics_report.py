"""Table rows for the statistics panel, the CLI and export: one per segment, one per compared pair.

Row keys are stable (the panel, ``medseg stats --json`` and the CSV header use them as they are).
"""

from __future__ import annotations

from ..core.overlap_metrics import compare_masks, correction_audit
from ..core.segment_statistics import segment_statistics
from ..core.segmentation import Segmentation
from ..core.volume import Volume
from .mesh_metrics import mesh_volume_and_area


def segment_rows(segmentation: Segmentation, volume: Volume, segment_ids: list[int] | None = None) -> list[dict]:
    """label (1-based position among ``segment_ids``), name, segment_statistics, mesh_volume_ml, surface_mm2."""
    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    rows = []
    for label, segment_id in enumerate(ids, start=1):
        segment = segmentation.segments[segment_id]
        mesh_volume_ml, surface_mm2 = mesh_volume_and_area(segment.mask, volume.geometry)
        rows.append({
            "label": label,
            "name": segment.name,
            **segment_statistics(segment.mask, volume),
            "mesh_volume_ml": mesh_volume_ml,
            "surface_mm2": surface_mm2,
        })
    return rows


def comparison_rows(segmentation: Segmentation, pairs: list[tuple[int, int]],
                    reference: Segmentation | None = None) -> list[dict]:
    """One row per (segment id, reference id) pair: segment, reference, then compare_masks' keys.

    The reference segments come from ``reference`` (another segmentation on the same grid, e.g. a second
    reader's) or, when it is None, from ``segmentation`` itself.
    """
    reference = reference or segmentation
    if reference.shape != segmentation.shape:
        raise ValueError("the reference segmentation is on a different grid")
    spacing_kji = segmentation.geometry.spacing[::-1]
    rows = []
    for segment_id, reference_id in pairs:
        segment, other = segmentation.segments[segment_id], reference.segments[reference_id]
        rows.append({"segment": segment.name, "reference": other.name,
                     **compare_masks(segment.mask, other.mask, spacing_kji)})
    return rows


def correction_rows(segmentation: Segmentation, segment_ids: list[int] | None = None) -> list[dict]:
    """The correction audit of each segment that began as a proposal: segment, source, correction_audit's keys."""
    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    spacing_kji = segmentation.geometry.spacing[::-1]
    rows = []
    for segment_id in ids:
        segment = segmentation.segments[segment_id]
        if segment.proposal is None:
            continue
        rows.append({"segment": segment.name, "source": segment.source,
                     **correction_audit(segment.proposal, segment.mask, spacing_kji)})
    return rows
