"""Level tracing (3D Slicer's "Level tracing" effect): the iso-intensity outline through the pixel under the
mouse on one slice, previewed as the mouse moves and filled on a click.

Slicer's effect runs ``vtkITKLevelTracingImageFilter`` (ITK's ``LevelTracingImageFilter``): the seed pixel's value
is the level, pixels with a value ≥ the level are the foreground (8-connected, the background 4-connected), and the
filter walks the foreground's boundary from the seed with a Moore-neighbour sweep; the effect then fills the
traced polygon. Here the region is the 8-connected component, containing the pixel, of the slice's pixels on the
pixel's side of the level (``side="above"``: value ≥ the pixel's, Slicer's case; ``"below"``: ≤), with every hole
it encloses filled (what filling the traced outer polygon gives); its outline is that region's outer boundary,
traced with the same sweep. Unlike the ITK filter, a pixel inside a uniform area still gives its component (the
ITK filter traces nothing unless the seed has a background neighbour).

Own implementation on cc3d's labelling (a dependency already; 2.6× faster than ``scipy.ndimage.label`` on a 512²
CT slice): ITK's filter is not in SimpleITK, and one labelling of the slice plus a trace of the boundary pixels
stays well inside a mouse move's time on a 512² slice (benchmark ``level_trace_update``). Intensities come from
``context.image`` (any source layer); NaN is on no side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.box import Box
from .base import CancelFn, Parameter, Preview, Tool
from .slice_plane import (as_slab, fill_enclosed, in_volume, nearest_voxel, plane_box, plane_of,
                          pixels_to_voxels, voxel_to_pixel)

MODES = {"add": "add", "erase": "remove"}
# Moore neighbours clockwise on screen (rows grow downwards): W, NW, N, NE, E, SE, S, SW.
_STEPS = ((0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1))


@dataclass(frozen=True)
class LevelTrace:
    """The traced region on one slice: ``region`` covers ``box`` (one voxel thick); ``outline`` is the closed
    outer boundary through pixel centres as (N, 3) voxel indices (i, j, k), its first point not repeated."""

    slice_axis: int
    slice_index: int
    level: float
    box: Box
    region: np.ndarray
    outline: np.ndarray

    @property
    def voxels(self) -> int:
        return int(np.count_nonzero(self.region))


def level_component(plane: np.ndarray, seed: tuple[int, int], side: str = "above"):
    """(region, (row0, col0)): the filled 8-connected component containing ``seed`` of the pixels on the seed's
    side of its value, cropped to its bounding box whose first pixel is (row0, col0); None when the seed has no
    value (NaN)."""
    import cc3d

    level = plane[seed]
    if plane.dtype.kind == "f" and not np.isfinite(level):
        return None
    candidates = plane >= level if side == "above" else plane <= level
    labels = cc3d.connected_components(candidates, connectivity=8)
    label = labels[seed]
    rows = np.flatnonzero((labels == label).any(axis=1))  # one pass of the plane, then only the box is read
    box_rows = slice(rows[0], rows[-1] + 1)
    cols = np.flatnonzero((labels[box_rows] == label).any(axis=0))
    box_cols = slice(cols[0], cols[-1] + 1)
    region = fill_enclosed(labels[box_rows, box_cols] == label)
    return region, (int(rows[0]), int(cols[0]))


def outer_boundary(region: np.ndarray) -> np.ndarray:
    """(N, 2) (row, column) pixels of the outer boundary of a region with one 8-connected component, in clockwise
    order from its first pixel in raster order (Moore-neighbour tracing, stopped by Jacob's criterion: back at
    the start about to take the first step again)."""
    height, width = region.shape
    padded = np.pad(region, 1)
    flat, stride = padded.tobytes(), width + 2
    start = int(np.flatnonzero(padded)[0])
    offsets = [dr * stride + dc for dr, dc in _STEPS]
    # per direction came from: the sweep's (next direction came from, offset) pairs, clockwise after it
    sweeps = [[((d + 4) % 8, offsets[d]) for d in ((c + t) % 8 for t in range(1, 9))] for c in range(8)]
    trace, here, came_from = [start], start, 0  # the start's west neighbour is background
    first_step = None
    while True:
        for next_came_from, offset in sweeps[came_from]:
            step = here + offset
            if flat[step]:
                break
        else:
            break  # a single pixel
        if here == start and step == first_step:
            break
        if first_step is None:
            first_step = step
        trace.append(step)
        came_from = next_came_from  # radial sweep: the next one starts just after the pixel we came from
        here = step
    if len(trace) > 1 and trace[-1] == start:
        trace.pop()
    points = np.divmod(np.asarray(trace), stride)
    return np.stack(points, axis=1) - 1


class LevelTracingTool(Tool):
    id = "level_trace"
    title = "Level tracing"
    parameters = (
        Parameter("side", "above", "Region", "choice", choices=("above", "below")),
        Parameter("mode", "add", "Mode", "choice", choices=tuple(MODES)),
    )

    def trace(self, index, slice_axis: int = 2) -> LevelTrace | None:
        """The region and outline through the voxel nearest ``index`` (continuous i, j, k) on its slice across
        ``slice_axis``; None off the image or where the source has no value."""
        context = self._require_context()
        shape = context.segmentation.shape
        voxel = nearest_voxel(index)
        if not in_volume(voxel, shape):
            return None
        slice_index = int(voxel[slice_axis])
        plane = plane_of(context.image, slice_axis, slice_index)
        found = level_component(plane, voxel_to_pixel(voxel, slice_axis), str(self.values["side"]))
        if found is None:
            return None
        region, (row0, col0) = found
        box = plane_box(shape, slice_axis, slice_index, (row0, col0), (row0 + region.shape[0], col0 + region.shape[1]))
        outline = pixels_to_voxels(outer_boundary(region) + (row0, col0), slice_axis, slice_index)
        level = plane[voxel_to_pixel(voxel, slice_axis)]
        return LevelTrace(slice_axis, slice_index, float(level), box, as_slab(region, slice_axis), outline)

    def compute(self, cancelled: CancelFn | None = None, index=(0, 0, 0), slice_axis: int = 2) -> Preview:
        traced = self.trace(index, slice_axis)
        if traced is None:
            return Preview(info={"reason": "the pixel is outside the image or the source has no value there"})
        return Preview([(self._target(), traced.box, traced.region, MODES[self.values["mode"]])],
                       {"voxels": traced.voxels, "level": traced.level})
