"""RECIST diameters of a segment on one slice: the longest in-plane diameter and the longest diameter perpendicular
to it, in millimetres, for grids with any in-plane spacing and any direction.

Contour points are the centres of the segment's boundary pixels on the slice (pixels of the mask with a
4-neighbour outside it, or on the slice's edge), the points ITK's ``ShapeLabelObject`` Feret diameter is measured
between (SimpleITK ``LabelShapeStatisticsImageFilter.GetFeretDiameter``). All pixels of the segment on the slice
count, whatever component they belong to.

- The longest diameter is the largest distance (mm) between two contour points. It joins two vertices of the
  points' convex hull (scipy's Qhull), so only hull vertices are paired.
- The perpendicular diameter is measured across the long axis: over pairs of contour points on opposite sides of
  the long axis' line whose offset along it is at most ``tolerance_mm`` (one pixel's larger side: on a pixel grid,
  points exactly across one another are rare), the largest offset across it. It is drawn exactly perpendicular to
  the long axis, halfway between the two points' positions along it. Every contour point projects onto the long
  axis between its ends (a point beyond an end would be farther from the other end than the longest diameter).

Lengths are measured in patient millimetres through :mod:`.geometry` (the direction is orthonormal, so an in-plane
distance is the spacing-scaled index distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from .geometry import ImageGeometry


@dataclass(frozen=True)
class Diameter:
    """A diameter's two ends as continuous voxel index (i, j, k) and its length in mm."""

    start: np.ndarray
    end: np.ndarray
    length_mm: float


@dataclass(frozen=True)
class RecistDiameters:
    longest: Diameter
    perpendicular: Diameter | None  # None when the segment is one pixel wide across its long axis


def boundary_pixels(mask: np.ndarray) -> np.ndarray:
    """(N, 2) (row, column) of the mask's pixels that have a 4-neighbour outside it (the slice's edge counts)."""
    mask = np.asarray(mask, bool)
    padded = np.pad(mask, 1)
    inner = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return np.argwhere(mask & ~inner)


def _hull_points(points: np.ndarray) -> np.ndarray:
    if len(points) < 4:
        return points
    try:
        return points[ConvexHull(points).vertices]
    except QhullError:  # all on one line: its two extreme points are among the sorted ends
        order = np.lexsort((points[:, 1], points[:, 0]))
        return points[[order[0], order[-1]]]


def longest_pair(points_mm: np.ndarray) -> tuple[int, int, float]:
    """Indices of the two points (mm, shape (N, 2)) farthest apart, and their distance."""
    hull = _hull_points(points_mm)
    diff = hull[:, None, :] - hull[None, :, :]
    d2 = np.einsum("abk,abk->ab", diff, diff)
    a, b = np.unravel_index(int(np.argmax(d2)), d2.shape)
    ia = int(np.flatnonzero((points_mm == hull[a]).all(axis=1))[0])
    ib = int(np.flatnonzero((points_mm == hull[b]).all(axis=1))[0])
    return ia, ib, float(np.sqrt(d2[a, b]))


def perpendicular_pair(points_mm: np.ndarray, start: int, end: int, tolerance_mm: float):
    """Across the long axis points[start] → points[end]: (along, below, above) in mm for the longest
    perpendicular diameter, or None. ``along`` is its position along the axis from ``start``, ``below`` and
    ``above`` its ends' signed offsets across it."""
    origin = points_mm[start]
    axis = points_mm[end] - origin
    u = axis / np.linalg.norm(axis)
    v = np.array([-u[1], u[0]])
    rel = points_mm - origin
    along, across = rel @ u, rel @ v
    below, above = across <= 0, across >= 0
    if not below.any() or not above.any():
        return None
    low_along, low_across = along[below], across[below]
    order = np.argsort(low_along, kind="stable")
    low_along, low_across = low_along[order], low_across[order]
    high_along, high_across = along[above], across[above]
    first = np.searchsorted(low_along, high_along - tolerance_mm, side="left")
    last = np.searchsorted(low_along, high_along + tolerance_mm, side="right")  # exclusive
    has = last > first
    if not has.any():
        return None
    # The lowest offset within each point's window [first, last): a running minimum over a sparse table.
    lowest = _range_minimum(low_across, first[has], last[has])
    spans = high_across[has] - lowest
    best = int(np.argmax(spans))
    if spans[best] <= 0:
        return None
    q = np.flatnonzero(has)[best]
    window = slice(first[has][best], last[has][best])
    p = window.start + int(np.argmin(low_across[window]))
    return (float(high_along[q] + low_along[p]) / 2.0, float(low_across[p]), float(high_across[q]))


