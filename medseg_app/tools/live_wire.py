"""Live wire (intelligent scissors, Mortensen & Barrett 1995; ITK-SNAP's and MITK's livewire): click points along
a boundary on one slice; between consecutive points the contour follows the minimal-cost path on a cost that is
low on strong edges (:mod:`.minimal_path`), and the closed contour is filled on that slice as one undo step.

``LiveWireTool.path(start, end, slice_axis)`` is one segment of path (the search from ``start`` is kept, so the
preview that follows the mouse from the last point is a walk up its predecessors while the mouse stays in its
window). ``compute(points=..., slice_axis=...)`` closes the contour through the points (the last back to the first),
fills it (the contour's pixels and what they enclose) and previews that; ``path=`` gives the closed pixel path
already shown, so what is filled is what was drawn. :class:`LiveWireTrace` holds one contour being clicked (what the
slice view's gestures drive: add a point, preview to the mouse, remove the last point, close).
"""

from __future__ import annotations

import numpy as np

from .base import CancelFn, Parameter, Preview, Tool
from .minimal_path import PathSearch, edge_cost, search_from, search_window
from .slice_plane import (as_slab, fill_enclosed, in_volume, nearest_voxel, plane_axes, plane_box, plane_of,
                          voxel_to_pixel, pixels_to_voxels)

MODES = {"add": "add", "erase": "remove"}
CLOSE_PIXELS = 3  # a click this close (pixels, either axis) to the first point closes the contour


