"""A level-set contour evolved a few iterations at a time on a crop that grows with it (ITK-SNAP's snake).

``ContourEvolution`` holds the level set φ (negative inside, in mm, on the reference grid's ``box``) and the speed
image of the same crop. ``step()`` runs SimpleITK's GeodesicActiveContourLevelSetImageFilter (edge speed) or
ThresholdSegmentationLevelSetImageFilter (region speed) for ``iterations_per_step`` iterations starting from φ and
keeps the filter's output as the new φ, so a GUI can show the contour between steps and pause, step or resume.

Chained steps vs one run: every Execute rebuilds the filter's sparse field (its narrow band layers) from the zero
crossing of the φ it is given, so n steps of k iterations are not bit-identical to one run of n × k; the contours
agree to within a voxel along the boundary (tests/test_active_contour.py measures Dice ≥ 0.98 on the sample PET).

The crop is the initial contour's box plus ``margin_mm``; when the contour comes within one voxel of a face of the
crop that is not a face of the image, the crop is grown by the margin around the contour and φ is padded with its
largest (outside) value, which is what the filter leaves everywhere outside its narrow band.

Stopping: the filter stops early when its RMS change falls to ``max_rms`` (converged); when no voxel has changed for
``STILL_ITERATIONS`` iterations in a row (over one or several steps) it is converged too ("no change"); and
``max_iterations`` in all ends the evolution.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import SimpleITK as sitk

from ..core.box import Box
from .base import CancelFn, Preview
from .cancellation import check_cancelled
from .intensity_mask import tight_box
from .level_set_speed import (REGION_LOWER, REGION_UPPER, edge_scale, edge_speed, gradient_magnitude,
                              region_softness, region_speed, to_image)

SCALE_REACH_MM = 50.0  # the edge scale is read this far around the start, whatever the margin
STILL_ITERATIONS = 20  # no voxel changed for this many iterations in a row: converged
SPEED_KEYS = ("speed", "lower", "upper", "region_softness", "edge_sigma_mm", "edge_contrast")


def _mm_to_voxels(mm: float, spacing_ijk) -> np.ndarray:
    return np.maximum(1, np.ceil(float(mm) / np.asarray(spacing_ijk, float)[::-1])).astype(int)


def signed_distance(region: np.ndarray, spacing_ijk) -> np.ndarray:
    """φ of a mask: the signed Euclidean distance in mm to its boundary, negative inside (SimpleITK's Maurer)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(region, dtype=np.uint8))
    image.SetSpacing([float(s) for s in spacing_ijk])
    distance = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False,
                                            useImageSpacing=True)
    return sitk.GetArrayFromImage(distance).astype(np.float32)


def reaches_crop_border(inner: Box, crop: Box, shape) -> bool:
    """Whether ``inner`` comes within a voxel of a face of ``crop`` that is not a face of the image."""
    return any((a <= c + 1 and c > 0) or (b >= d - 1 and d < s)
               for a, b, c, d, s in zip(inner.start, inner.stop, crop.start, crop.stop, shape))


