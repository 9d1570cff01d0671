"""One slice of a volume as a 2-D plane, and back: what the edge tools (level tracing, live wire) work on.

A slice is given as ``slice_axis`` (voxel axis 0 = i, 1 = j, 2 = k, the view's slice axis) and its index. Its plane
is ``np.take(volume, index, axis=2 - slice_axis)``, whose rows and columns run along the voxel axes
:func:`plane_axes` names (``slice_fill._plane_axes``' order). Plane pixels are (row, column); a voxel index is
(i, j, k).
"""

from __future__ import annotations

import numpy as np

from ..core.box import Box



def plane_axes(slice_axis: int) -> tuple[int, int]:
    """The voxel axes along a slice's plane rows and columns."""
    return tuple(a for a in (2, 1, 0) if a != slice_axis)


def plane_of(image: np.ndarray, slice_axis: int, index: int) -> np.ndarray:
    return np.take(image, int(index), axis=2 - slice_axis)


def plane_shape(shape, slice_axis: int) -> tuple[int, int]:
    rows, cols = plane_axes(slice_axis)
    return int(shape[2 - rows]), int(shape[2 - cols])


def voxel_to_pixel(voxel, slice_axis: int) -> tuple[int, int]:
    rows, cols = plane_axes(slice_axis)
    return int(voxel[rows]), int(voxel[cols])


def pixels_to_voxels(pixels: np.ndarray, slice_axis: int, index: int) -> np.ndarray:
    """(N, 2) plane (row, column) → (N, 3) voxel indices (i, j, k) on slice ``index``."""
    pixels = np.asarray(pixels).reshape(-1, 2)
    rows, cols = plane_axes(slice_axis)
    voxels = np.empty((len(pixels), 3), pixels.dtype if pixels.dtype.kind == "f" else np.int64)
    voxels[:, rows], voxels[:, cols], voxels[:, slice_axis] = pixels[:, 0], pixels[:, 1], index
    return voxels


def nearest_voxel(index) -> np.ndarray:
    """The voxel (i, j, k) whose centre is nearest a continuous index."""
    return np.floor(np.asarray(index, float) + 0.5).astype(int)


def in_volume(voxel, shape) -> bool:
    return all(0 <= int(v) < n for v, n in zip(voxel, tuple(shape)[::-1]))


def plane_box(shape, slice_axis: int, index: int, lo=(0, 0), hi=None) -> Box:
    """The one-voxel-thick box of pixels [lo, hi) (plane rows, columns) on slice ``index``."""
    rows, cols = plane_axes(slice_axis)
    hi = plane_shape(shape, slice_axis) if hi is None else hi
    start, stop = [0, 0, 0], [0, 0, 0]
    start[2 - slice_axis], stop[2 - slice_axis] = int(index), int(index) + 1
    for axis, a, b in ((rows, lo[0], hi[0]), (cols, lo[1], hi[1])):
        start[2 - axis], stop[2 - axis] = int(a), int(b)
    return Box(tuple(start), tuple(stop))


def as_slab(region2d: np.ndarray, slice_axis: int) -> np.ndarray:
    """A plane region as the one-voxel-thick 3-D array :func:`plane_box` covers."""
    return np.expand_dims(region2d, 2 - slice_axis)


def fill_enclosed(region: np.ndarray) -> np.ndarray:
    """``region`` with every background pixel it encloses added (the background is 4-connected, so an
    8-connected outline closes). One labelling of the padded background, whatever the number of holes."""
    import cc3d

    padded = np.pad(~region, 1, constant_values=True)
    labels = cc3d.connected_components(padded, connectivity=4)
    return labels[1:-1, 1:-1] != labels[0, 0]