class LiveWireTool(Tool):
    id = "live_wire"
    title = "Live wire"
    parameters = (
        Parameter("sigma_mm", 1.0, "Edge smoothing", "float", minimum=0.0, maximum=10.0, unit="mm"),
        Parameter("margin", 40, "Search margin", "int", minimum=2, maximum=2048, unit="pixels"),
        Parameter("mode", "add", "Mode", "choice", choices=tuple(MODES)),
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._cost: tuple[tuple, np.ndarray] | None = None
        self._search: tuple[tuple, PathSearch] | None = None

    def activate(self, context) -> None:
        super().activate(context)
        self._cost = self._search = None

    def _slice_cost(self, slice_axis: int, index: int) -> tuple[tuple, np.ndarray, np.ndarray]:
        """(key, cost plane, (row, column) pixel spacing in mm) of one slice of the source, made once per slice."""
        context = self._require_context()
        image = context.image
        spacing = np.asarray(context.volume.spacing, float)[list(plane_axes(slice_axis))]
        key = (id(image), slice_axis, int(index), float(self.values["sigma_mm"]))
        if self._cost is None or self._cost[0] != key:
            self._cost = (key, edge_cost(plane_of(image, slice_axis, index), spacing, float(self.values["sigma_mm"])))
        return key, self._cost[1], spacing

    def path(self, start, end, slice_axis: int = 2) -> np.ndarray:
        """(N, 3) voxels (i, j, k) of the minimal path from the voxel nearest ``start`` to the one nearest ``end``
        (both included), on ``start``'s slice across ``slice_axis``."""
        context = self._require_context()
        shape = context.segmentation.shape
        a, b = nearest_voxel(start), nearest_voxel(end)
        b[slice_axis] = a[slice_axis]
        if not (in_volume(a, shape) and in_volume(b, shape)):
            raise ValueError("a live-wire point is outside the image")
        index = int(a[slice_axis])
        key, cost, spacing = self._slice_cost(slice_axis, index)
        source, target = voxel_to_pixel(a, slice_axis), voxel_to_pixel(b, slice_axis)
        kept = self._search
        if kept is None or kept[0] != key or kept[1].source != source or not kept[1].covers(target):
            lo, hi = search_window([source, target], cost.shape, int(self.values["margin"]))
            kept = self._search = (key, search_from(cost, spacing, source, lo, hi))
        return pixels_to_voxels(kept[1].path_to(target), slice_axis, index)

    def closed_path(self, points, slice_axis: int = 2) -> np.ndarray:
        """The contour through ``points`` and back to the first: (N, 3) voxels, each segment's end not repeated."""
        points = [nearest_voxel(p) for p in np.asarray(points, float).reshape(-1, 3)]
        segments = [self.path(a, b, slice_axis)[:-1] for a, b in zip(points, points[1:] + points[:1])]
        return np.concatenate(segments)

    def compute(self, cancelled: CancelFn | None = None, points=(), slice_axis: int = 2, path=None) -> Preview:
        context = self._require_context()
        points = np.asarray(points, float).reshape(-1, 3)
        if len(np.unique(nearest_voxel(points), axis=0)) < 3:
            return Preview(info={"reason": "a live-wire contour needs three points"})
        contour = self.closed_path(points, slice_axis) if path is None else np.asarray(path, int).reshape(-1, 3)
        shape = context.segmentation.shape
        index = int(contour[0, slice_axis])
        if not all(in_volume(v, shape) for v in contour[[0, -1]]) or (contour[:, slice_axis] != index).any():
            raise ValueError("a live-wire contour lies on one slice of the image")
        rows, cols = plane_axes(slice_axis)
        pixels = contour[:, [rows, cols]]
        lo, hi = pixels.min(0), pixels.max(0) + 1
        outline = np.zeros(tuple(hi - lo), bool)
        outline[tuple((pixels - lo).T)] = True
        region = fill_enclosed(outline)
        box = plane_box(shape, slice_axis, index, lo, hi)
        return Preview([(self._target(), box, as_slab(region, slice_axis), MODES[self.values["mode"]])],
                       {"voxels": int(region.sum()), "points": len(points), "contour pixels": len(contour)})


class LiveWireTrace:
    """One contour being clicked on one slice: the points and the path segments between consecutive ones."""

    def __init__(self, tool: LiveWireTool, slice_axis: int, slice_index: int):
        self.tool, self.slice_axis, self.slice_index = tool, int(slice_axis), int(slice_index)
        self.points: list[np.ndarray] = []
        self.segments: list[np.ndarray] = []  # segments[n] runs from points[n] to points[n + 1]

    def on_slice(self, voxel) -> bool:
        return int(voxel[self.slice_axis]) == self.slice_index

    def add(self, voxel) -> None:
        voxel = nearest_voxel(voxel)
        if self.points:
            self.segments.append(self.tool.path(self.points[-1], voxel, self.slice_axis))
        self.points.append(voxel)

    def preview_to(self, voxel) -> np.ndarray | None:
        """The path from the last point to ``voxel`` (the one the mouse is over), None before the first point."""
        return self.tool.path(self.points[-1], voxel, self.slice_axis) if self.points else None

    def remove_last(self) -> None:
        if self.points:
            self.points.pop()
        if self.segments:
            self.segments.pop()

    def closes_at(self, voxel) -> bool:
        """Whether a click at ``voxel`` is on the first point (and there are enough points to close)."""
        if len(self.points) < 3:
            return False
        a, b = voxel_to_pixel(self.points[0], self.slice_axis), voxel_to_pixel(nearest_voxel(voxel), self.slice_axis)
        return max(abs(a[0] - b[0]), abs(a[1] - b[1])) <= CLOSE_PIXELS

    def drawn(self) -> np.ndarray:
        """The path clicked so far, (N, 3) voxels."""
        if not self.segments:
            return np.asarray(self.points, int).reshape(-1, 3)
        return np.concatenate([s[:-1] for s in self.segments] + [self.segments[-1][-1:]])

    def closing_inputs(self) -> dict:
        """The inputs of ``compute`` that fill this contour, closed by the path from the last point to the first."""
        closing = self.tool.path(self.points[-1], self.points[0], self.slice_axis)
        path = np.concatenate([s[:-1] for s in self.segments] + [closing[:-1]])
        return {"points": [tuple(int(v) for v in p) for p in self.points], "slice_axis": self.slice_axis,
                "path": path}
