"""Hollow: replace a segment by a shell of a given thickness in mm, as 3D Slicer's Hollow effect.

The shell lies inside the current boundary (the outer surface stays where it is), outside it (the segment's voxels
become the shell's hole) or centred on it (half the thickness each side). Distances are exact Euclidean distances
in mm between voxel centres (SimpleITK SignedMaurerDistanceMap with the image spacing, as the Margin tool), so the
shell is as thick in mm along every axis of an anisotropic grid, where Slicer's Hollow erodes with a voxel kernel.
It works on the segment's bounding box padded by the thickness (plus one voxel, so the outside is measured there
too); the image edge is not background, as for Margin.

Inside by t: the segment voxels within t mm of a background voxel's centre (the segment minus the segment shrunk
by t). Outside by t: the background voxels within t mm of a segment voxel (the segment grown by t minus the
segment). Centred: the segment grown by t/2 minus the segment shrunk by t/2.
"""

from __future__ import annotations

import numpy as np

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .margin import grow_or_shrink
from .mask_crops import crop, radius_voxels, spacing_kji

PLACEMENTS = ("inside", "outside", "centred")


def hollow(region: np.ndarray, thickness_mm: float, placement: str, spacing: np.ndarray) -> np.ndarray:
    """The shell of ``region`` (bool, padded by the thickness), ``thickness_mm`` thick, placed as ``placement``."""
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}")
    outward = {"inside": 0.0, "outside": thickness_mm, "centred": thickness_mm / 2}[placement]
    inward = thickness_mm - outward
    outer = grow_or_shrink(region, outward, spacing) if outward > 0 else region
    inner = grow_or_shrink(region, -inward, spacing) if inward > 0 else region
    return outer & ~inner


class HollowTool(Tool):
    id = "hollow"
    title = "Hollow"
    parameters = (
        Parameter("thickness_mm", 3.0, "Shell thickness", minimum=0.1, maximum=100.0, unit="mm"),
        Parameter("placement", "inside", "Shell", kind="choice", choices=PLACEMENTS),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        thickness = float(self.values["thickness_mm"])
        if thickness <= 0:
            return Preview(info={"reason": "the thickness must be above 0 mm"})
        spacing = spacing_kji(context.volume.geometry)
        box, region = crop(mask, radius_voxels(thickness, spacing) + 1, context.segmentation.shape)
        shell = hollow(region, thickness, str(self.values["placement"]), spacing)
        info = {"voxels": int(shell.sum()), "removed_voxels": int((region & ~shell).sum())}
        return Preview([(segment_id, box, shell, "set")], info)
