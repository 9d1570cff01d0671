"""Automatic registration of an image layer to the study's reference: rigid (6 degrees of freedom) or affine, by
Mattes mutual information, multi-resolution, with SimpleITK's ``ImageRegistrationMethod``.

fixed = the reference, moving = the layer, so the optimised transform maps reference points to layer points:
exactly :class:`LayerTransform`'s ``reference_to_layer``. The registration starts from ``start`` (the layer's
current transform, or an alignment of the image centres / intensity moments), optimises an Euler3D (then, for
affine, a full affine) transform centred on the region used, composed after the start, and measures the metric of
the start and of the result with the same sampler at full resolution. A result whose metric is worse than the
start's (or an optimisation that left the images' overlap) keeps the start and says so in one sentence.

The metric may be restricted to a box (LPS mm corners) or a mask on the reference grid: the fixed image is cropped
to it (with a margin for the smoothing) and the mask is the metric's fixed mask.

Progress comes from the optimiser's iteration events; ``cancelled()`` is checked at every iteration and level and
stops the optimiser (``StopRegistration``), after which :class:`RegistrationCancelled` is raised.

elastix (``itk-elastix`` 0.25.4 on PyPI) was measured against this on the three sarcoma patients' MR → CT
(benchmarks/bench_registration.py, ``register_mr_ct``; the comparison script and its numbers are in that
module's docstring): SimpleITK is kept; itk-elastix is not a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import SimpleITK as sitk

from .errors import MedSegError
from .geometry import ImageGeometry
from .layer_resampling import sitk_transform
from .layer_transform import LayerTransform
from .sitk_bridge import apply_geometry
from .volume import Volume

KINDS = ("rigid", "affine")
INITIALISATIONS = ("current", "geometry", "moments")
Progress = Callable[[float, str], None]


class RegistrationCancelled(MedSegError):
    """The user cancelled the registration; nothing changed."""


class RegistrationError(MedSegError):
    """A registration that cannot start as asked (empty mask, no overlap); one sentence."""


@dataclass(frozen=True)
class RegistrationSettings:
    kind: str = "rigid"  # one of KINDS
    initialisation: str = "current"  # one of INITIALISATIONS
    shrink_factors: tuple[int, ...] = (4, 2, 1)
    smoothing_sigmas_mm: tuple[float, ...] = (2.0, 1.0, 0.0)
    histogram_bins: int = 32
    sampling_fraction: float = 0.2  # of the fixed voxels (in the mask), at most max_samples
    max_samples: int = 200_000
    iterations: int = 200  # per level
    learning_rate: float = 1.0  # RegularStepGradientDescent's first step, in "physical shift" units (mm)
    minimum_step: float = 1e-3
    clip_percent: float = 1.0  # intensities clipped to these percentiles before the metric (0: not clipped)
    seed: int = 11  # the metric's sampler: the same samples every run

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown registration kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.initialisation not in INITIALISATIONS:
            raise ValueError(f"unknown initialisation {self.initialisation!r}; one of {', '.join(INITIALISATIONS)}")
        if len(self.shrink_factors) != len(self.smoothing_sigmas_mm):
            raise ValueError("one smoothing sigma per shrink factor")


@dataclass(frozen=True)
class RegistrationResult:
    transform: LayerTransform  # what the layer should get (the start when kept_start)
    start: LayerTransform
    metric_start: float  # Mattes MI as SimpleITK reports it: lower (more negative) is better
    metric_final: float  # of the optimised transform, even when it was not kept (inf: left the overlap)
    kept_start: bool
    message: str  # one sentence for the user
    kind: str
    iterations: int
    note: str  # for ImageLayer.registration_note


def affine_matrix(transform: sitk.Transform) -> np.ndarray:
    """A SimpleITK matrix-offset transform (Euler3D, Affine, Versor, ...) as a 4×4 matrix (x ↦ A(x - c) + c + t)."""
    a = np.asarray(transform.GetMatrix(), dtype=float).reshape(3, 3)
    c = np.asarray(transform.GetCenter(), dtype=float)
    t = np.asarray(transform.GetTranslation(), dtype=float)
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = c + t - a @ c
    return m


def box_mask(geometry: ImageGeometry, corners_lps) -> np.ndarray:
    """Voxels of ``geometry`` (numpy order k, j, i) whose centres lie in the LPS box with opposite corners."""
    corners = np.asarray(corners_lps, dtype=float).reshape(2, 3)
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    size = geometry.size
    idx = np.stack(np.meshgrid(*(np.arange(s) for s in size), indexing="ij"), axis=-1).reshape(-1, 3)
    points = geometry.index_to_patient(idx)
    inside = np.all((points >= lo - 1e-6) & (points <= hi + 1e-6), axis=1)
    return inside.reshape(size).transpose(2, 1, 0).copy()


def _float_image(volume: Volume, clip_percent: float) -> sitk.Image:
    """The volume as float32 with its intensities clipped to the [p, 100 - p] percentiles: the metric's histogram
    spans that range, so CT soft tissue fills many bins instead of 3 of 32 between air and bone."""
    array = volume.array.astype(np.float32)
    if clip_percent > 0:
        lo, hi = np.percentile(array[:: max(1, array.shape[0] // 16)], (clip_percent, 100 - clip_percent))
        np.clip(array, lo, hi, out=array)
    return apply_geometry(sitk.GetImageFromArray(array), volume.geometry)


def _crop_to_mask(fixed: sitk.Image, mask: np.ndarray, margin_mm: float) -> tuple[sitk.Image, sitk.Image]:
    nz = np.argwhere(mask)
    if nz.size == 0:
        raise RegistrationError("the region to register on is empty; draw a box or choose a segment that holds "
                                "voxels of the reference.")
    spacing = np.asarray(fixed.GetSpacing())[::-1]
    pad = np.ceil(margin_mm / spacing).astype(int)
    lo = np.maximum(nz.min(axis=0) - pad, 0)
    hi = np.minimum(nz.max(axis=0) + pad + 1, mask.shape)
    cropped = sitk.RegionOfInterest(fixed, [int(v) for v in (hi - lo)[::-1]], [int(v) for v in lo[::-1]])
    sub = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.uint8)
    mask_image = sitk.GetImageFromArray(sub)
    mask_image.CopyInformation(cropped)
    return cropped, mask_image


def _footprint(fixed: sitk.Image, moving: sitk.Image, start: LayerTransform) -> np.ndarray:
    """Reference voxels (numpy order) the layer covers at the start: the metric samples only these, so moving the
    layer does not trade overlap for similarity (a layer smaller than the reference, as a cropped MR)."""
    ones = sitk.Image(moving.GetSize(), sitk.sitkUInt8) + 1
    ones.CopyInformation(moving)
    covered = sitk.Resample(ones, fixed, sitk_transform(start), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return sitk.GetArrayFromImage(covered).astype(bool)


def _initial(fixed: sitk.Image, moving: sitk.Image, how: str, current: LayerTransform) -> LayerTransform:
    if how == "current":
        return current
    if how == "moments":  # intensities as mass: shift both to start at 0 (CT air is -1000 HU)
        fixed = fixed - float(sitk.GetArrayViewFromImage(fixed).min())
        moving = moving - float(sitk.GetArrayViewFromImage(moving).min())
    mode = (sitk.CenteredTransformInitializerFilter.MOMENTS if how == "moments"
            else sitk.CenteredTransformInitializerFilter.GEOMETRY)
    euler = sitk.CenteredTransformInitializer(fixed, moving, sitk.Euler3DTransform(), mode)
    return LayerTransform(affine_matrix(euler))


class _Registration:
    """One run: the images, the sampler settings and the progress / cancel plumbing shared by its stages."""

    def __init__(self, fixed, moving, mask, settings: RegistrationSettings, progress, cancelled):
        self.fixed, self.moving, self.mask, self.settings = fixed, moving, mask, settings
        self.progress, self.cancelled = progress, cancelled
        self.stopped = False
        self.iterations = 0
        counted = int(sitk.GetArrayViewFromImage(mask).sum()) if mask is not None else int(np.prod(fixed.GetSize()))
        self.sampling = min(settings.sampling_fraction, settings.max_samples / max(counted, 1))

    def method(self) -> sitk.ImageRegistrationMethod:
        s = self.settings
        method = sitk.ImageRegistrationMethod()
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=s.histogram_bins)
        method.SetMetricSamplingStrategy(method.RANDOM)
        method.SetMetricSamplingPercentage(self.sampling, s.seed)
        method.SetInterpolator(sitk.sitkLinear)
        if self.mask is not None:
            method.SetMetricFixedMask(self.mask)
        return method

    def metric(self, transform: LayerTransform) -> float:
        """The metric at full resolution with the run's sampler (inf when the images no longer overlap)."""
        method = self.method()
        method.SetInitialTransform(sitk_transform(transform), inPlace=False)
        try:
            return float(method.MetricEvaluate(self.fixed, self.moving))
        except RuntimeError:  # "too many samples map outside moving image buffer"
            return float("inf")

    def stage(self, start: LayerTransform, optimised: sitk.Transform, share: tuple[float, float],
              label: str) -> LayerTransform | None:
        """Optimise ``optimised`` (centred, identity) composed after ``start``; the combined transform, or None
        when the optimiser left the images' overlap."""
        s = self.settings
        method = self.method()
        method.SetOptimizerAsRegularStepGradientDescent(learningRate=s.learning_rate, minStep=s.minimum_step,
                                                        numberOfIterations=s.iterations,
                                                        gradientMagnitudeTolerance=1e-8)
        method.SetOptimizerScalesFromPhysicalShift()
        method.SetShrinkFactorsPerLevel(list(s.shrink_factors))
        method.SetSmoothingSigmasPerLevel(list(s.smoothing_sigmas_mm))
        method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
        method.SetMovingInitialTransform(sitk_transform(start))
        method.SetInitialTransform(optimised, inPlace=True)
        levels = len(s.shrink_factors)
        level = [0]

        def on_iteration():
            self.iterations += 1
            if self.cancelled is not None and self.cancelled():
                self.stopped = True
            if self.stopped:
                method.StopRegistration()
                return
            if self.progress is not None:
                done = (level[0] + min(method.GetOptimizerIteration() / s.iterations, 1.0)) / levels
                self.progress(share[0] + (share[1] - share[0]) * done,
                              f"{label}: level {level[0] + 1} of {levels}, metric {method.GetMetricValue():.4f}")

        def on_level():
            level[0] = method.GetCurrentLevel()
            if self.stopped or (self.cancelled is not None and self.cancelled()):
                self.stopped = True
                method.StopRegistration()

        method.AddCommand(sitk.sitkIterationEvent, on_iteration)
        method.AddCommand(sitk.sitkMultiResolutionIterationEvent, on_level)
        try:
            method.Execute(self.fixed, self.moving)
        except RuntimeError:  # the optimiser left the overlap: report it as a result no better than the start
            if self.stopped:
                raise RegistrationCancelled("the registration was cancelled; the layer is unchanged.") from None
            return None
        if self.stopped:
            raise RegistrationCancelled("the registration was cancelled; the layer is unchanged.")
        return LayerTransform(sitk_matrix_after(start, optimised))


