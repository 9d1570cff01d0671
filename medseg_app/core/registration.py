"""Automatic registration of an image layer to the study's reference: rigid (6 degrees of freedom) or affine, by
Mattes mutual information, multi-resolution, with SimpleITK's ``ImageRegistrationMethod``.

fixed = the reference, moving = the layer, so the optimised transform maps reference points to layer points:
exactly :class:`LayerTransform`'s ``reference_to_layer``. The registration starts from ``start`` (the layer's
current transform, or an alignment of the image centres / intensity moments), optimises an Euler3D (then, for
affine, a full affine) transform centred on the region used and set to the start's value, and measures the metric
of the start and of the result with the same sampler at full resolution. A result whose metric is worse than the
start's (or an optimisation that left the images' overlap) keeps the start and says so in one sentence.

Rigid registration is multi-start at the coarsest level: the start and the start turned ± ``start_rotations_deg``
about each axis through the region's centre are each optimised there, and the one with the best full-resolution
metric goes on to the finer levels (one start left STS_002's displaced MR 13-21 mm off at the GTV). The
full-resolution level is smoothed (1 mm) too: unsmoothed, the regular-step optimiser's steps collapse on the
noisy metric and the finer levels gave nothing (benchmarks/bench_registration.py has the numbers).

The metric may be restricted to a box (LPS mm corners) or a mask on the reference grid: the fixed image is cropped
to it (with a margin for the smoothing) and the mask is the metric's fixed mask.

Progress comes from the optimiser's iteration events; ``cancelled()`` is checked at every iteration and level and
stops the optimiser (``StopRegistration``), after which :class:`RegistrationCancelled` is raised.

elastix (``itk-elastix`` 0.25.4 on PyPI, installable here) was measured against the earlier defaults on the same 15
displaced sarcoma MRs (TRE median 1.6 mm, max 9.0 mm against 2.4 / 21 mm then; 1.2 s per registration). With the
present defaults SimpleITK (already a dependency) does better than that elastix run (median 0.7-1.0 mm, max 3.4-5.4
mm from run to run), so ITK's Python wheels are not added.
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
from .sitk_bridge import to_sitk
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
    smoothing_sigmas_mm: tuple[float, ...] = (3.0, 2.0, 1.0)
    histogram_bins: int = 32
    sampling_fraction: float = 0.2  # of the fixed voxels (in the mask) at least, at most max_samples per level
    max_samples: int = 100_000
    iterations: int = 200  # per level
    learning_rate: float = 2.0  # RegularStepGradientDescent's first step, in "physical shift" units (mm)
    minimum_step: float = 0.01
    seed: int = 11  # the metric's sampler: the same samples every run
    start_rotations_deg: float = 10.0  # multi-start: also ± this about each axis at the coarsest level (0: off)

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
    metric_final: float  # of the best alignment found (the start's when kept_start)
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


def _float_image(volume: Volume) -> sitk.Image:
    image = to_sitk(volume)
    return image if image.GetPixelID() == sitk.sitkFloat32 else sitk.Cast(image, sitk.sitkFloat32)


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


def padding_free(volume: Volume, fraction: float = 0.01) -> np.ndarray | None:
    """Voxels (numpy order) not at the image's minimum value, or None when fewer than ``fraction`` of them are:
    a constant fill at the minimum is padding (outside a cropped or resampled MR's field of view, outside a CT's
    scan circle), and the metric must not align the two images' paddings (STS_001's MR drifted 22 mm that way)."""
    array = volume.array
    at_minimum = array == array.min()
    return None if at_minimum.mean() < fraction else ~at_minimum


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

    def __init__(self, fixed, moving, mask, settings: RegistrationSettings, progress, cancelled, moving_mask=None):
        self.fixed, self.moving, self.mask, self.settings = fixed, moving, mask, settings
        self.moving_mask = moving_mask
        self.progress, self.cancelled = progress, cancelled
        self.stopped = False
        self.iterations = 0
        self.counted = int(sitk.GetArrayViewFromImage(mask).sum()) if mask is not None \
            else int(np.prod(fixed.GetSize()))

    def sampling(self, shrink: int = 1) -> float:
        """The fraction of a level's (mask) voxels the metric samples: all of them at a coarse level of a small
        image, at most ``max_samples``, at least ``sampling_fraction`` of the full-resolution voxels."""
        voxels = max(self.counted / shrink ** 3, 1.0)
        wanted = max(self.settings.sampling_fraction * self.counted, min(self.settings.max_samples, voxels))
        return float(min(1.0, wanted / voxels, self.settings.max_samples / voxels))

    def method(self) -> sitk.ImageRegistrationMethod:
        s = self.settings
        method = sitk.ImageRegistrationMethod()
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=s.histogram_bins)
        method.SetMetricSamplingStrategy(method.RANDOM)
        method.SetMetricSamplingPercentage(self.sampling(), s.seed)
        method.SetInterpolator(sitk.sitkLinear)
        if self.mask is not None:
            method.SetMetricFixedMask(self.mask)
        if self.moving_mask is not None:
            method.SetMetricMovingMask(self.moving_mask)
        return method

    def metric(self, transform: LayerTransform) -> float:
        """The metric at full resolution with the run's sampler (inf when the images no longer overlap)."""
        method = self.method()
        method.SetInitialTransform(sitk_transform(transform), inPlace=False)
        try:
            return float(method.MetricEvaluate(self.fixed, self.moving))
        except RuntimeError:  # "too many samples map outside moving image buffer"
            return float("inf")

    def stage(self, start: LayerTransform, start_metric: float, centre, kind: str, share: tuple[float, float],
              label: str, levels: range | None = None) -> tuple[LayerTransform, float, bool]:
        """Optimise level by level (coarse to fine), each level from the best transform so far; a level whose
        result has a worse full-resolution metric than the best is dropped, so the pyramid never makes the
        alignment worse (on STS_001 the fine levels drifted away from a good coarse result). Returns the best
        transform, its metric and whether any level left the images' overlap."""
        s = self.settings
        best, best_metric, left = start, start_metric, False
        count = len(s.shrink_factors)
        levels = range(count) if levels is None else levels
        for level in levels:
            shrink, sigma = s.shrink_factors[level], s.smoothing_sigmas_mm[level]
            optimised = centred_transform(best, centre, kind)
            method = self.method()
            method.SetOptimizerAsRegularStepGradientDescent(learningRate=s.learning_rate / 2 ** level,
                                                            minStep=s.minimum_step, numberOfIterations=s.iterations,
                                                            gradientMagnitudeTolerance=1e-8)
            method.SetOptimizerScalesFromPhysicalShift()
            method.SetShrinkFactorsPerLevel([int(shrink)])
            method.SetSmoothingSigmasPerLevel([float(sigma)])
            method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
            method.SetMetricSamplingPercentage(self.sampling(shrink), s.seed)
            method.SetInitialTransform(optimised, inPlace=True)

            def on_iteration(method=method, level=level):
                self.iterations += 1
                if self.cancelled is not None and self.cancelled():
                    self.stopped = True
                if self.stopped:
                    method.StopRegistration()
                    return
                if self.progress is not None:
                    done = (levels.index(level) + min(method.GetOptimizerIteration() / s.iterations, 1.0)) \
                        / len(levels)
                    self.progress(share[0] + (share[1] - share[0]) * done,
                                  f"{label}: level {level + 1} of {count}, metric {method.GetMetricValue():.4f}")

            method.AddCommand(sitk.sitkIterationEvent, on_iteration)
            try:
                method.Execute(self.fixed, self.moving)
                left_here = False
            except RuntimeError:  # the optimiser left the overlap: this level gives nothing, the next one tries
                left_here = left = True
            if self.stopped or (self.cancelled is not None and self.cancelled()):
                raise RegistrationCancelled("the registration was cancelled; the layer is unchanged.")
            if left_here:
                continue
            candidate = LayerTransform(affine_matrix(optimised))
            metric = self.metric(candidate)
            if metric < best_metric:
                best, best_metric = candidate, metric
        return best, best_metric, left


