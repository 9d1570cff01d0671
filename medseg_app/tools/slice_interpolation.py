"""Fill between slices: interpolate a segment across the slices left empty between slices drawn by hand.

ITK-SNAP and 3D Slicer use ITK's MorphologicalContourInterpolator, which the SimpleITK wheel does not wrap
(SimpleITK 2.5 has no such filter). This is shape-based interpolation (Raya & Udupa 1990, Slicer's former
"Fill between slices"): for each pair of drawn slices with only empty slices between them, the in-plane signed
distance maps (in mm) of the two are blended linearly and the zero level is taken. Drawn slices are never
changed; slices before the first and after the last drawn one stay empty. It works on the segment's bounding
box only. Like the morphological interpolator, shapes that move between the drawn slices are followed: both
distance maps are first shifted so their centroids meet on the line between the two drawn centroids, so two
outlines that do not overlap still give a connected object (plain shape-based blending leaves a gap there).
ITK's MorphologicalContourInterpolator itself ships only in the full ITK Python wheels (about 1.5 GB here).

``method="morphological"`` is the second mode: Albu et al.'s morphological interpolation, the method of that ITK
filter, written in :mod:`morphological_interpolation` (benchmark ``slice_interpolation_modes`` compares the two).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .mask_crops import crop, from_image, spacing_kji, to_image
from .morphological_interpolation import morphological_between

METHODS = ("distance", "morphological")


def _signed_distance_mm(plane: np.ndarray, spacing2d: np.ndarray) -> np.ndarray:
    """Negative inside, positive outside, in mm, measured between voxel centres (a 2-D slice)."""
    # A border of background: a slice filled edge to edge would have no outside to measure from.
    image = to_image(np.pad(plane, 1), spacing2d)
    signed = from_image(sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False,
                                                     useImageSpacing=True))
    return signed[1:-1, 1:-1].astype(np.float32, copy=False)


def _moved(distance: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """A distance map translated by ``shift`` pixels (rows, columns); edges extend what lies beyond them."""
    if np.abs(shift).max() < 1e-3:
        return distance
    from scipy import ndimage  # imported on first use: scipy.ndimage would slow the GUI's start-up

    return ndimage.shift(distance, shift, order=1, mode="nearest")


def interpolate_between(drawn: np.ndarray, spacing2d: np.ndarray, axis: int = 0, cancelled=None) -> np.ndarray:
    """``drawn`` (bool, 3-D) with the empty slices between non-empty ones (along numpy ``axis``) filled."""
    from scipy import ndimage  # imported on first use: scipy.ndimage would slow the GUI's start-up

    stack = np.moveaxis(drawn, axis, 0)
    out = stack.copy()
    occupied = np.flatnonzero(stack.reshape(len(stack), -1).any(axis=1))
    for lower, upper in zip(occupied[:-1], occupied[1:]):
        if upper - lower < 2:
            continue
        if cancelled is not None and cancelled():
            break
        a, b = _signed_distance_mm(stack[lower], spacing2d), _signed_distance_mm(stack[upper], spacing2d)
        centre_a = np.array(ndimage.center_of_mass(stack[lower]))
        centre_b = np.array(ndimage.center_of_mass(stack[upper]))
        for index in range(lower + 1, upper):
            t = (index - lower) / (upper - lower)
            centre = (1 - t) * centre_a + t * centre_b
            out[index] = (1 - t) * _moved(a, centre - centre_a) + t * _moved(b, centre - centre_b) <= 0
    return np.moveaxis(out, 0, axis)


class SliceInterpolationTool(Tool):
    id = "slice_interpolation"
    title = "Fill between slices"
    parameters = (
        Parameter("slice_axis", 2, "Slices drawn across", kind="choice", choices=(2, 1, 0)),
        Parameter("method", "distance", "Method", kind="choice", choices=METHODS),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        axis = 2 - int(self.values["slice_axis"])  # numpy axis
        box, drawn = crop(mask, 0, context.segmentation.shape)
        spacing2d = np.delete(spacing_kji(context.volume.geometry), axis)
        between = morphological_between if self.values["method"] == "morphological" else interpolate_between
        filled = between(drawn, spacing2d, axis, cancelled)
        added = filled & ~drawn
        return Preview([(segment_id, box, added, "add")], {"voxels": int(added.sum())})
