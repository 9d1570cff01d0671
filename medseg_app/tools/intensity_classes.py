"""Intensity classes: split the source layer's values inside a box or a segment into N classes, ordered by mean.

What k-means, fuzzy c-means and Otsu's multiple thresholds share (``tools/clustering.py``,
``tools/otsu_multi.py``): the region (the context's box, or a chosen segment's voxels; NaN, outside the source
layer, never takes part), and the output: every class becomes a new segment named after its mean ("Class 1 (mean
−35 HU)", darkest first), all in one undo step; or only the class under a clicked voxel is added to (or removed
from) the active segment. A subclass's ``classify`` returns each value's class, 0..n−1 darkest first.

The preview's ``info`` carries the class list (name, mean, voxels), the histogram of the region's values and the
class boundaries, which the options widget draws. Placeholder segment ids (−1, −2, ...) stand for the segments
``apply`` adds.
"""

from __future__ import annotations

import numpy as np

from ..core.box import Box
from .base import CancelFn, Parameter, Preview, Tool
from .cancellation import check_cancelled

ALL_CLASSES = "classes to segments"
SELECTED_CLASS = "selected class"  # "select" in the name: the tool controller asks for a click (picks_by_click)
HISTOGRAM_BINS = 128

REGION_PARAMETERS = (
    Parameter("classes", 3, "Classes", "int", minimum=2, maximum=8),
    Parameter("within", "box", "Within", "choice", choices=("box", "segment")),
    Parameter("within_segment_id", None, "Mask segment", "int"),  # within="segment": whose voxels are split
    Parameter("operation", ALL_CLASSES, "Output", "choice", choices=(ALL_CLASSES, SELECTED_CLASS)),
    # selected class: what happens to the active segment
    Parameter("mode", "add", "Apply as", "choice", choices=("add", "remove")),
)


def class_name(number: int, mean: float, units: str) -> str:
    text = f"{mean:.0f}" if abs(mean) >= 10 else f"{mean:.2f}"
    return f"Class {number} (mean {text.replace('-', '−')}{' ' + units if units else ''})"


class IntensityClassesTool(Tool):
    def classify(self, values: np.ndarray, cancelled: CancelFn | None) -> tuple[np.ndarray, dict]:
        """(each value's class 0..n−1, darkest first; info with "boundaries", the values between classes)."""
        raise NotImplementedError(f"{type(self).__name__} must implement classify()")

    # --- the region ----------------------------------------------------------------------------
    def region(self) -> tuple[Box, np.ndarray]:
        """(box, bool mask in it) of the voxels whose values are split: the box or the mask segment, finite only."""
        context = self._require_context()
        if self.values["within"] == "segment":
            segment_id = self.values["within_segment_id"]
            segments = context.segmentation.segments
            if segment_id is None or segment_id not in segments:
                raise ValueError(f"{self.title}: choose the segment whose voxels are split (Mask segment)")
            mask = segments[segment_id].mask
            if mask.empty:
                raise ValueError(f"{self.title}: the mask segment {segments[segment_id].name!r} is empty")
            box, inside = mask.box, mask.data.copy()
        else:
            box = context.box_voxels()
            inside = np.ones(box.shape, bool)
        values = context.image[box.slices]
        if values.dtype.kind == "f":
            inside &= np.isfinite(values)
        if not inside.any():
            raise ValueError(f"{self.title}: the source layer has no values in the region")
        return box, inside

    # --- preview -------------------------------------------------------------------------------
    def compute(self, cancelled: CancelFn | None = None, index=None, **inputs) -> Preview:
        """``index`` (i, j, k): the clicked voxel, for the "selected class" output."""
        context = self._require_context()
        box, inside = self.region()
        values = context.image[box.slices][inside]
        check_cancelled(cancelled, self.title)
        labels, info = self.classify(values, cancelled)
        self.last_region = (box, inside)
        check_cancelled(cancelled, self.title)
        n = int(self.values["classes"])
        counts = np.bincount(labels, minlength=n)
        sums = np.bincount(labels, weights=values.astype(np.float64), minlength=n)
        means = sums / np.maximum(counts, 1)
        units = context.units
        classes = [{"name": class_name(k + 1, means[k], units), "mean": float(means[k]), "voxels": int(counts[k])}
                   for k in range(n)]
        label_box = np.full(box.shape, -1, np.int8)
        label_box[inside] = labels
        counts_hist, edges = np.histogram(values, bins=HISTOGRAM_BINS)
        info.update(classes=classes, histogram={"counts": counts_hist, "edges": edges}, units=units,
                    source=context.source_name, region_voxels=int(values.size))
        if self.values["operation"] == SELECTED_CLASS:
            return self._selected(index, box, label_box, info)
        changes = []
        for k in range(n):
            region = label_box == k
            tight = Box.of_mask(region, box.start)
            changes.append((-(k + 1), tight, region[tight.relative_to(box)], "add"))
        info["new_segments"] = [c["name"] for c in classes]
        return Preview(changes, info)

    def _selected(self, index, box: Box, label_box: np.ndarray, info: dict) -> Preview:
        if index is None:
            raise ValueError(f"{self.title}: click a voxel of the class to keep (index=(i, j, k))")
        voxel = tuple(int(np.floor(v + 0.5)) - s for v, s in zip(np.asarray(index, float)[::-1], box.start))
        if not all(0 <= v < n for v, n in zip(voxel, label_box.shape)) or label_box[voxel] < 0:
            return Preview(info={**info, "reason": "the click is outside the region"})
        k = int(label_box[voxel])
        region = label_box == k
        tight = Box.of_mask(region, box.start)
        info.update(selected_class=k + 1, selected=info["classes"][k]["name"])
        return Preview([(self._target(), tight, region[tight.relative_to(box)], self.values["mode"])], info)

    # --- apply ---------------------------------------------------------------------------------
    def apply(self, preview: Preview | None = None) -> Box:
        """Commit the preview as one undo step; the "classes to segments" output adds one segment per class."""
        context = self._require_context()
        preview = preview or self.last_preview
        if preview is None:
            raise RuntimeError(f"{self.title}: nothing to apply; run preview() first")
        names = preview.info.get("new_segments")
        if not names:
            return super().apply(preview)
        seg = context.segmentation
        image = context.image if seg.options.intensity_range is not None else None
        changed = Box((0, 0, 0), (0, 0, 0))
        with seg.gesture(self.title):
            for segment_id, box, region, mode in preview.changes:
                segment = seg.add_segment(names[-segment_id - 1], source=self.source)
                changed = changed.union(seg.modify(segment.id, box, region, mode, image=image))
        self.last_preview = None
        return changed