def sitk_matrix_after(start: LayerTransform, optimised: sitk.Transform) -> np.ndarray:
    """reference → layer of "``optimised`` first, then ``start``" (ITK applies the moving initial transform last)."""
    return start.reference_to_layer @ affine_matrix(optimised)


def _centre(image: sitk.Image, mask: sitk.Image | None) -> list[float]:
    if mask is not None:
        idx = np.argwhere(sitk.GetArrayViewFromImage(mask))[:, ::-1].mean(axis=0)
    else:
        idx = (np.asarray(image.GetSize(), dtype=float) - 1) / 2
    return list(image.TransformContinuousIndexToPhysicalPoint([float(v) for v in idx]))


def register(reference: Volume, layer: Volume, settings: RegistrationSettings = RegistrationSettings(), *,
             current: LayerTransform | None = None, box_lps=None, mask: np.ndarray | None = None,
             progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> RegistrationResult:
    """Register ``layer`` (moving) to ``reference`` (fixed). ``box_lps``: (2, 3) opposite corners in LPS mm;
    ``mask``: bool array on the reference grid (numpy order); both given: their intersection."""
    current = current or LayerTransform.identity()
    fixed, moving = _float_image(reference, settings.clip_percent), _float_image(layer, settings.clip_percent)
    region = None
    if box_lps is not None:
        region = box_mask(reference.geometry, box_lps)
    if mask is not None:
        region = mask.astype(bool) if region is None else region & mask.astype(bool)
    start = _initial(fixed, moving, settings.initialisation, current)
    footprint = _footprint(fixed, moving, start)
    region = footprint if region is None else region & footprint
    margin = 3 * max(settings.smoothing_sigmas_mm + (0.0,)) + 2 * float(max(reference.spacing))
    fixed, mask_image = _crop_to_mask(fixed, region, margin)
    run = _Registration(fixed, moving, mask_image, settings, progress, cancelled)
    metric_start = run.metric(start)
    if not np.isfinite(metric_start):
        raise RegistrationError("the layer does not overlap the reference's region at the start; align it by hand "
                                "or start from the image centres.")
    centre = _centre(fixed, mask_image)
    rigid = sitk.Euler3DTransform()
    rigid.SetCenter(centre)
    shares = ((0.0, 1.0),) if settings.kind == "rigid" else ((0.0, 0.5), (0.5, 1.0))
    result = run.stage(start, rigid, shares[0], "rigid")
    if result is not None and settings.kind == "affine":
        affine = sitk.AffineTransform(3)
        affine.SetCenter(centre)
        result = run.stage(result, affine, shares[1], "affine")
    metric_final = run.metric(result) if result is not None else float("inf")
    if progress is not None:
        progress(1.0, "registration done")
    what = "rigid" if settings.kind == "rigid" else "affine"
    if result is None or not metric_final < metric_start:
        why = ("moved the layer out of the reference's region" if result is None or not np.isfinite(metric_final)
               else f"ended at a worse metric ({metric_final:.4f}) than the start ({metric_start:.4f})")
        return RegistrationResult(start, start, metric_start, metric_final, True,
                                  f"The {what} registration {why}, so the starting alignment was kept.",
                                  settings.kind, run.iterations, "unchanged (registration diverged)")
    return RegistrationResult(result, start, metric_start, metric_final, False,
                              f"The {what} registration improved the mutual information metric from "
                              f"{metric_start:.4f} to {metric_final:.4f}.",
                              settings.kind, run.iterations, f"{what} MI registration")
