"""The task of ``medseg batch-stats`` for one study: statistics of each label of its segmentation on its image and,
with a reference, the overlap (Dice, Jaccard, HD, HD95, ASSD, volume difference) per label value in both.

``study_statistics(task)`` takes the plain dict :func:`inputs.match_cohort` makes and returns
``{"id", "status", "reason", "seconds", "rows"}``; it never raises for a study that fails. A reference label the
segmentation lacks gets a row of its own (voxels 0, Dice 0): a missed lesion counts in a cohort's figures. Label
maps on another grid are resampled onto the image's by nearest neighbour, as ``medseg stats`` does.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..core.errors import MedSegError, exception_clause

OVERLAP_KEYS = ("dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm", "volume_diff_ml", "volume_diff_percent")


def _row(study_id: str, label, name, status: str, reason: str, seconds, rest: dict | None = None) -> dict:
    return {"id": study_id, "label": label, "name": name, "status": status, "reason": reason, "seconds": seconds,
            **(rest or {})}


def study_statistics(task: dict) -> dict:
    started = time.perf_counter()
    try:
        if task.get("problem"):
            raise MedSegError(task["problem"])
        rows = _measure(task)
    except Exception as exc:  # noqa: BLE001 - a failing study is reported and the cohort goes on
        reason = str(exc) if isinstance(exc, MedSegError) else f"unexpected error ({exception_clause(exc, 300)})."
        seconds = round(time.perf_counter() - started, 3)
        return {"id": task["id"], "status": "failed", "reason": reason, "seconds": seconds,
                "rows": [_row(task["id"], None, None, "failed", reason, seconds)]}
    seconds = round(time.perf_counter() - started, 3)
    for row in rows:
        row["seconds"] = seconds
    return {"id": task["id"], "status": "done", "reason": "", "seconds": seconds, "rows": rows}


def _measure(task: dict) -> list[dict]:
    from ..core.overlap_metrics import compare_masks
    from ..core.segmentation import Segmentation
    from ..io import load_volume
    from ..io.label_resampling import label_masks_on_grid
    from ..render.statistics_report import segment_rows
    from .inputs import label_map_in

    volume = load_volume(task["image"])
    labels = label_masks_on_grid(label_map_in(Path(task["seg"])), volume.geometry)
    references = None
    if task.get("ref"):
        references = {value: (name, mask) for value, name, mask in
                      label_masks_on_grid(label_map_in(Path(task["ref"])), volume.geometry)}
    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    ids = [segmentation.add_segment(name, mask=mask).id for _, name, mask in labels]
    spacing_kji = volume.geometry.spacing[::-1]
    note = "" if references is not None or not task.get("refs_given") else "no reference for this study."
    rows = []
    for stats, (value, _, mask) in zip(segment_rows(segmentation, volume, ids), labels):
        stats.pop("label")
        name = stats.pop("name")
        if references is not None:
            if value in references:
                metrics = compare_masks(mask, references[value][1], spacing_kji)
                stats.update({k: metrics[k] for k in OVERLAP_KEYS})
            else:
                stats.update(dict.fromkeys(OVERLAP_KEYS))
        reason = note or ("" if references is None or value in references else "the reference has no such label.")
        rows.append(_row(task["id"], value, name, "done", reason, None, stats))
    for value, (name, mask) in sorted((references or {}).items()):
        if any(value == v for v, _, _ in labels):
            continue
        metrics = compare_masks(np.zeros_like(mask), mask, spacing_kji)
        rows.append(_row(task["id"], value, name, "done", "the segmentation has no such label (missed).", None,
                         {"voxels": 0, "volume_ml": 0.0, **{k: metrics[k] for k in OVERLAP_KEYS}}))
    if not rows:
        rows.append(_row(task["id"], None, None, "done", "the segmentation holds no label.", None))
    return rows
