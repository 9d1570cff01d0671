"""The statistics panel's work, run on a worker thread: snapshots taken on the GUI thread, numbers computed off it.

Masks change on the GUI thread (tools, brush strokes, undo), so a job never reads a live segment: the panel first
takes a :func:`snapshot` (copies of the segments' bounding-box masks, cheap) and hands that to the worker. The
image arrays (the reference's and the overlays') are never written after loading, so they are shared. The metrics
read the sparse masks' boxes directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...core.errors import LoadCancelled, LoadError
from ...core.layer_statistics import layer_prefix, layer_statistics
from ...core.layer_transform import LayerTransform
from ...core.overlap_metrics import compare_masks
from ...core.segmentation import Segment, Segmentation
from ...core.sparse_mask import SparseMask
from ...core.volume import Volume
from ...io.label_map import load_label_map


def snapshot(segmentation: Segmentation, segment_ids) -> Segmentation:
    """A detached copy of ``segment_ids`` (masks and proposals copied) that later edits cannot reach."""
    copy = Segmentation(segmentation.geometry)
    for segment_id in segment_ids:
        s = segmentation.segments[segment_id]
        copy.segments[segment_id] = Segment(
            id=s.id, name=s.name, colour=s.colour, mask=s.mask.copy(), visible=s.visible, opacity=s.opacity,
            locked=s.locked, source=s.source, source_detail=s.source_detail,
            proposal=s.proposal.copy() if s.proposal is not None else None)
    return copy


def spacing_kji(volume_or_geometry) -> tuple[float, float, float]:
    spacing = np.asarray(volume_or_geometry.spacing, float)  # (i, j, k)
    return tuple(float(v) for v in spacing[::-1])


def same_mask(a: SparseMask, b: SparseMask) -> bool:
    """Whether two sparse masks hold the same voxels (their stored boxes may differ)."""
    box = a.box.union(b.box)
    return box.empty or bool(np.array_equal(a.read(box), b.read(box)))


def _check(cancelled) -> None:
    if cancelled is not None and cancelled():
        raise LoadCancelled("statistics cancelled")


@dataclass
class StatisticsResult:
    rows: dict[int, dict]  # segment id -> segment_rows' row
    audits: dict[int, dict | None]  # segment id -> audit row, None when the segment has no edited proposal
    versions: dict[int, int]  # segment id -> the edit count the numbers belong to


@dataclass(frozen=True)
class LayerSnapshot:
    """An overlay as the worker reads it: its column prefix (PET, MR, ...), voxels and transform (both never
    written in place: a new transform is a new object)."""

    prefix: str
    volume: Volume
    transform: LayerTransform


def layer_snapshots(study) -> list[LayerSnapshot]:
    """The study's overlays (the reference's own numbers are the row's plain columns)."""
    if study is None:
        return []
    return [LayerSnapshot(layer_prefix(study, layer), layer.volume, layer.transform) for layer in study.overlays]


def layer_numbers(copy: Segmentation, segment_id: int, layers: list[LayerSnapshot]) -> dict:
    """``{prefix}_{key}`` columns of one segment for each overlay (core/layer_statistics.py)."""
    row = {}
    mask = copy.segments[segment_id].mask
    for layer in layers:
        numbers = layer_statistics(mask, copy.geometry, layer.volume, layer.transform)
        row.update({f"{layer.prefix}_{key}": value for key, value in numbers.items()})
        row[f"{layer.prefix}_units"] = layer.volume.units
    return row


def statistics_job(copy: Segmentation, volume: Volume, versions: dict[int, int], progress=None,
                   cancelled=None, layers: list[LayerSnapshot] | None = None) -> StatisticsResult:
    """Rows and correction audits for every segment of ``copy`` (a :func:`snapshot`), one segment at a time, with
    each overlay's columns."""
    from ...render.statistics_report import segment_rows  # VTK (mesh volume), imported on the worker, not at start-up

    rows, audits = {}, {}
    ids = list(copy.segments)
    for n, segment_id in enumerate(ids):
        _check(cancelled)
        if progress is not None:
            progress(n / max(len(ids), 1), f"Statistics of {copy.segments[segment_id].name}")
        found = segment_rows(copy, volume, [segment_id])
        rows[segment_id] = dict(found[0]) if found else {"name": copy.segments[segment_id].name, "voxels": 0}
        rows[segment_id].update(layer_numbers(copy, segment_id, layers or []))
        audits[segment_id] = audit_row(copy, segment_id)
    return StatisticsResult(rows, audits, dict(versions))


def audit_row(copy: Segmentation, segment_id: int) -> dict | None:
    """The correction audit (correction_rows' row) of a segment whose proposal was edited since, else None."""
    segment = copy.segments[segment_id]
    if segment.proposal is None or same_mask(segment.proposal, segment.mask):
        return None
    from ...render.statistics_report import correction_rows

    found = correction_rows(copy, [segment_id])
    return dict(found[0]) if found else None


def comparison_job(first: tuple[str, SparseMask], second: tuple[str, SparseMask], spacing, progress=None,
                   cancelled=None) -> dict:
    """compare_masks of two named masks (a = the segment, b = the reference) as one exportable row."""
    _check(cancelled)
    row = {"segment": first[0], "reference": second[0]}
    row.update(compare_masks(first[1], second[1], spacing))
    return row


def reference_job(path: str, segmentation_geometry, progress=None, cancelled=None) -> list[tuple[str, SparseMask]]:
    """The labels of a mask or label map file on the image grid, as (name, mask); another grid is refused."""
    scratch = Segmentation(segmentation_geometry)
    ids = load_label_map(path, scratch)
    if not ids:
        raise LoadError(path, "holds no labelled voxels to compare with.")
    name = Path(path).name
    return [(f"{name}: {scratch.segments[i].name}" if len(ids) > 1 else name, scratch.segments[i].mask)
            for i in ids]
