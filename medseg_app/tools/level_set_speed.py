"""The speed images an active contour moves on, computed on a crop of the source layer (ITK-SNAP's two modes).

Edge attraction: SimpleITK's GradientMagnitudeRecursiveGaussian (sigma in mm), remapped by its Sigmoid so that the
speed is near 1 where the image is flat and near 0 on edges; the sigmoid's midpoint is ``edge_contrast`` × a gradient
``scale`` (the strongest gradient within 50 mm of the start, kept for the whole evolution so that a grown crop moves
on the same speed), its width a third of the midpoint. This is the feature image of
GeodesicActiveContourLevelSetImageFilter.

Region intensities (ITK-SNAP's thresholding speed, "region competition"): s = tanh(min(x − lower, upper − x) / w),
positive inside [lower, upper], negative outside, in [−1, 1] whatever the source's units, so that the weights mean
the same on CT (HU) and PET (SUV); the softness w is by default the SD of the source inside the initial contour.
SimpleITK's ThresholdSegmentationLevelSetImageFilter computes its propagation speed from its feature image x as
x − L below the mid-point (L + U) / 2 and U − x above it; given s with L = 0 and U = 2 (mid-point 1, which s never
exceeds) its speed is exactly s. NaN (outside the source layer) is a voxel the contour never enters: speed 0 on
edges (a wall), −1 for regions.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

REGION_LOWER, REGION_UPPER = 0.0, 2.0  # the thresholds under which ThresholdSegmentation's speed equals its feature


def to_image(array: np.ndarray, spacing_ijk) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(array, dtype=np.float32))
    image.SetSpacing([float(s) for s in spacing_ijk])
    return image


def gradient_magnitude(crop: np.ndarray, spacing_ijk, sigma_mm: float) -> np.ndarray:
    """|∇(G_sigma * I)| in source units per mm; NaN voxels are given the finite mean (no edge of their own)."""
    values = np.asarray(crop, np.float32)
    nan = np.isnan(values)
    if nan.any():
        values = np.where(nan, np.float32(np.nanmean(values)) if (~nan).any() else np.float32(0), values)
    gradient = sitk.GradientMagnitudeRecursiveGaussian(to_image(values, spacing_ijk), float(sigma_mm))
    return sitk.GetArrayFromImage(gradient)


def edge_scale(gradient: np.ndarray) -> float:
    """The gradient the edge contrast is a fraction of: the strongest one (ITK-SNAP normalises by the maximum)."""
    top = float(np.max(gradient)) if gradient.size else 0.0
    return top if top > 0 else 1.0


def edge_speed(crop: np.ndarray, spacing_ijk, sigma_mm: float, contrast: float, scale: float) -> np.ndarray:
    """Sigmoid of the gradient magnitude: ~1 on flat regions, 0.5 at ``contrast`` × ``scale``, ~0 on edges."""
    gradient = gradient_magnitude(crop, spacing_ijk, sigma_mm)
    beta = max(float(contrast), 1e-6) * float(scale)
    image = sitk.Sigmoid(to_image(gradient, spacing_ijk), -beta / 3.0, beta, 1.0, 0.0)
    speed = sitk.GetArrayFromImage(image)
    speed[np.isnan(crop)] = 0.0
    return speed


def region_softness(inside: np.ndarray, around: np.ndarray) -> float:
    """Default ``w`` of the region speed: the SD of the source inside the initial contour (the tissue's own spread),
    or a hundredth of the 1st–99th percentile span ``around`` it when the start is uniform."""
    finite = inside[np.isfinite(inside)]
    sd = float(finite.std()) if finite.size > 1 else 0.0
    if sd > 0:
        return sd
    around = around[np.isfinite(around)]
    if around.size == 0:
        return 1.0
    low, high = np.percentile(around, (1, 99))
    return float(high - low) / 100.0 or 1.0


def region_speed(crop: np.ndarray, lower: float | None, upper: float | None, softness: float) -> np.ndarray:
    """tanh(min(x − lower, upper − x) / softness): positive inside the range, negative outside, −1 on NaN."""
    values = np.asarray(crop, np.float64)
    margin = np.full(values.shape, np.inf)
    if lower is not None:
        margin = np.minimum(margin, values - float(lower))
    if upper is not None:
        margin = np.minimum(margin, float(upper) - values)
    speed = np.tanh(margin / max(float(softness), 1e-9))
    speed[np.isnan(values)] = -1.0
    return speed.astype(np.float32)


def bubble_range(image: np.ndarray, inside: np.ndarray, tolerance: float) -> tuple[float, float, dict]:
    """Mean ± tolerance × SD of the source's finite values inside the bubbles (what the range is prefilled with)."""
    values = image[inside]
    values = values[np.isfinite(values)].astype(np.float64)
    if values.size == 0:
        raise ValueError("the bubbles lie outside the source layer: place them where it has values")
    mean, sd = float(values.mean()), float(values.std())
    return mean - tolerance * sd, mean + tolerance * sd, {"bubble_mean": mean, "bubble_sd": sd}
