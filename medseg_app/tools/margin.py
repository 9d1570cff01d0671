"""Margin: grow or shrink a segment by a distance in mm, exact on anisotropic voxels.

Grow by m keeps every voxel whose centre lies within m mm of a segment voxel's centre; shrink by m keeps the
segment voxels farther than m mm from every background voxel's centre: the Euclidean distance map with the
image spacing (SimpleITK SignedMaurerDistanceMap, useImageSpacing) on the bounding box padded by the margin,
of the segment for growing and of its background for shrinking, so that shrinking is growing the background.
The image edge is not background: a segment touching it does not shrink away from it.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .mask_crops import crop, from_image, radius_voxels, spacing_kji, to_image


def distance_to_mm(targets: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """For every voxel, the distance in mm from its centre to the nearest centre of a ``targets`` voxel."""
    image = to_image(targets, spacing)
    signed = from_image(sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False,
                                                     useImageSpacing=True))
    return np.where(targets, 0.0, signed)


def grow_or_shrink(region: np.ndarray, margin_mm: float, spacing: np.ndarray) -> np.ndarray:
    """``region`` grown (margin > 0) or shrunk (margin < 0) by |margin| mm; needs |margin| of padding."""
    if margin_mm >= 0:
        return distance_to_mm(region, spacing) <= margin_mm + 1e-6
    if region.all():
        return region.copy()
    return region & (distance_to_mm(~region, spacing) > -margin_mm + 1e-6)


class MarginTool(Tool):
    id = "margin"
    title = "Margin"
    parameters = (
        Parameter("margin_mm", 3.0, "Margin (grow > 0, shrink < 0)", minimum=-100.0, maximum=100.0, unit="mm"),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context, segment_id, mask = self._target_mask()
        margin = float(self.values["margin_mm"])
        if mask.empty or margin == 0:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON if mask.empty else "the margin is 0"})
        spacing = spacing_kji(context.volume.geometry)
        box, region = crop(mask, radius_voxels(margin, spacing) + 1, context.segmentation.shape)
        changed = grow_or_shrink(region, margin, spacing)
        if margin > 0:
            return Preview([(segment_id, box, changed & ~region, "add")], {"voxels": int(changed.sum())})
        return Preview([(segment_id, box, region & ~changed, "remove")], {"voxels": int(changed.sum())})
