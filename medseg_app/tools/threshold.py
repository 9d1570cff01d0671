"""Threshold: the active segment becomes the voxels whose intensity lies in [lower, upper].

The range is typed in (image units: HU, SUV ...), computed by one of SimpleITK's automatic histogram methods,
or taken from a preset. ``preview_slice`` gives the 2-D mask of one slice for live feedback while a slider
moves; ``preview()`` computes the whole volume into a reused buffer and keeps only its bounding box.
Like 3D Slicer's Threshold effect, apply() replaces the segment's content ("set"); "add" and "remove" too.

The intensities are the context's source layer on the reference grid (``EditContext.image``; e.g. the PET under a
planning CT), so a PET threshold lands in a segment on the CT grid. ``within="box"`` limits the threshold (and
the automatic methods' histogram) to the context's box; a fraction-of-SUVmax preset measures SUVmax where
``suv_max_in`` says: the segment being edited (the whole image while it is empty), the box, or the whole image.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.box import Box
from .base import CancelFn, EditContext, Parameter, Preview, Tool
from .cancellation import check_cancelled
from .intensity_mask import AlternatingBuffers, SliceScratch, range_mask, range_mask_slice
from .threshold_methods import AUTOMATIC_METHODS, PRESETS, automatic_threshold


class ThresholdTool(Tool):
    id = "threshold"
    title = "Threshold"
    source = "threshold"
    parameters = (
        Parameter("lower", None, "Lower", "float"),  # None: no lower bound
        Parameter("upper", None, "Upper", "float"),  # None: no upper bound
        Parameter("method", "manual", "Method", "choice", choices=("manual",) + AUTOMATIC_METHODS),
        # Which side of an automatic threshold is kept: the bright voxels above it, or the dark ones below.
        Parameter("side", "above", "Keep", "choice", choices=("above", "below")),
        # A preset overrides method and lower / upper until it is set back to "none".
        Parameter("preset", "none", "Preset", "choice", choices=("none",) + tuple(PRESETS)),
        Parameter("mode", "set", "Apply as", "choice", choices=("set", "add", "remove")),
        Parameter("within", "image", "Threshold within", "choice", choices=("image", "box")),
        Parameter("suv_max_in", "segment", "SUVmax measured in", "choice", choices=("segment", "box", "image")),
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._buffers = AlternatingBuffers()
        self._slice_scratch = SliceScratch()
        self._automatic: dict[tuple, float] = {}
        self._maxima: dict[tuple, float] = {}

    def activate(self, context: EditContext) -> None:
        super().activate(context)
        self._automatic.clear()
        self._maxima.clear()
        self._buffers.release()
        units = context.units
        self.parameters = tuple(replace(p, unit=units) if p.name in ("lower", "upper") else p
                                for p in type(self).parameters)

    # --- the range ---------------------------------------------------------------------------
    def threshold_range(self) -> tuple[float | None, float | None, dict]:
        """``(lower, upper, info)`` from the preset, the automatic method or the typed values, in that order."""
        context = self._require_context()
        preset_name, method = self.values["preset"], self.values["method"]
        if preset_name != "none":
            return self._preset_range(context, preset_name)
        if method != "manual":
            box = self._region_box(context)
            key = (method, box.start, box.stop)
            if key not in self._automatic:
                self._automatic[key] = automatic_threshold(context.image[box.slices], method)
            value = self._automatic[key]
            if self.values["side"] == "above":
                return value, None, {"from": method, "threshold": value}
            return None, value, {"from": method, "threshold": value}
        return self.values["lower"], self.values["upper"], {"from": "manual"}

    def _preset_range(self, context: EditContext, name: str):
        if name not in PRESETS:
            raise ValueError(f"unknown threshold preset {name!r}; choose one of {', '.join(PRESETS)}")
        preset = PRESETS[name]
        units = context.units
        if units != preset.units:
            raise ValueError(f"the {preset.label} preset needs an image in {preset.units}, "
                             f"this one is in {units or 'unknown units'}")
        info = {"from": name}
        lower = preset.lower
        if preset.fraction_of_max is not None:
            suv_max, where = self._max_for_fraction(context)
            lower = preset.fraction_of_max * suv_max
            info.update(suv_max=suv_max, suv_max_within=where)
        return lower, preset.upper, info

    def _region_box(self, context: EditContext) -> Box:
        """Where the threshold applies: the context's box (``within="box"``) or the whole image."""
        if self.values["within"] == "box":
            return context.box_voxels()
        return Box.whole(context.volume.array.shape)

    def _max_for_fraction(self, context: EditContext) -> tuple[float, str]:
        """(SUVmax, where it was measured: "segment", "box" or "volume"); NaN (outside the source layer) skipped."""
        where = self.values["suv_max_in"]
        if where == "segment":
            segment_id = context.segment_id if context.segment_id is not None else context.segmentation.active_id
            segment = context.segmentation.segments.get(segment_id) if segment_id is not None else None
            if segment is not None and not segment.mask.empty:
                values = context.image[segment.mask.box.slices][segment.mask.data]
                return _finite_max(values, "the segment"), "segment"
        box = context.box_voxels() if where == "box" else Box.whole(context.volume.array.shape)
        key = (box.start, box.stop)
        if key not in self._maxima:
            self._maxima[key] = _finite_max(context.image[box.slices], "the box" if where == "box" else "the image")
        return self._maxima[key], "box" if where == "box" else "volume"

    # --- previews ----------------------------------------------------------------------------
    def preview_slice(self, axis: int, index: int) -> np.ndarray:
        """The thresholded 2-D mask of slice ``index`` along numpy ``axis`` (0 = k axial, 1 = j, 2 = i)."""
        context = self._require_context()
        lower, upper, _ = self.threshold_range()
        plane = context.image[(slice(None),) * axis + (index,)]  # a view: np.take would copy the slice first
        mask = range_mask_slice(plane, lower, upper, self._slice_scratch)
        if self.values["within"] == "box":
            box = context.box_voxels()
            inside = np.zeros(mask.shape, bool)
            if box.start[axis] <= index < box.stop[axis]:
                in_plane = tuple(s for a, s in enumerate(box.slices) if a != axis)
                inside[in_plane] = True
            mask &= inside
        return mask

    def compute(self, cancelled: CancelFn | None = None, **inputs) -> Preview:
        """The whole-volume mask, cropped to its box (a view into a buffer this tool reuses: it stays valid
        until the second preview() after it)."""
        context = self._require_context()
        target = self._target()
        lower, upper, info = self.threshold_range()
        check_cancelled(cancelled, self.title)
        within = self._region_box(context)
        crop = context.image[within.slices]
        mask, box, count = range_mask(crop, lower, upper, self._buffers.next(crop.shape))
        check_cancelled(cancelled, self.title)
        region = mask[box.slices]
        box = Box(tuple(a + o for a, o in zip(box.start, within.start)),
                  tuple(b + o for b, o in zip(box.stop, within.start)))
        mode = self.values["mode"]
        if mode == "set":
            box, region = _cover_segment(box, region, context.segmentation.segments[target].mask.box)
        info.update(lower=lower, upper=upper, voxels=count, units=context.units, source=context.source_name)
        return Preview([(target, box, region, mode)], info)


def _finite_max(values: np.ndarray, where: str) -> float:
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        raise ValueError(f"the source layer has no values in {where}")
    return float(finite.max())


def _cover_segment(box: Box, region: np.ndarray, segment_box: Box) -> tuple[Box, np.ndarray]:
    """Grow a "set" change so that it also clears what the segment held outside the new region's box."""
    if segment_box.empty or segment_box.intersection(box) == segment_box:
        return box, region
    outer = box.union(segment_box)
    grown = np.zeros(outer.shape, bool)
    if not box.empty:
        grown[box.relative_to(outer)] = region
    return outer, grown
