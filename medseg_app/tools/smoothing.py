"""Smoothing of a segment, as 3D Slicer's Smoothing effect: median, opening, closing, Gaussian.

Kernels are given in mm and become an odd number of voxels per axis (Slicer's rule), so on 0.98 × 0.98 × 3.27 mm
voxels a 3 mm kernel is 3 × 3 × 1 voxels. Opening and closing use an ellipsoidal structuring element; the
Gaussian is in mm (``sigma_mm``) on the segment as 0 / 1 and thresholded at 0.5. Each runs on the segment's
bounding box padded by the kernel, and the result replaces the segment there ("set").
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .mask_crops import crop, from_image, kernel_radius_voxels, radius_voxels, spacing_kji, to_image

METHODS = ("median", "opening", "closing", "gaussian")


def _sitk_radius(radius_kji) -> list[int]:
    return [int(r) for r in np.asarray(radius_kji)[::-1]]


def smooth(region: np.ndarray, method: str, spacing: np.ndarray, kernel_mm: float, sigma_mm: float) -> np.ndarray:
    image = to_image(region, spacing)
    radius = _sitk_radius(kernel_radius_voxels(kernel_mm, spacing))
    if method == "median":
        out = sitk.BinaryMedian(image, radius, foregroundValue=1, backgroundValue=0)
    elif method == "opening":
        out = sitk.BinaryMorphologicalOpening(image, radius, sitk.sitkBall, backgroundValue=0, foregroundValue=1)
    elif method == "closing":
        out = sitk.BinaryMorphologicalClosing(image, radius, sitk.sitkBall, foregroundValue=1, safeBorder=True)
    elif method == "gaussian":
        blurred = sitk.SmoothingRecursiveGaussian(sitk.Cast(image, sitk.sitkFloat32), float(sigma_mm))
        return from_image(blurred) >= 0.5
    else:
        raise ValueError(f"unknown smoothing method {method!r}; choose one of {METHODS}")
    return from_image(out).astype(bool)


class SmoothingTool(Tool):
    id = "smoothing"
    title = "Smoothing"
    parameters = (
        Parameter("method", "median", "Method", kind="choice", choices=METHODS),
        Parameter("kernel_mm", 3.0, "Kernel size", minimum=0.1, maximum=50.0, unit="mm"),
        Parameter("sigma_mm", 1.0, "Gaussian sigma", minimum=0.1, maximum=20.0, unit="mm"),
    )

    def compute(self, cancelled=None, **inputs) -> Preview:
        context, segment_id, mask = self._target_mask()
        if mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        method = self.values["method"]
        spacing = spacing_kji(context.volume.geometry)
        if method == "gaussian":
            pad = radius_voxels(3 * float(self.values["sigma_mm"]), spacing) + 1
        else:
            pad = kernel_radius_voxels(float(self.values["kernel_mm"]), spacing) + 1
        box, region = crop(mask, pad, context.segmentation.shape)
        smoothed = smooth(region, method, spacing, float(self.values["kernel_mm"]), float(self.values["sigma_mm"]))
        return Preview([(segment_id, box, smoothed, "set")], {"voxels": int(smoothed.sum())})
