"""Fills on one slice: flood fill from a click, and polygon (lasso) fill.

Flood fill, ``fill="intensity"`` (3D Slicer's Flood filling effect, in 2-D): the voxels of the clicked slice
that are 4-connected to the clicked voxel through intensities within ``tolerance`` of the clicked voxel's value.
``fill="hole"`` (closing a hole left in a hand-drawn outline): the background region of the segment in that slice that
contains the click, only when the segment encloses it (a region reaching the edge of the slice is open,
and nothing is filled). A click inside the segment fills nothing.

Polygon fill (ITK-SNAP's polygon tool, Slicer's Scissors "fill inside"): voxels of the slice whose centre lies
inside the polygon by the even-odd rule, so a self-crossing lasso leaves its doubly wound parts empty.
Points are continuous voxel indices (i, j, k) (``display_axes.screen_to_index``); the slice is the one the
points lie on along ``slice_axis`` (voxel axis 0 = i, 1 = j, 2 = k).
"""

from __future__ import annotations

import numpy as np

from ..core.box import Box
from .base import Parameter, Preview, Tool

MODES = {"add": "add", "erase": "remove"}
FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)  # ndimage.generate_binary_structure(2, 1)


def slice_box(shape, slice_axis: int, index: int) -> Box:
    """The one-voxel-thick box of slice ``index`` across voxel axis ``slice_axis`` (numpy axis 2 - it)."""
    axis = 2 - slice_axis
    start, stop = [0, 0, 0], list(shape)
    start[axis], stop[axis] = index, index + 1
    return Box(tuple(start), tuple(stop))


def even_odd_fill(rows: int, cols: int, polygon: np.ndarray) -> np.ndarray:
    """(rows, cols) bool: pixel centres (r, c) inside ``polygon`` ((N, 2) of (r, c)) by the even-odd rule."""
    inside = np.zeros((rows, cols), bool)
    if len(polygon) < 3:
        return inside
    r0, c0 = polygon[:, 0], polygon[:, 1]
    r1, c1 = np.roll(r0, -1), np.roll(c0, -1)
    centres = np.arange(cols, dtype=float)
    first = max(0, int(np.ceil(r0.min())))
    last = min(rows - 1, int(np.floor(r0.max())))
    for row in range(first, last + 1):
        # Half-open test per edge, so a vertex on the scanline is counted once.
        crossing = (r0 <= row) != (r1 <= row)
        if not crossing.any():
            continue
        t = (row - r0[crossing]) / (r1[crossing] - r0[crossing])
        xs = np.sort(c0[crossing] + t * (c1[crossing] - c0[crossing]))
        inside[row] = np.searchsorted(xs, centres, side="right") % 2 == 1
    return inside


def _plane_axes(slice_axis: int) -> tuple[int, int]:
    """The two voxel axes of a slice, in the order its 2-D numpy plane stores them (rows, columns)."""
    return tuple(a for a in (2, 1, 0) if a != slice_axis)


class SliceFloodFillTool(Tool):
    id = "slice_flood_fill"
    title = "Flood fill"
    parameters = (
        Parameter("fill", "intensity", "Fill", kind="choice", choices=("intensity", "hole")),
        Parameter("tolerance", 50.0, "Intensity tolerance", minimum=0.0),
        Parameter("mode", "add", "Mode", kind="choice", choices=tuple(MODES)),
    )

    def compute(self, cancelled=None, index=(0, 0, 0), slice_axis: int = 2) -> Preview:
        context = self._require_context()
        segment_id = self._target()
        shape = context.segmentation.shape
        voxel = np.floor(np.asarray(index, float) + 0.5).astype(int)
        box = slice_box(shape, slice_axis, int(voxel[slice_axis]))
        rows, cols = _plane_axes(slice_axis)
        seed = (int(voxel[rows]), int(voxel[cols]))
        if not all(0 <= v < n for v, n in zip(voxel[::-1], shape)):
            return Preview(info={"reason": "the click is outside the image"})
        squeeze = 2 - slice_axis
        if self.values["fill"] == "intensity":
            plane = np.take(context.image[box.slices], 0, axis=squeeze)
            value, tolerance = float(plane[seed]), float(self.values["tolerance"])
            candidates = (plane >= value - tolerance) & (plane <= value + tolerance)
        else:
            candidates = ~np.take(context.segmentation.segments[segment_id].mask.read(box), 0, axis=squeeze)
        region2d = self._component(candidates, seed)
        if region2d is None:
            return Preview(info={"reason": "the click is inside the segment, or the region is not enclosed"})
        region = np.expand_dims(region2d, squeeze)
        mode = MODES[self.values["mode"]]
        return Preview([(segment_id, box, region, mode)], {"voxels": int(region.sum())})

    def _component(self, candidates: np.ndarray, seed) -> np.ndarray | None:
        if not candidates[seed]:
            return None
        from scipy import ndimage  # imported on first use: scipy.ndimage would slow the GUI's start-up

        labels, _ = ndimage.label(candidates, FOUR_CONNECTED)
        region = labels == labels[seed]
        if self.values["fill"] == "hole":
            # Enclosed means: the background region touches no edge of the slice.
            edges = region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()
            if edges:
                return None
        return region


class PolygonFillTool(Tool):
    id = "polygon_fill"
    title = "Polygon fill"
    parameters = (Parameter("mode", "add", "Mode", kind="choice", choices=tuple(MODES)),)

    def compute(self, cancelled=None, points=(), slice_axis: int = 2) -> Preview:
        context = self._require_context()
        points = np.asarray(points, float).reshape(-1, 3)
        if len(points) < 3:
            return Preview(info={"reason": "a polygon needs three points"})
        shape = context.segmentation.shape
        index = int(np.floor(points[:, slice_axis].mean() + 0.5))
        if not 0 <= index < shape[2 - slice_axis]:
            return Preview(info={"reason": "the polygon is outside the image"})
        rows, cols = _plane_axes(slice_axis)
        polygon = points[:, [rows, cols]]
        plane_shape = (shape[2 - rows], shape[2 - cols])
        lo = np.clip(np.floor(polygon.min(0)).astype(int), 0, plane_shape)
        hi = np.clip(np.ceil(polygon.max(0)).astype(int) + 1, 0, plane_shape)
        inside = even_odd_fill(hi[0] - lo[0], hi[1] - lo[1], polygon - lo)
        start, stop = [0, 0, 0], [0, 0, 0]
        start[2 - slice_axis], stop[2 - slice_axis] = index, index + 1
        for axis, a, b in ((rows, lo[0], hi[0]), (cols, lo[1], hi[1])):
            start[2 - axis], stop[2 - axis] = int(a), int(b)
        box = Box(tuple(start), tuple(stop))
        region = np.expand_dims(inside, 2 - slice_axis)
        mode = MODES[self.values["mode"]]
        return Preview([(self._target(), box, region, mode)], {"voxels": int(inside.sum())})
