"""Region growing from seeds, in 3-D, as a proposal a human then corrects.

``RegionGrowingTool`` grows one segment: connected threshold (6- or 26-connected) with the range typed in
or taken from the seeds' neighbourhood (mean ± tolerance × SD), or SimpleITK's ConfidenceConnected on a crop.
``CompetitiveGrowingTool`` grows several segments at once from their seeds, cropped to the seeds' box plus a
margin: method "watershed", a marker-based watershed on the gradient magnitude; method "growcut", 3D Slicer's
"Grow from seeds" (FastGrowCut: each voxel goes to the seed it reaches at the smallest summed intensity
difference, see :mod:`growcut`), which re-grows only from added seeds while the crop stays the same. With
``seeds_from`` "segments" the visible segments' voxels are seeds too (Slicer's way: paint seeds, then grow; a
stroke under the preview re-grows from its voxels).
Seeds are (i, j, k) voxel indices, passed to ``preview(seeds=...)``. Intensities come from the context's source
layer on the reference grid (``EditContext.image``); where that layer has no values (NaN) nothing grows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from ..core.box import Box
from .base import CancelFn, Parameter, Preview, Tool
from .cancellation import check_cancelled
from .connected_region import grow_connected, neighbourhood_range, seeds_box, seeds_kji
from .intensity_mask import AlternatingBuffers, finite_filled, range_mask, tight_box

if TYPE_CHECKING:  # growcut compiles its kernel with numba: imported when a GrowCut first runs, not at start-up
    from .growcut import GrowCutState


def _mm_to_voxels(mm: float, spacing_ijk) -> np.ndarray:
    """Per numpy axis (k, j, i), the whole number of voxels covering ``mm`` (at least one)."""
    return np.maximum(1, np.ceil(float(mm) / np.asarray(spacing_ijk, float)[::-1])).astype(int)


def _to_sitk(array: np.ndarray, spacing_ijk) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing([float(s) for s in spacing_ijk])
    return image


class RegionGrowingTool(Tool):
    id = "grow"
    title = "Region growing"
    source = "region growing"
    proposes = True
    parameters = (
        Parameter("method", "connected", "Method", "choice", choices=("connected", "confidence")),
        Parameter("connectivity", 6, "Neighbours", "choice", choices=(6, 26)),
        # An explicit range; when both are None the range comes from the seeds' neighbourhood.
        Parameter("lower", None, "Lower", "float"),
        Parameter("upper", None, "Upper", "float"),
        Parameter("tolerance", 2.0, "Tolerance (× SD)", "float", minimum=0.0, maximum=10.0),
        Parameter("neighbourhood_radius", 1, "Seed neighbourhood radius", "int", minimum=0, maximum=5,
                  unit="voxels"),
        Parameter("initial_crop_mm", 30.0, "First crop around the seeds", "float", minimum=1.0, unit="mm"),
        Parameter("multiplier", 2.5, "Confidence multiplier", "float", minimum=0.1, maximum=10.0),
        Parameter("iterations", 4, "Confidence iterations", "int", minimum=0, maximum=20),
        Parameter("radius", 1, "Confidence seed radius", "int", minimum=0, maximum=5, unit="voxels"),
        Parameter("confidence_margin_mm", 50.0, "Confidence crop margin", "float", minimum=1.0, unit="mm"),
        Parameter("mode", "add", "Apply as", "choice", choices=("add", "set", "remove")),
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._buffers = AlternatingBuffers()

    def growing_range(self, points: np.ndarray) -> tuple[float | None, float | None, dict]:
        image = self._require_context().image
        lower, upper = self.values["lower"], self.values["upper"]
        if lower is not None or upper is not None:
            return lower, upper, {"range_from": "explicit"}
        lower, upper, info = neighbourhood_range(image, points, int(self.values["neighbourhood_radius"]),
                                                 float(self.values["tolerance"]))
        return lower, upper, {"range_from": "seeds", **info}

    def compute(self, cancelled: CancelFn | None = None, seeds=(), **inputs) -> Preview:
        context = self._require_context()
        target = self._target()
        points = seeds_kji(seeds, context.image.shape)
        if self.values["method"] == "confidence":
            box, region, info = self._confidence(points, cancelled)
        else:
            box, region, info = self._connected(points, cancelled)
        return Preview([(target, box, region, self.values["mode"])], info)

    def _connected(self, points, cancelled):
        context = self._require_context()
        lower, upper, info = self.growing_range(points)
        check_cancelled(cancelled, self.title)
        grown = grow_connected(context.image, points, lower, upper, int(self.values["connectivity"]),
                               _mm_to_voxels(self.values["initial_crop_mm"], context.volume.spacing),
                               self._buffers, cancelled, self.title)
        info.update(lower=lower, upper=upper, voxels=grown.voxels, crops_tried=grown.crops_tried)
        return grown.box, grown.region, info

    def _confidence(self, points, cancelled):
        context = self._require_context()
        spacing = context.volume.spacing
        box = seeds_box(points).padded(_mm_to_voxels(self.values["confidence_margin_mm"], spacing),
                                       context.image.shape)
        crop = finite_filled(context.image[box.slices])
        if crop.dtype == bool:
            crop = crop.astype(np.uint8)
        check_cancelled(cancelled, self.title)
        grown = sitk.ConfidenceConnected(
            _to_sitk(crop, spacing), seedList=[tuple(int(v) for v in p[::-1]) for p in points - box.start],
            numberOfIterations=int(self.values["iterations"]), multiplier=float(self.values["multiplier"]),
            initialNeighborhoodRadius=int(self.values["radius"]), replaceValue=1)
        check_cancelled(cancelled, self.title)
        region = sitk.GetArrayViewFromImage(grown).view(bool)
        inner = tight_box(region, box.start)
        return inner, region[inner.relative_to(box)].copy(), {
            "method": "confidence", "crop": box, "voxels": int(np.count_nonzero(region)),
            "reaches_crop_border": _on_border(inner, box, context.image.shape)}


def _on_border(inner: Box, crop: Box, shape) -> bool:
    """Whether the region reaches a face of the crop that is not a face of the image (it may be cut off)."""
    return any((a == c and c > 0) or (b == d and d < s)
               for a, b, c, d, s in zip(inner.start, inner.stop, crop.start, crop.stop, shape))


class CompetitiveGrowingTool(Tool):
    id = "grow_competitive"
    title = "Grow from seeds"
    source = "region growing"
    proposes = True
    seeds_per_segment = True  # the slice views' seeds come grouped by the segment active when each was placed
    parameters = (
        Parameter("method", "watershed", "Method", "choice", choices=("watershed", "growcut")),
        # "segments": every visible segment's voxels are its seeds too (3D Slicer's way: paint them, then grow)
        Parameter("seeds_from", "clicks", "Seeds", "choice", choices=("clicks", "segments")),
        Parameter("margin_mm", 20.0, "Margin around the seeds", "float", minimum=0.0, unit="mm"),
        Parameter("sigma_mm", 1.0, "Gradient smoothing (watershed)", "float", minimum=0.1, maximum=10.0,
                  unit="mm"),
        # Voxels outside [lower, upper] belong to no segment (None: no bound).
        Parameter("lower", None, "Lower", "float"),
        Parameter("upper", None, "Upper", "float"),
        Parameter("mode", "add", "Apply as", "choice", choices=("add", "set")),
    )

    def __init__(self, **values):
        super().__init__(**values)
        # the last GrowCut's crop and state: reused only where it gives the full run's result (see growcut)
        self.growcut_state: tuple[Box, GrowCutState] | None = None

    def compute(self, cancelled: CancelFn | None = None, seeds=None, **inputs) -> Preview:
        """``seeds``: {segment id: [(i, j, k), ...]} for at least two segments (with ``seeds_from`` "segments",
        added to the visible segments' own voxels)."""
        context = self._require_context()
        seeds = {sid: np.asarray(s, np.int64).reshape(-1, 3) for sid, s in dict(seeds or {}).items()}
        if self.values["seeds_from"] == "segments":
            seeds = self._with_segment_voxels(seeds)
        if len(seeds) < 2:
            raise ValueError("growing from seeds needs seeds for at least two segments")
        for segment_id in seeds:
            if segment_id not in context.segmentation.segments:
                raise KeyError(f"there is no segment {segment_id}")
        image, spacing = context.image, context.volume.spacing
        points = {sid: seeds_kji(s, image.shape) for sid, s in seeds.items()}
        box = seeds_box(np.concatenate(list(points.values()))).padded(
            _mm_to_voxels(self.values["margin_mm"], spacing) if self.values["margin_mm"] > 0 else 0, image.shape)
        crop = image[box.slices]
        markers = np.zeros(crop.shape, np.uint16)
        outside_label = len(points) + 1
        lower, upper = self.values["lower"], self.values["upper"]
        if lower is not None or upper is not None:
            in_range, _, _ = range_mask(crop, lower, upper)
            markers[~in_range] = outside_label
        if crop.dtype.kind == "f":
            markers[np.isnan(crop)] = outside_label  # outside the source layer: no segment grows there
            crop = finite_filled(crop)
        for label, local in enumerate(points.values(), start=1):
            markers[tuple((local - box.start).T)] = label
        check_cancelled(cancelled, self.title)
        if self.values["method"] == "growcut":
            labels, info = self._grow_cut(box, crop, markers != outside_label, points)
            label_of = {segment_id: segment_id + 1 for segment_id in points}
        else:
            labels, info = self._watershed(crop, markers, spacing), {}
            label_of = {segment_id: label for label, segment_id in enumerate(points, start=1)}
        check_cancelled(cancelled, self.title)
        changes, counts = [], {}
        for segment_id, label in label_of.items():
            region = labels == label
            inner = tight_box(region, box.start)
            changes.append((segment_id, inner, region[inner.relative_to(box)], self.values["mode"]))
            counts[segment_id] = int(np.count_nonzero(region))
        return Preview(changes, {"crop": box, "voxels": counts, **info})

    def _with_segment_voxels(self, seeds: dict) -> dict:
        """``seeds`` plus every visible, non-empty segment's voxels as (i, j, k)."""
        merged = dict(seeds)
        for segment_id, segment in self._require_context().segmentation.segments.items():
            if not segment.visible or segment.mask.empty:
                continue
            box = segment.mask.box
            voxels = (np.argwhere(segment.mask.read(box)) + box.start)[:, ::-1]
            merged[segment_id] = np.concatenate([merged.get(segment_id, np.empty((0, 3), np.int64)), voxels])
        return merged

    def _grow_cut(self, box: Box, crop: np.ndarray, passable: np.ndarray, points: dict) -> tuple[np.ndarray, dict]:
        """GrowCut on the crop (label: segment id + 1), warm-started from the last run on the same crop."""
        last = self.growcut_state[1] if self.growcut_state is not None and self.growcut_state[0] == box else None
        seeds = {segment_id + 1: local - box.start for segment_id, local in points.items()}
        from .growcut import grow_cut

        state = grow_cut(crop.astype(np.float32), passable, seeds, last)
        self.growcut_state = (box, state)
        return state.labels, {"method": "growcut", "incremental": state.incremental}

    def _watershed(self, crop: np.ndarray, markers: np.ndarray, spacing) -> np.ndarray:
        gradient = sitk.GradientMagnitudeRecursiveGaussian(
            sitk.Cast(_to_sitk(crop.astype(np.float32), spacing), sitk.sitkFloat32), float(self.values["sigma_mm"]))
        labels_image = sitk.MorphologicalWatershedFromMarkers(
            gradient, _to_sitk(markers, spacing), markWatershedLine=False, fullyConnected=False)
        return sitk.GetArrayFromImage(labels_image)
