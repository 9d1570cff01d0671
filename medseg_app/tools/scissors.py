"""Scissors: cut a segment with a shape drawn on a slice view, through the volume along the view's normal.

As 3D Slicer's Scissors effect: the shape (a freehand lasso, or a rectangle between the drag's first and last
points) is extruded along the slice axis of the view it was drawn on, through the whole volume or only a slab of
``slab_mm`` centred on the slice it was drawn on (the slices whose centres lie within half the thickness of that
slice's centre; at least that slice). The operation erases or fills the segment inside the extruded shape
(the prism) or outside it; "outside" means within the same extent: with a slab, the slab's voxels outside the
shape, and the slices beyond the slab are never touched. A voxel is inside when its centre is inside the shape by
the even-odd rule, as the polygon fill (:func:`even_odd_fill`).

Points are continuous voxel indices (i, j, k) (``display_axes.screen_to_index``) lying on one slice across voxel
axis ``slice_axis``; each view's slice axis is the voxel axis nearest its anatomical axis
(``display_axes.view_axes``), whose in-plane voxel axes run along the screen's, so a rectangle in index space is
the rectangle drawn on screen. Erasing works on the segment's bounding box, filling inside on the shape's; only
filling outside reaches the extent's whole box (it runs in the tool worker).
"""

from __future__ import annotations

import numpy as np

from ..core.box import Box
from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool
from .slice_fill import _plane_axes, even_odd_fill

SHAPES = ("freehand", "rectangle")
OPERATIONS = ("erase inside", "erase outside", "fill inside", "fill outside")
EXTENTS = ("whole volume", "slab")


def shape_polygon(points: np.ndarray, slice_axis: int, shape: str) -> np.ndarray:
    """(N, 2) polygon in the slice's (rows, columns) voxel axes: the lasso itself, or the rectangle spanned by the
    first and last points."""
    rows, cols = _plane_axes(slice_axis)
    polygon = points[:, [rows, cols]]
    if shape == "rectangle":
        (r0, c0), (r1, c1) = polygon[0], polygon[-1]
        polygon = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], float)
    return polygon


def rectangle_outline(first, last, slice_axis: int) -> tuple[tuple[float, float, float], ...]:
    """The rectangle between two (i, j, k) points as a closed path of (i, j, k) corners on the first's slice."""
    rows, cols = _plane_axes(slice_axis)
    first, last = np.asarray(first, float), np.asarray(last, float)
    corners = []
    for r, c in ((first[rows], first[cols]), (first[rows], last[cols]), (last[rows], last[cols]),
                 (last[rows], first[cols]), (first[rows], first[cols])):
        corner = first.copy()
        corner[rows], corner[cols] = r, c
        corners.append(tuple(float(v) for v in corner))
    return tuple(corners)


def slab_slices(centre: int, thickness_mm: float, spacing_mm: float, count: int) -> tuple[int, int]:
    """[first, stop) of the slices whose centres lie within ``thickness_mm / 2`` of slice ``centre``'s."""
    reach = int(np.floor(thickness_mm / 2 / spacing_mm + 1e-6))
    return max(0, centre - reach), min(count, centre + reach + 1)


class ScissorsTool(Tool):
    id = "scissors"
    title = "Scissors"
    parameters = (
        Parameter("operation", "erase inside", "Operation", kind="choice", choices=OPERATIONS),
        Parameter("shape", "freehand", "Shape", kind="choice", choices=SHAPES),
        Parameter("extent", "whole volume", "Cut through", kind="choice", choices=EXTENTS),
        Parameter("slab_mm", 10.0, "Slab thickness", minimum=0.1, maximum=1000.0, unit="mm"),
    )

    def compute(self, cancelled=None, points=(), slice_axis: int = 2) -> Preview:
        context, segment_id, mask = self._target_mask()
        points = np.asarray(points, float).reshape(-1, 3)
        shape_kind = str(self.values["shape"])
        if len(points) < (2 if shape_kind == "rectangle" else 3):
            return Preview(info={"reason": "draw a shape first"})
        operation = str(self.values["operation"])
        erase, inside = operation.startswith("erase"), operation.endswith("inside")
        if erase and mask.empty:
            return Preview(info={"reason": EMPTY_SEGMENT_REASON})
        grid = context.segmentation.shape
        through = 2 - slice_axis  # numpy axis along the view's normal
        box = self._extent_box(points, slice_axis, grid)
        if box.empty:
            return Preview(info={"reason": "the shape is outside the image"})
        rows, cols = _plane_axes(slice_axis)
        polygon = shape_polygon(points, slice_axis, shape_kind)
        if inside:  # nothing outside the shape's box can change
            lo = np.floor(polygon.min(0)).astype(int)
            hi = np.ceil(polygon.max(0)).astype(int) + 1
            start, stop = [0, 0, 0], list(grid)
            for axis, a, b in ((rows, lo[0], hi[0]), (cols, lo[1], hi[1])):
                start[2 - axis], stop[2 - axis] = int(a), int(b)
            box = box.intersection(Box(tuple(start), tuple(stop)))
        if erase:
            box = box.intersection(mask.box)
        if box.empty:
            return Preview(info={"reason": "the shape does not reach the segment" if erase else
                                 "the shape is outside the image"})
        plane = even_odd_fill(box.shape[2 - rows], box.shape[2 - cols],
                              polygon - [box.start[2 - rows], box.start[2 - cols]])
        prism = np.broadcast_to(np.expand_dims(plane, through), box.shape)
        region = prism if inside else ~prism
        if erase:
            region = region & mask.read(box)
        info = {"voxels": int(region.sum()), "slices": box.shape[through]}
        return Preview([(segment_id, box, np.ascontiguousarray(region), "remove" if erase else "add")], info)

    def _extent_box(self, points: np.ndarray, slice_axis: int, grid) -> Box:
        """The whole grid, or the slab's slices of it."""
        through = 2 - slice_axis
        start, stop = [0, 0, 0], list(grid)
        if self.values["extent"] == "slab":
            centre = int(np.floor(points[:, slice_axis].mean() + 0.5))
            spacing = float(self._require_context().volume.geometry.spacing[slice_axis])
            start[through], stop[through] = slab_slices(centre, float(self.values["slab_mm"]), spacing,
                                                        grid[through])
        return Box(tuple(start), tuple(stop))