def start_candidates(start: LayerTransform, centre, degrees: float) -> list[LayerTransform]:
    """``start`` and ``start`` followed (on the reference side) by a rotation of ± ``degrees`` about each axis
    through ``centre``: the coarse level's starting points."""
    candidates = [start]
    if degrees > 0:
        for axis in range(3):
            for sign in (-1.0, 1.0):
                rotation = np.zeros(3)
                rotation[axis] = sign * degrees
                turn = LayerTransform.rigid((0, 0, 0), rotation, centre).reference_to_layer
                candidates.append(LayerTransform(start.reference_to_layer @ turn))
    return candidates


def _multi_start(run: "_Registration", start: LayerTransform, start_metric: float, centre,
                 share: tuple[float, float]) -> tuple[LayerTransform, float, bool]:
    """The rigid stage: the coarsest level from each start candidate, the finer levels from the candidate whose
    coarse result has the best full-resolution metric (STS_002's MR turned 10° ended 13 mm off from one start)."""
    s = run.settings
    candidates = start_candidates(start, centre, s.start_rotations_deg)
    if len(candidates) == 1 or len(s.shrink_factors) == 1:
        return run.stage(start, start_metric, centre, "rigid", share, "rigid")
    coarse_share = (share[0], share[0] + (share[1] - share[0]) / 2)
    best, best_metric, left_all = start, start_metric, False
    for index, candidate in enumerate(candidates):
        step = (coarse_share[1] - coarse_share[0]) / len(candidates)
        found, metric, left = run.stage(candidate, float("inf"), centre, "rigid",
                                        (coarse_share[0] + index * step, coarse_share[0] + (index + 1) * step),
                                        f"rigid, start {index + 1} of {len(candidates)}", levels=range(1))
        left_all = left_all or left
        if metric < best_metric:
            best, best_metric = found, metric
    fine, fine_metric, left = run.stage(best, best_metric, centre, "rigid", (coarse_share[1], share[1]), "rigid",
                                        levels=range(1, len(s.shrink_factors)))
    return fine, fine_metric, left_all or left


