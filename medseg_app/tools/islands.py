"""Islands: keep the largest, remove those smaller than a volume in mm³, or keep the one under a click.

As 3D Slicer's Islands effect: connected components (face-connected by default, 26-connected with
``fully_connected``) of the segment, by SimpleITK on the segment's bounding box. Removal goes through
Segmentation.modify as "remove", so it never adds voxels and respects the intensity range.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .mask_crops import crop, from_image, to_image

OPERATIONS = ("keep largest", "remove small", "keep selected")


def label_islands(region: np.ndarray, fully_connected: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Labels 1..n ordered by size (largest first) and each label's voxel count (index 0: background)."""
    components = sitk.ConnectedComponentImageFilter()
    components.SetFullyConnected(fully_connected)
    labels = components.Execute(to_image(region, (1, 1, 1)))
    labels = from_image(sitk.RelabelComponent(labels, minimumObjectSize=0, sortByObjectSize=True))
    return labels, np.bincount(labels.ravel())


class IslandsTool(Tool):
    id = "islands"
    title = "Islands"
    parameters = (
        Parameter("operation", "keep largest", "Operation", kind="choice", choices=OPERATIONS),
        Parameter("min_size_mm3", 1000.0, "Minimum size", minimum=0.0, unit="mm³"),
        Parameter("fully_connected", False, "Diagonal neighbours connect", kind="bool"),
    )

    def compute(self, cancelled=None, index=None) -> Preview:
        """``index`` (i, j, k): the clicked voxel, for "keep selected"."""
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        box, region = crop(mask, 0, context.segmentation.shape)
        labels, counts = label_islands(region, bool(self.values["fully_connected"]))
        operation = self.values["operation"]
        if operation == "keep largest":
            keep_labels = [1]
        elif operation == "remove small":
            voxel_mm3 = context.volume.geometry.voxel_volume_mm3
            keep_labels = np.flatnonzero(counts * voxel_mm3 >= float(self.values["min_size_mm3"]))
            keep_labels = keep_labels[keep_labels > 0]
        else:
            if index is None:
                raise ValueError("keep selected: click a voxel of the island to keep (index=(i, j, k))")
            voxel = tuple(int(np.floor(v + 0.5)) - s for v, s in zip(np.asarray(index, float)[::-1], box.start))
            inside = all(0 <= v < n for v, n in zip(voxel, labels.shape))
            if not inside or labels[voxel] == 0:
                return Preview(info={"reason": "the click is not on the segment", "islands": len(counts) - 1})
            keep_labels = [labels[voxel]]
        lookup = np.zeros(len(counts), bool)
        lookup[np.asarray(keep_labels, int)] = True
        removed = region & ~lookup[labels]
        info = {"islands": len(counts) - 1, "removed_voxels": int(removed.sum())}
        return Preview([(segment_id, box, removed, "remove")], info)
