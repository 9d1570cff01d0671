"""Measurements drawn on the slice views: rulers and ellipse ROIs, kept in LPS patient millimetres.

Points are patient coordinates, so a measurement keeps its place when the view zooms or pans, and its length is the
patient-space distance whatever the spacing (anisotropic voxels) and direction (oblique grids): every index ↔
patient conversion goes through :class:`~medseg_app.core.geometry.ImageGeometry`.

A measurement lies on a slice of the reference grid: it is drawn on a view when all its points sit on the view's
current slice (their index along the view's slice axis rounds to it, see :func:`on_slice`).

An ellipse ROI is the ellipse inscribed in the rectangle between two opposite corners on one slice, the rectangle's
sides along the slice's two voxel axes (the views show voxel planes, never resampled ones). Its pixels are those
whose centres lie inside the ellipse; its statistics are over the source layer's values at those pixels (the
layer on the reference grid; NaN, outside the layer's image, is left out and counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .geometry import ImageGeometry

Listener = Callable[[str, int], None]  # ("added" | "removed" | "changed" | "cleared", measurement id)


@dataclass
class Ruler:
    id: int
    name: str
    start: np.ndarray  # LPS mm
    end: np.ndarray

    kind = "ruler"

    @property
    def points(self) -> list[np.ndarray]:
        return [self.start, self.end]

    @property
    def length_mm(self) -> float:
        return float(np.linalg.norm(np.asarray(self.end, float) - np.asarray(self.start, float)))


@dataclass
class EllipseRoi:
    id: int
    name: str
    corner_a: np.ndarray  # LPS mm: opposite corners of the ellipse's bounding rectangle on its slice
    corner_b: np.ndarray
    slice_axis: int  # the voxel axis (0 = i) across the ellipse's slice

    kind = "ellipse"

    @property
    def points(self) -> list[np.ndarray]:
        return [self.corner_a, self.corner_b]


Measurement = Ruler | EllipseRoi


def ruler_length_mm(geometry: ImageGeometry, start_index, end_index) -> float:
    """Patient-space distance (mm) between two continuous voxel indices of ``geometry``."""
    return float(np.linalg.norm(geometry.index_to_patient(end_index) - geometry.index_to_patient(start_index)))


def on_slice(geometry: ImageGeometry, points, slice_axis: int, slice_index: int) -> bool:
    """Whether every LPS point lies on slice ``slice_index`` across voxel axis ``slice_axis``."""
    index = geometry.patient_to_index(np.asarray(points, float))
    return bool(np.all(np.abs(index[..., slice_axis] - slice_index) < 0.5))


@dataclass(frozen=True)
class EllipsePixels:
    """The pixels of an ellipse ROI: ``inside`` over ``box`` (numpy slices of the reference array, one slice
    thick across the ROI's slice axis), and the ellipse's own area."""

    box: tuple[slice, slice, slice]
    inside: np.ndarray  # bool, the shape of array[box]
    pixel_area_mm2: float
    ellipse_area_mm2: float


def ellipse_pixels(geometry: ImageGeometry, roi: EllipseRoi) -> EllipsePixels | None:
    """The pixels whose centres lie in ``roi``'s ellipse; None when the ellipse misses the image or is flat."""
    a, b = geometry.patient_to_index(np.asarray([roi.corner_a, roi.corner_b], float))
    axis = roi.slice_axis
    in_plane = [n for n in (0, 1, 2) if n != axis]
    centre = (a + b) / 2.0
    semi = np.abs(b - a) / 2.0
    if np.any(semi[in_plane] <= 0):
        return None
    slice_index = int(np.rint(centre[axis]))
    size = geometry.size
    if not 0 <= slice_index < size[axis]:
        return None
    lo = [max(0, int(np.ceil(centre[n] - semi[n]))) for n in (0, 1, 2)]
    hi = [min(size[n], int(np.floor(centre[n] + semi[n])) + 1) for n in (0, 1, 2)]
    lo[axis], hi[axis] = slice_index, slice_index + 1
    if any(h <= l for l, h in zip(lo, hi)):
        return None
    grids = np.meshgrid(*[np.arange(lo[n], hi[n]) for n in (2, 1, 0)], indexing="ij")  # numpy order k, j, i
    inside = np.ones(grids[0].shape, bool)
    distance = np.zeros(grids[0].shape)
    for n in in_plane:
        distance += ((grids[2 - n] - centre[n]) / semi[n]) ** 2
    inside &= distance <= 1.0
    spacing = geometry.spacing
    pixel_area = float(spacing[in_plane[0]] * spacing[in_plane[1]])
    ellipse_area = float(np.pi * semi[in_plane[0]] * spacing[in_plane[0]] * semi[in_plane[1]] * spacing[in_plane[1]])
    box = tuple(slice(lo[n], hi[n]) for n in (2, 1, 0))
    return EllipsePixels(box, inside, pixel_area, ellipse_area)


def ellipse_statistics(values: np.ndarray, geometry: ImageGeometry, roi: EllipseRoi) -> dict:
    """Mean, SD (population, ddof 0), min, max of ``values`` (numpy order k, j, i on ``geometry``) over the
    ROI's pixels, their count and area (mm²), the ellipse's area, and how many pixels had no value (NaN)."""
    pixels = ellipse_pixels(geometry, roi)
    empty = {"pixels": 0, "no_value": 0, "mean": float("nan"), "sd": float("nan"), "min": float("nan"),
             "max": float("nan"), "area_mm2": 0.0, "ellipse_area_mm2": 0.0}
    if pixels is None:
        return empty
    picked = np.asarray(values[pixels.box], np.float64)[pixels.inside]
    valid = picked[~np.isnan(picked)]
    out = dict(empty, pixels=int(pixels.inside.sum()), no_value=int(picked.size - valid.size),
               area_mm2=float(pixels.inside.sum() * pixels.pixel_area_mm2), ellipse_area_mm2=pixels.ellipse_area_mm2)
    if valid.size:
        out.update(mean=float(valid.mean()), sd=float(valid.std()), min=float(valid.min()), max=float(valid.max()))
    return out


@dataclass
class Measurements:
    """The rulers and ellipse ROIs of the open study, in the order they were drawn."""

    items: dict[int, Measurement] = field(default_factory=dict)
    _next_id: int = 1
    _listeners: list[Listener] = field(default_factory=list)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str, measurement_id: int) -> None:
        for listener in list(self._listeners):
            listener(what, measurement_id)

    def _new_id(self) -> int:
        new, self._next_id = self._next_id, self._next_id + 1
        return new

    def add_ruler(self, start, end, name: str = "") -> Ruler:
        new = self._new_id()
        ruler = Ruler(new, name or f"Ruler {new}", np.asarray(start, float).copy(), np.asarray(end, float).copy())
        self.items[new] = ruler
        self._notify("added", new)
        return ruler

    def add_ellipse(self, corner_a, corner_b, slice_axis: int, name: str = "") -> EllipseRoi:
        new = self._new_id()
        roi = EllipseRoi(new, name or f"Ellipse {new}", np.asarray(corner_a, float).copy(),
                         np.asarray(corner_b, float).copy(), int(slice_axis))
        self.items[new] = roi
        self._notify("added", new)
        return roi

    def move(self, measurement_id: int, first, second) -> None:
        """New points of a measurement (a ruler's ends, an ellipse's corners), e.g. while it is being drawn."""
        item = self.items[measurement_id]
        if isinstance(item, Ruler):
            item.start, item.end = np.asarray(first, float).copy(), np.asarray(second, float).copy()
        else:
            item.corner_a, item.corner_b = np.asarray(first, float).copy(), np.asarray(second, float).copy()
        self._notify("changed", measurement_id)

    def rename(self, measurement_id: int, name: str) -> None:
        self.items[measurement_id].name = name
        self._notify("changed", measurement_id)

    def remove(self, measurement_id: int) -> None:
        if self.items.pop(measurement_id, None) is not None:
            self._notify("removed", measurement_id)

    def clear(self) -> None:
        self.items.clear()
        self._next_id = 1
        self._notify("cleared", 0)

    # --- sessions ------------------------------------------------------------------------------
    def to_json(self) -> list[dict]:
        out = []
        for item in self.items.values():
            if isinstance(item, Ruler):
                out.append({"kind": "ruler", "name": item.name, "start": [float(v) for v in item.start],
                            "end": [float(v) for v in item.end]})
            else:
                out.append({"kind": "ellipse", "name": item.name, "corner_a": [float(v) for v in item.corner_a],
                            "corner_b": [float(v) for v in item.corner_b], "slice_axis": item.slice_axis})
        return out

    def load_json(self, entries: list[dict]) -> None:
        """Replace the measurements by a session's (:meth:`to_json`); unknown kinds are skipped."""
        self.clear()
        for entry in entries:
            if entry.get("kind") == "ruler":
                self.add_ruler(entry["start"], entry["end"], entry.get("name", ""))
            elif entry.get("kind") == "ellipse":
                self.add_ellipse(entry["corner_a"], entry["corner_b"], int(entry["slice_axis"]), entry.get("name", ""))
