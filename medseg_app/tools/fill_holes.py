"""Fill holes: background enclosed by the segment, in 3-D or slice by slice (2-D) across a view's slices.

3-D holes are background components that do not reach the edge of the segment's bounding box padded by one
voxel (SimpleITK BinaryFillhole, face-connected background). Slice by slice, a hole needs only be enclosed
within its slice, as a hand-drawn outline's inside is; that is one call with an in-plane structuring element,
so slices never connect to each other. Filling only adds voxels.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .mask_crops import crop, from_image, to_image


def fill_holes_3d(region: np.ndarray) -> np.ndarray:
    filled = sitk.BinaryFillhole(to_image(region, (1, 1, 1)), fullyConnected=False, foregroundValue=1)
    return from_image(filled).astype(bool)


def fill_holes_per_slice(region: np.ndarray, axis: int) -> np.ndarray:
    """Holes enclosed within each slice across numpy ``axis``."""
    from scipy import ndimage  # imported on first use: scipy.ndimage would slow the GUI's start-up

    structure = np.zeros((3, 3, 3), bool)
    plane = [slice(None)] * 3
    plane[axis] = 1
    structure[tuple(plane)] = ndimage.generate_binary_structure(2, 1)
    return ndimage.binary_fill_holes(region, structure)


class FillHolesTool(Tool):
    id = "fill_holes"
    title = "Fill holes"
    parameters = (
        Parameter("dimension", "3-D", "Holes", kind="choice", choices=("3-D", "per slice")),
        Parameter("slice_axis", 2, "Slices across", kind="choice", choices=(2, 1, 0)),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        box, region = crop(mask, 1, context.segmentation.shape)
        if self.values["dimension"] == "3-D":
            filled = fill_holes_3d(region)
        else:
            filled = fill_holes_per_slice(region, 2 - int(self.values["slice_axis"]))
        added = filled & ~region
        return Preview([(segment_id, box, added, "add")], {"voxels": int(added.sum())})