def centred_transform(start: LayerTransform, centre, kind: str) -> sitk.Transform:
    """``start`` as the transform to optimise, centred on ``centre``. The start is the optimised transform's own
    value, not a moving initial transform: SimpleITK's physical-shift scales come out wrong for the latter, and a
    mono-modal displaced copy of the CT was then recovered only to 2-8 mm instead of < 1.5 mm."""
    m = start.reference_to_layer
    c = np.asarray(centre, dtype=float)
    if kind == "rigid":
        transform = sitk.Euler3DTransform()
        u, _, vt = np.linalg.svd(m[:3, :3])
        linear = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt  # the start's rotation part
    else:
        transform = sitk.AffineTransform(3)
        linear = m[:3, :3]
    transform.SetCenter([float(v) for v in c])
    transform.SetMatrix([float(v) for v in linear.reshape(9)])
    transform.SetTranslation([float(v) for v in m[:3, :3] @ c + m[:3, 3] - c])
    return transform


def _centre(image: sitk.Image, mask: sitk.Image | None) -> list[float]:
    if mask is not None:
        idx = np.argwhere(sitk.GetArrayViewFromImage(mask))[:, ::-1].mean(axis=0)
    else:
        idx = (np.asarray(image.GetSize(), dtype=float) - 1) / 2
    return list(image.TransformContinuousIndexToPhysicalPoint([float(v) for v in idx]))


def register(reference: Volume, layer: Volume, settings: RegistrationSettings = RegistrationSettings(), *,
             current: LayerTransform | None = None, box_lps=None, mask: np.ndarray | None = None,
             progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> RegistrationResult:
    """Register ``layer`` to ``reference``. ``box_lps``: (2, 3) opposite corners in LPS mm; ``mask``: bool array on
    the reference grid (numpy order); both given: their intersection."""
    current = current or LayerTransform.identity()
    fixed, moving = _float_image(reference), _float_image(layer)
    region = None
    if box_lps is not None:
        region = box_mask(reference.geometry, box_lps)
    if mask is not None:
        region = mask.astype(bool) if region is None else region & mask.astype(bool)
    start = _initial(fixed, moving, settings.initialisation, current)
    padding = padding_free(reference)
    if padding is not None:
        region = padding if region is None else region & padding
    mask_image = None
    if region is not None:
        margin = 3 * max(settings.smoothing_sigmas_mm + (0.0,)) + 2 * float(max(fixed.GetSpacing()))
        fixed, mask_image = _crop_to_mask(fixed, region, margin)
    moving_mask = padding_free(layer)
    if moving_mask is not None:
        moving_mask_image = sitk.GetImageFromArray(moving_mask.astype(np.uint8))
        moving_mask_image.CopyInformation(moving)
    run = _Registration(fixed, moving, mask_image, settings, progress, cancelled,
                        None if moving_mask is None else moving_mask_image)
    metric_start = run.metric(start)
    if not np.isfinite(metric_start):
        raise RegistrationError("the layer does not overlap the reference's region at the start; align it by hand "
                                "or start from the image centres.")
    centre = _centre(fixed, mask_image)
    shares = ((0.0, 1.0),) if settings.kind == "rigid" else ((0.0, 0.5), (0.5, 1.0))
    result, metric_final, left = _multi_start(run, start, metric_start, centre, shares[0])
    if settings.kind == "affine":
        result, metric_final, left_affine = run.stage(result, metric_final, centre, "affine", shares[1], "affine")
        left = left or left_affine
    if progress is not None:
        progress(1.0, "registration done")
    what = "rigid" if settings.kind == "rigid" else "affine"
    if not metric_final < metric_start:
        why = ("moved the layer out of the reference's region" if left
               else f"found no alignment with a better metric than the start's ({metric_start:.4f})")
        return RegistrationResult(start, start, metric_start, metric_final, True,
                                  f"The {what} registration {why}, so the starting alignment was kept.",
                                  settings.kind, run.iterations, "unchanged (registration diverged)")
    return RegistrationResult(result, start, metric_start, metric_final, False,
                              f"The {what} registration improved the mutual information metric from "
                              f"{metric_start:.4f} to {metric_final:.4f}.",
                              settings.kind, run.iterations, f"{what} MI registration")
