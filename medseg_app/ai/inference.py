"""Running a bundle on an image: model grid, network, inverse resampling, post-processing, uncertainty.

``Predictor(bundle).segment(array, geometry, box_lps)`` returns numpy arrays only (it may run in a worker
thread): one mask per label on the displayed grid, the probabilities and a normalised-entropy uncertainty
map for the region the model saw, and how long it took where.

On a study layer (``segment(pet.array, pet.geometry, box, reference=ct.geometry, transform=layer.transform)``)
the box is in the reference's patient space (moved into the layer's by its transform: the bounding box of its 8
corners), the model runs on the layer's own voxels, and its probabilities are resampled linearly onto the reference
grid before the arg-max: the result, its probabilities and its uncertainty all live on the reference grid.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..core.box import Box
from ..core.errors import MedSegError
from ..core.geometry import ImageGeometry
from ..core.layer_transform import LayerTransform
from .bundle import ModelBundle, ModelError
from .bundle_transforms import read_postprocessing, read_preprocessing
from .devices import InferencePlan, is_out_of_memory, pick_device, plan_inference
from .model_grid import (ModelGrid, box_model_grid, resample_to_display, resample_to_reference, sample_to_model_grid,
                         whole_image_model_grid)

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]
KEEP_PROBABILITIES_LIMIT = 64_000_000  # values; larger results keep the uncertainty map only


class InferenceCancelled(MedSegError):
    """The user cancelled an AI segmentation."""


@dataclass
class LabelMask:
    name: str
    value: int  # output channel / label value
    box: Box  # (k, j, i), half-open, on the displayed grid
    mask: np.ndarray  # bool, box-shaped


@dataclass
class SegmentationResult:
    model: str
    labels: list[LabelMask]
    region: Box  # where the model's output lies on the displayed grid
    uncertainty: np.ndarray  # float16 in [0, 1] (normalised entropy) on ``region``
    probabilities: np.ndarray | None  # float16 (C, *region.shape), or None when too large to keep
    seconds: float
    device: str
    plan: InferencePlan | None = None
    timings: dict = field(default_factory=dict)

    def label_map(self, shape) -> np.ndarray:
        out = np.zeros(shape, dtype=np.uint8 if max((lm.value for lm in self.labels), default=0) < 256 else np.uint16)
        for lm in self.labels:
            out[lm.box.slices][lm.mask] = lm.value
        return out

    def summary(self, geometry: ImageGeometry) -> dict:
        voxel_ml = geometry.voxel_volume_mm3 / 1000.0
        return {
            "model": self.model,
            "labels": [{"name": lm.name, "value": lm.value, "voxels": int(lm.mask.sum()),
                        "volume_ml": round(float(lm.mask.sum()) * voxel_ml, 3)} for lm in self.labels],
            "seconds": round(self.seconds, 3),
            "device": self.device,
        }


def _window_count(grid_shape, roi, overlap: float) -> int:
    total = 1
    for size, r in zip(grid_shape, roi):
        r = min(r, size)
        interval = max(int(r * (1 - overlap)), 1)
        total *= 1 if size <= r else math.ceil((size - r) / interval) + 1
    return total


class Predictor:
    """A bundle's network loaded once, then run on as many images as needed."""

    def __init__(self, bundle: ModelBundle, device: str = "auto", trusted: bool | None = None):
        import torch

        from .network_loading import load_network

        self.bundle = bundle
        self.device = pick_device(device)
        self.pre = read_preprocessing(bundle)
        self.post = read_postprocessing(bundle)
        self.network = load_network(bundle, trusted).to(self.device)
        inferer = bundle.inferer()
        self.sliding = str(inferer.get("_target_", "")).rsplit(".", 1)[-1] == "SlidingWindowInferer"
        self.roi = [int(v) for v in bundle.resolve(inferer.get("roi_size", [96, 96, 96]))]
        self.overlap = float(bundle.resolve(inferer.get("overlap", 0.25)))
        self.bundle_batch = int(bundle.resolve(inferer.get("sw_batch_size", 4)))
        self.mode = str(bundle.resolve(inferer.get("mode", "constant")))
        self._torch = torch

    # --- the model grid --------------------------------------------------------------------------
    def model_grid(self, geometry: ImageGeometry, box_lps=None) -> ModelGrid:
        prompt = self.bundle.box_prompt
        if prompt is not None:
            if box_lps is None:
                raise ModelError(f"model {self.bundle.name} needs a box around the lesion.")
            size = [int(v) for v in self.bundle.resolve(prompt.get("spatial_size", [32, 32, 32]))]
            return box_model_grid(geometry, box_lps, float(prompt.get("margin", 0.25)), size)
        # A whole-image model given a box runs on the whole image; segment() keeps what lies inside the box.
        return whole_image_model_grid(geometry, self.pre.axcodes, self.pre.pixdim)

    # --- running ---------------------------------------------------------------------------------
    def segment(self, array: np.ndarray, geometry: ImageGeometry, box_lps=None,
                progress: ProgressFn | None = None, cancelled: CancelFn | None = None, *,
                reference: ImageGeometry | None = None,
                transform: LayerTransform | None = None) -> SegmentationResult:
        """Segment ``array`` (on ``geometry``); with ``reference`` the result lands on that grid (``transform``:
        reference → this image, identity by default) and ``box_lps`` is in the reference's patient space."""
        started = time.perf_counter()
        timings = {}
        transform = transform or LayerTransform.identity()
        layer_box = None if box_lps is None or reference is None else transform.box_to_layer(box_lps)
        grid = self.model_grid(geometry, box_lps if reference is None else layer_box)
        image = sample_to_model_grid(array, geometry, grid)
        image = self.pre.apply_intensity(image)
        timings["preprocess_s"] = time.perf_counter() - started
        t0 = time.perf_counter()
        logits, plan = self._infer(image, progress, cancelled)
        timings["network_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        probabilities = self._activate(logits)
        outside = np.zeros(probabilities.shape[0], dtype=np.float32)
        if self._softmax(probabilities.shape[0]):
            outside[0] = 1.0
        if reference is None:
            region, region_probs = grid.region, resample_to_display(probabilities, grid, geometry, outside)
        else:
            region, region_probs = resample_to_reference(probabilities, grid, reference, transform, outside)
        result = self._postprocess(region_probs, region)
        if box_lps is not None and not self.bundle.needs_box:
            result = _clip_to_box(result, reference or geometry, box_lps)
        timings["postprocess_s"] = time.perf_counter() - t0
        return SegmentationResult(model=self.bundle.name, labels=result, region=region,
                                  uncertainty=_normalised_entropy(region_probs, self._softmax(len(region_probs))),
                                  probabilities=region_probs.astype(np.float16)
                                  if region_probs.size <= KEEP_PROBABILITIES_LIMIT else None,
                                  seconds=time.perf_counter() - started, device=plan.device, plan=plan,
                                  timings=timings)

    def _softmax(self, channels: int) -> bool:
        if self.post.activation is not None:
            return self.post.activation == "softmax"
        return channels > 1

    def _activate(self, logits: np.ndarray) -> np.ndarray:
        torch = self._torch
        t = torch.from_numpy(logits)
        t = torch.softmax(t, dim=0) if self._softmax(t.shape[0]) else torch.sigmoid(t)
        return t.numpy()

    def _infer(self, image: np.ndarray, progress, cancelled) -> tuple[np.ndarray, InferencePlan]:
        """Logits (C, k, j, i) on the model grid, falling back to frugal plans on out-of-memory."""
        torch = self._torch
        # MONAI's layout is (N, C, x, y, z) = (i, j, k): the reverse of numpy's (k, j, i).
        image = np.ascontiguousarray(image)
        grid_shape = image.shape[::-1]
        roi = self.roi if self.sliding else list(grid_shape)
        out_channels = max(len(self.bundle.labels), 1)
        plan = plan_inference(self.device, int(np.prod(grid_shape)), int(np.prod([min(r, s) for r, s in
                              zip(roi, grid_shape)])), out_channels, self.overlap, self.bundle_batch)
        while True:
            try:
                return self._run_plan(image, roi, plan, progress, cancelled), plan
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                if plan.device == "cuda":
                    torch.cuda.empty_cache()
                plan = plan.fallback()
                if plan is None:
                    raise ModelError(f"model {self.bundle.name} ran out of memory even with one window at a time "
                                     "on the CPU.") from None

    def _run_plan(self, image: np.ndarray, roi, plan: InferencePlan, progress, cancelled) -> np.ndarray:
        """Logits (C, k, j, i) of the network on ``image`` (k, j, i, C-contiguous) under ``plan``.

        Sliding windows go through ``sliding_window_logits``: MONAI's ``sliding_window_inference`` result bit for
        bit, without its full-volume transposes and all-ones weighting; MONAI's own function runs where that
        does not apply (an image smaller than the window, a network returning more than one tensor).
        """
        torch = self._torch
        from .sliding_window import reversed_axes_copy, sliding_window_logits

        network = self.network.to(plan.device)
        batches = math.ceil(_window_count(image.shape[::-1], roi, plan.overlap) / plan.sw_batch_size)
        done = [0]

        def predictor(batch):
            if cancelled is not None and cancelled():
                raise InferenceCancelled("AI segmentation cancelled.")
            with torch.autocast("cuda", dtype=torch.float16, enabled=plan.amp):
                out = network(batch)
            done[0] += 1
            if progress is not None:
                progress(min(done[0] / batches, 1.0))
            return out.float()

        with torch.inference_mode():
            if self.sliding:
                logits = sliding_window_logits(image, roi, plan.sw_batch_size, plan.overlap, self.mode, predictor,
                                               plan.device, plan.stitch_device, max(len(self.bundle.labels), 1))
                if logits is not None:
                    return logits
                done[0] = 0
            tensor = reversed_axes_copy(torch.from_numpy(image))[None, None]
            if not self.sliding:
                out = predictor(tensor.to(plan.device))
            else:
                from monai.inferers import sliding_window_inference

                out = sliding_window_inference(tensor, roi_size=roi, sw_batch_size=plan.sw_batch_size,
                                               predictor=predictor, overlap=plan.overlap, mode=self.mode,
                                               sw_device=plan.device, device=plan.stitch_device)
            return reversed_axes_copy(out[0].cpu()).numpy()

    def _postprocess(self, probs: np.ndarray, region: Box) -> list[LabelMask]:
        if self._softmax(probs.shape[0]):
            labels = np.argmax(probs, axis=0)
            masks = {value: labels == value for value in range(1, probs.shape[0])}
        else:  # sigmoid: one independent channel per label; channel c is label c + 1 unless channel_def says 0
            offset = 0 if 0 in self.bundle.labels and self.bundle.labels.get(0) != "background" else 1
            masks = {c + offset: probs[c] >= 0.5 for c in range(probs.shape[0])}
        out = []
        for value, mask in masks.items():
            if self.post.keep_largest is not None and value in self.post.keep_largest:
                mask = _largest_component(mask)
            if self.post.fill_holes is not None and value in self.post.fill_holes:
                mask = _filled(mask)
            if not mask.any():
                continue
            tight = Box.of_mask(mask)
            out.append(LabelMask(self.bundle.labels.get(value, f"label {value}"), value,
                                 Box(tuple(a + b for a, b in zip(region.start, tight.start)),
                                     tuple(a + b for a, b in zip(region.start, tight.stop))),
                                 mask[tight.slices].copy()))
        return out


def _filled(mask: np.ndarray) -> np.ndarray:
    """Enclosed background (26-connected to no border) becomes foreground, as MONAI's FillHoles does in 3-D."""
    from scipy import ndimage

    return ndimage.binary_fill_holes(mask, structure=np.ones((3, 3, 3), bool))


def _largest_component(mask: np.ndarray) -> np.ndarray:
    import cc3d

    if not mask.any():
        return mask
    labels = cc3d.connected_components(mask.astype(np.uint8), connectivity=26)
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    return labels == int(np.argmax(counts))


def _normalised_entropy(probs: np.ndarray, softmax: bool) -> np.ndarray:
    p = np.clip(probs, 1e-6, 1.0)
    if softmax:
        h = -(p * np.log(p)).sum(axis=0) / math.log(max(probs.shape[0], 2))
    else:  # per-channel binary entropy, worst channel
        q = np.clip(1 - probs, 1e-6, 1.0)
        h = (-(p * np.log(p) + q * np.log(q)) / math.log(2)).max(axis=0)
    return np.clip(h, 0, 1).astype(np.float16)


def _clip_to_box(labels: list[LabelMask], geometry: ImageGeometry, box_lps) -> list[LabelMask]:
    from .model_grid import box_corners_to_index

    lo, hi = box_corners_to_index(geometry, box_lps)
    start = np.clip(np.floor(lo + 0.5), 0, geometry.size).astype(int)[::-1]
    stop = np.clip(np.ceil(hi + 0.5), 0, geometry.size).astype(int)[::-1]
    keep = Box(tuple(start.tolist()), tuple(stop.tolist()))
    out = []
    for lm in labels:
        inner = lm.box.intersection(keep)
        if inner.empty:
            continue
        mask = lm.mask[inner.relative_to(lm.box)]
        if mask.any():
            out.append(LabelMask(lm.name, lm.value, inner, mask.copy()))
    return out