def _range_minimum(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """min(values[first[n]:last[n]]) for each n (non-empty ranges), by a sparse table of powers of two."""
    table = [values]
    width = 1
    while 2 * width <= len(values):
        previous = table[-1]
        table.append(np.minimum(previous[:-width], previous[width:]))
        width *= 2
    length = last - first
    level = np.floor(np.log2(length)).astype(int)
    out = np.empty(len(first))
    for lv in np.unique(level):
        rows = level == lv
        row = table[lv]
        out[rows] = np.minimum(row[first[rows]], row[last[rows] - (1 << lv)])
    return out


def recist_on_plane(mask: np.ndarray, spacing_mm: tuple[float, float]):
    """On a 2-D mask with pixel size (row mm, column mm): ((row, col) start, end, length) of the longest diameter
    and of its perpendicular (None if there is none), ends in continuous pixel coordinates; None for no pixels."""
    pixels = boundary_pixels(mask)
    if len(pixels) == 0:
        return None
    scale = np.asarray(spacing_mm, float)
    points = pixels * scale
    if len(pixels) == 1:
        p = pixels[0].astype(float)
        return (p, p, 0.0), None
    a, b, length = longest_pair(points)
    longest = (pixels[a].astype(float), pixels[b].astype(float), length)
    across = perpendicular_pair(points, a, b, float(scale.max()))
    if across is None:
        return longest, None
    along, low, high = across
    u = (points[b] - points[a]) / length
    v = np.array([-u[1], u[0]])
    centre = points[a] + along * u
    perpendicular = ((centre + low * v) / scale, (centre + high * v) / scale, high - low)
    return longest, perpendicular


def plane_axes(slice_axis: int) -> tuple[int, int]:
    """The voxel axes (0 = i) along the rows and columns of ``np.take(array, index, axis=2 - slice_axis)``."""
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    return rows, cols


def _to_index(point_rc: np.ndarray, slice_axis: int, slice_index: int) -> np.ndarray:
    rows, cols = plane_axes(slice_axis)
    index = np.zeros(3)
    index[slice_axis], index[rows], index[cols] = slice_index, point_rc[0], point_rc[1]
    return index


def _diameter(geometry: ImageGeometry, ends, slice_axis: int, slice_index: int) -> Diameter:
    start = _to_index(ends[0], slice_axis, slice_index)
    end = _to_index(ends[1], slice_axis, slice_index)
    length = float(np.linalg.norm(geometry.index_to_patient(end) - geometry.index_to_patient(start)))
    return Diameter(start, end, length)


def segment_recist(mask: np.ndarray, geometry: ImageGeometry, slice_axis: int,
                   slice_index: int) -> RecistDiameters | None:
    """RECIST diameters of ``mask`` (bool, numpy order k, j, i, on ``geometry``) on slice ``slice_index`` of voxel
    axis ``slice_axis`` (0 = i); None when the segment has no pixel there."""
    plane = np.take(mask, slice_index, axis=2 - slice_axis)
    rows, cols = plane_axes(slice_axis)
    found = recist_on_plane(plane, (geometry.spacing[rows], geometry.spacing[cols]))
    if found is None:
        return None
    longest, perpendicular = found
    return RecistDiameters(
        _diameter(geometry, longest[:2], slice_axis, slice_index),
        None if perpendicular is None else _diameter(geometry, perpendicular[:2], slice_axis, slice_index))


def sparse_segment_recist(mask, geometry: ImageGeometry, slice_axis: int, slice_index: int) -> RecistDiameters | None:
    """:func:`segment_recist` of a :class:`~medseg_app.core.sparse_mask.SparseMask`, reading only its box's cut."""
    axis = 2 - slice_axis
    cut = mask.slice_plane(axis, slice_index)
    if cut is None or not cut[0].any():
        return None
    plane, box = cut
    rows, cols = plane_axes(slice_axis)
    found = recist_on_plane(plane, (geometry.spacing[rows], geometry.spacing[cols]))
    offset = np.array([box.start[2 - rows], box.start[2 - cols]], float)  # the box's corner in (row, col)
    longest, perpendicular = found
    return RecistDiameters(
        _diameter(geometry, [p + offset for p in longest[:2]], slice_axis, slice_index),
        None if perpendicular is None else
        _diameter(geometry, [p + offset for p in perpendicular[:2]], slice_axis, slice_index))
