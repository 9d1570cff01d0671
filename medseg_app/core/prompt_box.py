"""The box a box-prompted AI model is given, drawn as a rectangle on a slice view and kept in voxel index space.

A box is two continuous index corners ``lo`` and ``hi`` (i, j, k), where integer indices are voxel centres (as in
:mod:`core.geometry`), so a box from -0.5 to 2.5 along an axis covers voxels 0, 1 and 2 whole.

Drawing (:func:`box_from_drag`): the two points of the drag, as continuous indices of the view's slice, give the
box's extents along the view's two in-plane voxel axes; along the view's slice axis (its normal) the box is as deep,
in mm, as the mean of the rectangle's two sides, centred on the slice shown. Drawing again on *another* view whose
slice passes through the box refines it: that view's two in-plane extents are replaced and the extent along its
normal is kept (so an axial rectangle followed by a sagittal one sets all three extents). The model is given the two
opposite corners in LPS millimetres, ``geometry.index_to_patient`` of ``lo`` and ``hi``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .box import Box
from .display_axes import ViewAxes, nearest_patient_axes
from .geometry import ImageGeometry

PATIENT_AXIS_NAMES = ("L–R", "A–P", "S–I")


@dataclass(frozen=True)
class PromptBox:
    lo: tuple[float, float, float]  # continuous index (i, j, k) of one corner
    hi: tuple[float, float, float]  # of the opposite corner; lo <= hi on every axis
    view: str = ""  # the view it was last drawn on

    def lps_corners(self, geometry: ImageGeometry) -> np.ndarray:
        """(2, 3): the box's low and high corners in LPS mm, sorted per axis (what ``Predictor.segment`` takes)."""
        corners = geometry.index_to_patient(np.array([self.lo, self.hi], float))
        return np.sort(corners, axis=0)

    def size_mm(self, geometry: ImageGeometry) -> np.ndarray:
        """Extent along the voxel axes i, j, k in mm."""
        return (np.asarray(self.hi) - np.asarray(self.lo)) * geometry.spacing

    def centre(self) -> np.ndarray:
        return (np.asarray(self.lo) + np.asarray(self.hi)) / 2

    def with_size_mm(self, geometry: ImageGeometry, axis: int, size_mm: float) -> "PromptBox":
        """The box resized along voxel ``axis`` to ``size_mm`` about its centre (clipped to the image)."""
        lo, hi = np.array(self.lo, float), np.array(self.hi, float)
        half = max(float(size_mm), 0.0) / 2 / geometry.spacing[axis]
        centre = (lo[axis] + hi[axis]) / 2
        lo[axis], hi[axis] = centre - half, centre + half
        return _clipped(geometry, lo, hi, self.view)

    def on_slice(self, axis: int, index: int) -> bool:
        """Whether the slab of slice ``index`` along voxel ``axis`` meets the box."""
        return self.lo[axis] < index + 0.5 and self.hi[axis] > index - 0.5

    def voxel_box(self) -> Box:
        """The voxels (numpy order, half-open) whose centres lie in the box."""
        start = np.ceil(np.asarray(self.lo) - 1e-9).astype(int)
        stop = np.floor(np.asarray(self.hi) + 1e-9).astype(int) + 1
        return Box(tuple(int(v) for v in start[::-1]), tuple(int(v) for v in stop[::-1]))


def voxels_in_lps_box(geometry: ImageGeometry, corners) -> Box:
    """The voxels of ``geometry`` (numpy order, half-open, clipped to the image) whose centres lie in the index-space
    bounding box of a box given by two opposite LPS corners (mm): what a tool limited to a box may touch."""
    a, b = np.asarray(corners, dtype=float).reshape(2, 3)
    eight = np.array([[x, y, z] for x in (a[0], b[0]) for y in (a[1], b[1]) for z in (a[2], b[2])])
    idx = geometry.patient_to_index(eight)
    size = np.asarray(geometry.size)
    start = np.clip(np.ceil(idx.min(axis=0) - 1e-6), 0, size).astype(int)
    stop = np.clip(np.floor(idx.max(axis=0) + 1e-6) + 1, 0, size).astype(int)
    stop = np.maximum(stop, start)
    return Box(tuple(int(v) for v in start[::-1]), tuple(int(v) for v in stop[::-1]))


def _clipped(geometry: ImageGeometry, lo, hi, view: str) -> PromptBox:
    top = np.asarray(geometry.size, float) - 0.5
    lo = np.clip(lo, -0.5, top)
    hi = np.clip(hi, -0.5, top)
    return PromptBox(tuple(float(v) for v in lo), tuple(float(v) for v in np.maximum(lo, hi)), view)


def box_from_drag(geometry: ImageGeometry, axes: ViewAxes, slice_index: int, start, end,
                  previous: PromptBox | None = None) -> PromptBox:
    """The box for a rectangle dragged from continuous index ``start`` to ``end`` on slice ``slice_index`` of a
    view (see the module's docstring); ``previous``: the box so far, refined when the rectangle is drawn on
    another view whose slice passes through it."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    s = axes.slice_axis
    refine = previous is not None and previous.view != axes.view and previous.on_slice(s, slice_index)
    if refine:
        lo[s], hi[s] = previous.lo[s], previous.hi[s]
    else:
        sides = [(hi[a] - lo[a]) * geometry.spacing[a] for a in (axes.x_axis, axes.y_axis)]
        half = float(np.mean(sides)) / 2 / geometry.spacing[s]
        lo[s], hi[s] = slice_index - half, slice_index + half
    return _clipped(geometry, lo, hi, axes.view)


def axis_names(geometry: ImageGeometry) -> list[str]:
    """For each voxel axis (i, j, k), the patient axis it is nearest to: 'L–R', 'A–P' or 'S–I'."""
    voxel_axis, _ = nearest_patient_axes(geometry.direction)
    names = [""] * 3
    for patient, voxel in enumerate(voxel_axis):
        names[int(voxel)] = PATIENT_AXIS_NAMES[patient]
    return names


def parse_box(text: str) -> list[list[float]]:
    """``x0,y0,z0,x1,y1,z1`` (two opposite corners in mm, LPS; any may be negative) as [lower corner, upper corner]."""
    from .errors import CommandError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 6:
        raise CommandError(f"--box {text!r} must be six numbers x0,y0,z0,x1,y1,z1 (mm, LPS).")
    a, b = values[:3], values[3:]
    return [[min(p, q) for p, q in zip(a, b)], [max(p, q) for p, q in zip(a, b)]]
