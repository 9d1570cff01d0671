"""Threshold: the active segment becomes the voxels whose intensity lies in [lower, upper].

The range is typed in (image units: HU, SUV ...), computed by one of SimpleITK's automatic histogram methods,
or taken from a preset. ``preview_slice`` gives the 2-D mask of one slice for live feedback while a slider
moves; ``preview()`` computes the whole volume into a reused buffer and keeps only its bounding box.
Like 3D Slicer's Threshold effect, apply() replaces the segment's content ("set"); "add" and "remove" too.
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
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._buffers = AlternatingBuffers()
        self._slice_scratch = SliceScratch()
        self._automatic: dict[str, float] = {}
        self._volume_max: float | None = None

    def activate(self, context: EditContext) -> None:
        super().activate(context)
        self._automatic.clear()
        self._volume_max = None
        self._buffers.release()
        units = context.volume.units
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
            if method not in self._automatic:
                self._automatic[method] = automatic_threshold(context.image, method)
            value = self._automatic[method]
            if self.values["side"] == "above":
                return value, None, {"from": method, "threshold": value}
            return None, value, {"from": method, "threshold": value}
        return self.values["lower"], self.values["upper"], {"from": "manual"}

    def _preset_range(self, context: EditContext, name: str):
        if name not in PRESETS:
            raise ValueError(f"unknown threshold preset {name!r}; choose one of {', '.join(PRESETS)}")
        preset = PRESETS[name]
        units = context.volume.units
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

    def _max_for_fraction(self, context: EditContext) -> tuple[float, str]:
        segment_id = context.segment_id if context.segment_id is not None else context.segmentation.active_id
        segment = context.segmentation.segments.get(segment_id) if segment_id is not None else None
        if segment is not None and not segment.mask.empty:
            values = context.image[segment.mask.box.slices][segment.mask.data]
            return float(values.max()), "segment"
        if self._volume_max is None:
            self._volume_max = float(context.image.max())
        return self._volume_max, "volume"

    # --- previews ----------------------------------------------------------------------------
    def preview_slice(self, axis: int, index: int) -> np.ndarray:
        """The thresholded 2-D mask of slice ``index`` along numpy ``axis`` (0 = k axial, 1 = j, 2 = i)."""
        image = self._require_context().image
        lower, upper, _ = self.threshold_range()
        plane = image[(slice(None),) * axis + (index,)]  # a view: np.take would copy the slice first
        return range_mask_slice(plane, lower, upper, self._slice_scratch)

    def compute(self, cancelled: CancelFn | None = None, **inputs) -> Preview:
        """The whole-volume mask, cropped to its box (a view into a buffer this tool reuses: it stays valid
        until the second preview() after it)."""
        context = self._require_context()
        target = self._target()
        lower, upper, info = self.threshold_range()
        check_cancelled(cancelled, self.title)
        mask, box, count = range_mask(context.image, lower, upper, self._buffers.next(context.image.shape))
        check_cancelled(cancelled, self.title)
        region = mask[box.slices]
        mode = self.values["mode"]
        if mode == "set":
            box, region = _cover_segment(box, region, context.segmentation.segments[target].mask.box)
        info.update(lower=lower, upper=upper, voxels=count, units=context.volume.units)
        return Preview([(target, box, region, mode)], info)


def _cover_segment(box: Box, region: np.ndarray, segment_box: Box) -> tuple[Box, np.ndarray]:
    """Grow a "set" change so that it also clears what the segment held outside the new region's box."""
    if segment_box.empty or segment_box.intersection(box) == segment_box:
        return box, region
    outer = box.union(segment_box)
    grown = np.zeros(outer.shape, bool)
    if not box.empty:
        grown[box.relative_to(outer)] = region
    return outer, grown
