"""Otsu's multiple thresholds: N classes of the source layer's values inside a box or a segment.

SimpleITK's ``OtsuMultipleThresholdsImageFilter`` (ITK's implementation of Otsu's between-class variance
criterion for several thresholds, with ITK's optional valley emphasis), run on the region's values as a 1-D image so
that voxels outside a mask segment (and NaN outside the source layer) take no part in the histogram. Its labels are
kept as they come: class k holds the values between thresholds k−1 and k (a value equal to a threshold falls in the
lower class). The output is ``intensity_classes``': every class a segment, or the clicked class into the active one.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import CancelFn, Parameter
from .intensity_classes import REGION_PARAMETERS, IntensityClassesTool


def otsu_multiple_thresholds(values: np.ndarray, classes: int, bins: int = 128,
                             valley_emphasis: bool = False) -> tuple[np.ndarray, list[float]]:
    """(each value's class 0..classes−1, the classes−1 thresholds), by SimpleITK on ``values`` as a 1-D image."""
    flat = np.ascontiguousarray(np.asarray(values).ravel())
    if flat.dtype == bool or flat.dtype == np.float16:
        flat = flat.astype(np.float32)
    if flat.size == 0 or flat.min() == flat.max():
        raise ValueError("the region holds a single value: there is nothing to threshold")
    otsu = sitk.OtsuMultipleThresholdsImageFilter()
    otsu.SetNumberOfThresholds(int(classes) - 1)
    otsu.SetNumberOfHistogramBins(int(bins))
    otsu.SetValleyEmphasis(bool(valley_emphasis))
    labels = otsu.Execute(sitk.GetImageFromArray(flat.reshape(1, 1, -1)))
    return sitk.GetArrayFromImage(labels).ravel().astype(np.int8), [float(t) for t in otsu.GetThresholds()]


class OtsuMultiThresholdTool(IntensityClassesTool):
    id = "otsu_multi"
    title = "Otsu multiple thresholds"
    source = "otsu thresholds"
    parameters = REGION_PARAMETERS + (
        Parameter("bins", 128, "Histogram bins", "int", minimum=16, maximum=4096),
        Parameter("valley_emphasis", False, "Valley emphasis", "bool"),
    )

    def classify(self, values: np.ndarray, cancelled: CancelFn | None) -> tuple[np.ndarray, dict]:
        labels, thresholds = otsu_multiple_thresholds(values, int(self.values["classes"]), int(self.values["bins"]),
                                                      bool(self.values["valley_emphasis"]))
        return labels, {"thresholds": thresholds, "boundaries": thresholds}