class ContourEvolution:
    def __init__(self, image: np.ndarray, spacing_ijk, box: Box, region: np.ndarray, values: dict,
                 segment_id: int, title: str = "Active contour", origin: str = "bubbles"):
        """``image``: the source on the reference grid (NaN outside it); ``region``: the initial contour's inside
        on ``box``; ``values``: the tool's parameters (speed, weights, step size, stopping)."""
        if not np.any(region):
            raise ValueError("the initial contour is empty")
        self.image, self.spacing = image, tuple(float(s) for s in spacing_ijk)
        self.values, self.segment_id, self.title, self.origin = dict(values), segment_id, title, origin
        self.parameters = dict(values)  # the tool's options it was started or last retuned with
        self.iterations = 0  # elapsed filter iterations over every step
        self.steps = 0
        self.rms: float | None = None  # the RMS change of the last step's last iteration
        self.done = False
        self.stop_reason = ""
        self.crops_grown = 0
        self._still = 0  # iterations in a row that changed no voxel
        self._scale: float | None = None  # the edge scale or region softness, fixed at the start
        inner = tight_box(region, box.start)
        self._scale_box = inner.padded(_mm_to_voxels(SCALE_REACH_MM, self.spacing), image.shape)
        self._start_values = image[box.slices][region]  # the intensities inside the initial contour
        self.box = inner.padded(_mm_to_voxels(self.values["margin_mm"], self.spacing), image.shape)
        padded = np.zeros(self.box.shape, bool)
        padded[inner.relative_to(self.box)] = region[inner.relative_to(box)]
        self.phi = signed_distance(padded, self.spacing)
        self._speed = self._speed_image()
        self.initial = self.mask_box()

    # --- the contour -------------------------------------------------------------------------
    def inside(self) -> np.ndarray:
        return self.phi < 0

    def mask_box(self) -> tuple[Box, np.ndarray]:
        """The contour's inside as its tight box on the reference grid and the mask in it."""
        inside = self.inside()
        inner = tight_box(inside, self.box.start)
        return inner, inside[inner.relative_to(self.box)].copy()

    def preview(self, mode: str = "set") -> Preview:
        box, region = self.mask_box()
        voxels = int(np.count_nonzero(region))
        info = {"iterations": self.iterations, "steps": self.steps, "voxels": voxels,
                "rms": None if self.rms is None else round(self.rms, 5), "converged": self.done,
                "stop": self.stop_reason, "crop": self.box, "crops_grown": self.crops_grown,
                "initialised_from": self.origin}
        if mode == "set":
            box, region = self._over_initial(box, region)
        return Preview([(self.segment_id, box, region, mode)], info)

    def _over_initial(self, box: Box, region: np.ndarray) -> tuple[Box, np.ndarray]:
        """A "set" covers the initial contour's box too, so that where the contour shrank away it is cleared."""
        start_box = self.initial[0]
        union = box.union(start_box) if not box.empty else start_box
        out = np.zeros(union.shape, bool)
        if not box.empty:
            out[box.relative_to(union)] = region
        return union, out

    # --- speed ---------------------------------------------------------------------------------
    def _speed_image(self) -> sitk.Image:
        v, crop, around = self.values, self.image[self.box.slices], self.image[self._scale_box.slices]
        if v["speed"] == "edge":
            if self._scale is None:
                self._scale = edge_scale(gradient_magnitude(around, self.spacing, v["edge_sigma_mm"]))
            speed = edge_speed(crop, self.spacing, v["edge_sigma_mm"], v["edge_contrast"], self._scale)
        else:
            if v["lower"] is None and v["upper"] is None:
                raise ValueError("region speed needs a lower or an upper intensity")
            if self._scale is None:
                self._scale = v["region_softness"] or region_softness(self._start_values, around)
            speed = region_speed(crop, v["lower"], v["upper"], self._scale)
        return to_image(speed, self.spacing)

    def retune(self, values: dict) -> None:
        """New weights or stopping rules apply from the next step; a new speed recomputes the speed image."""
        speed_changed = any(values.get(k) != self.values.get(k) for k in SPEED_KEYS)
        if values.get("speed") != self.values.get("speed") or \
                values.get("region_softness") != self.values.get("region_softness"):
            self._scale = None
        self.values = dict(values)
        if speed_changed:
            self._speed = self._speed_image()
        if self.done and self.iterations < int(self.values["max_iterations"]):
            self.done, self.stop_reason = False, ""

    # --- evolution -----------------------------------------------------------------------------
    def _filter(self, iterations: int):
        v = self.values
        if v["speed"] == "edge":
            f = sitk.GeodesicActiveContourLevelSetImageFilter()
            f.SetAdvectionScaling(float(v["advection"]))
        else:
            f = sitk.ThresholdSegmentationLevelSetImageFilter()
            f.SetLowerThreshold(REGION_LOWER)
            f.SetUpperThreshold(REGION_UPPER)
        f.SetPropagationScaling(float(v["propagation"]))
        f.SetCurvatureScaling(float(v["curvature"]))
        f.SetMaximumRMSError(float(v["max_rms"]))
        f.SetNumberOfIterations(int(iterations))
        return f

    def step(self, cancelled: CancelFn | None = None) -> Preview:
        """Run the next ``iterations_per_step`` iterations (fewer at the end); returns the contour after them."""
        if self.done:
            return self.preview(self.values.get("mode", "set"))
        check_cancelled(cancelled, self.title)
        wanted = min(int(self.values["iterations_per_step"]), int(self.values["max_iterations"]) - self.iterations)
        before = self.inside()
        f = self._filter(max(wanted, 1))
        phi = to_image(self.phi, self.spacing)
        output = f.Execute(phi, self._speed)
        check_cancelled(cancelled, self.title)
        elapsed = int(f.GetElapsedIterations())
        self.phi = sitk.GetArrayFromImage(output).astype(np.float32)
        self.iterations += elapsed
        self.steps += 1
        self.rms = float(f.GetRMSChange())
        after = self.inside()
        self._still = self._still + elapsed if np.array_equal(before, after) else 0
        if not after.any():
            self.done, self.stop_reason = True, "the contour vanished"
        elif elapsed < wanted or self.rms <= float(self.values["max_rms"]):
            self.done, self.stop_reason = True, "converged (RMS change below the maximum)"
        elif self._still >= STILL_ITERATIONS:
            self.done, self.stop_reason = True, f"converged (no voxel changed in {self._still} iterations)"
        elif self.iterations >= int(self.values["max_iterations"]):
            self.done, self.stop_reason = True, "iteration limit"
        if after.any() and self._grow_crop(after):
            check_cancelled(cancelled, self.title)
        return self.preview(self.values.get("mode", "set"))

    def _grow_crop(self, inside: np.ndarray) -> bool:
        inner = tight_box(inside, self.box.start)
        shape = self.image.shape
        if not reaches_crop_border(inner, self.box, shape):
            return False
        grown = inner.padded(_mm_to_voxels(self.values["margin_mm"], self.spacing), shape).union(self.box)
        grown = grown.intersection(Box.whole(shape))
        if grown == self.box:
            return False
        phi = np.full(grown.shape, np.float32(max(float(self.phi.max()), 1.0)), np.float32)
        phi[self.box.relative_to(grown)] = self.phi
        self.box, self.phi = grown, phi
        self._speed = self._speed_image()
        self.crops_grown += 1
        if self.done and self.stop_reason.startswith("converged (no voxel"):
            self.done, self.stop_reason, self._still = False, "", 0  # the contour may move on into the new room
        return True

    def previews(self, cancelled: CancelFn | None = None) -> Iterator[Preview]:
        """Every step's contour until the evolution ends (the generator a headless caller drains)."""
        while not self.done:
            yield self.step(cancelled)
