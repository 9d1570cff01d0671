"""How the three slice views lie on screen: radiological convention, on the voxel grid without resampling.

Like ITK-SNAP, each view shows slices of the voxel axis closest to its anatomical axis, so an oblique
volume is displayed in its nearest orthogonal orientation and voxels are never interpolated for display.

Screen conventions (patient coordinates are LPS):
- axial:    screen right = patient left (+x), screen down = posterior (+y)   (viewed from the feet)
- coronal:  screen right = patient left (+x), screen down = inferior (-z)    (viewed from the front)
- sagittal: screen right = posterior (+y),    screen down = inferior (-z)    (viewed from the patient's left)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import ImageGeometry

VIEWS = ("axial", "coronal", "sagittal")

# view -> (patient axis through the slices, patient axis + sign along screen x, along screen y)
_LAYOUT = {
    "axial": (2, (0, +1), (1, +1)),
    "coronal": (1, (0, +1), (2, -1)),
    "sagittal": (0, (1, +1), (2, -1)),
}
# Letters on the screen edges: patient direction at (+axis, -axis).
_LETTERS = {0: ("L", "R"), 1: ("P", "A"), 2: ("S", "I")}


@dataclass(frozen=True)
class ViewAxes:
    """Which voxel axes (0 = i, 1 = j, 2 = k) a view shows, and whether each runs reversed on screen."""

    view: str
    slice_axis: int
    x_axis: int
    y_axis: int
    x_flip: bool
    y_flip: bool
    slice_flip: bool  # True when increasing slice index moves against the view's patient axis
    letters: dict  # edge -> letter: {"left", "right", "top", "bottom"}


def nearest_patient_axes(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each patient axis (x, y, z): the voxel axis closest to it, and the sign of their alignment."""
    direction = np.asarray(direction, dtype=float)
    remaining = [0, 1, 2]
    voxel_axis = np.zeros(3, dtype=int)
    sign = np.ones(3, dtype=int)
    # Assign the most clear-cut patient axes first, so a 45° oblique axis cannot steal another's voxel axis.
    for p in np.argsort(-np.abs(direction).max(axis=1)):
        a = max(remaining, key=lambda c: abs(direction[p, c]))
        remaining.remove(a)
        voxel_axis[p] = a
        sign[p] = 1 if direction[p, a] >= 0 else -1
    return voxel_axis, sign


def view_axes(geometry: ImageGeometry, view: str) -> ViewAxes:
    voxel_axis, sign = nearest_patient_axes(geometry.direction)
    through, (px, sx), (py, sy) = _LAYOUT[view]
    x_letters = _LETTERS[px] if sx > 0 else _LETTERS[px][::-1]
    y_letters = _LETTERS[py] if sy > 0 else _LETTERS[py][::-1]
    return ViewAxes(
        view=view,
        slice_axis=int(voxel_axis[through]),
        x_axis=int(voxel_axis[px]),
        y_axis=int(voxel_axis[py]),
        x_flip=bool(sign[px] * sx < 0),
        y_flip=bool(sign[py] * sy < 0),
        slice_flip=bool(sign[through] < 0),
        letters={"right": x_letters[0], "left": x_letters[1], "bottom": y_letters[0], "top": y_letters[1]},
    )


def _numpy_axis(voxel_axis: int) -> int:
    """Arrays are stored [k, j, i]: voxel axis i is numpy axis 2."""
    return 2 - voxel_axis


def slice_of(array: np.ndarray, axes: ViewAxes, index: int) -> np.ndarray:
    """The 2-D screen image (rows = screen y, columns = screen x) of slice ``index``; a view, never a copy."""
    selector = [slice(None)] * 3
    selector[_numpy_axis(axes.slice_axis)] = index
    plane = array[tuple(selector)]
    # The two remaining numpy axes, in stored order; put screen y first.
    remaining = [a for a in (2, 1, 0) if a != axes.slice_axis]  # voxel axes in numpy order k, j, i
    if remaining.index(axes.y_axis) != 0:
        plane = plane.T
    if axes.y_flip:
        plane = plane[::-1, :]
    if axes.x_flip:
        plane = plane[:, ::-1]
    return plane


def screen_to_index(geometry: ImageGeometry, axes: ViewAxes, slice_index: int, x: float, y: float) -> np.ndarray:
    """Continuous voxel index (i, j, k) under screen pixel coordinates (x, y) of a view's slice image."""
    size = geometry.size
    index = np.zeros(3)
    index[axes.slice_axis] = slice_index
    index[axes.x_axis] = (size[axes.x_axis] - 1 - x) if axes.x_flip else x
    index[axes.y_axis] = (size[axes.y_axis] - 1 - y) if axes.y_flip else y
    return index


def index_to_screen(geometry: ImageGeometry, axes: ViewAxes, index) -> tuple[float, float, int]:
    """Screen (x, y) and slice number of voxel index (i, j, k) in a view."""
    size = geometry.size
    x = index[axes.x_axis]
    y = index[axes.y_axis]
    x = (size[axes.x_axis] - 1 - x) if axes.x_flip else x
    y = (size[axes.y_axis] - 1 - y) if axes.y_flip else y
    return float(x), float(y), int(round(index[axes.slice_axis]))


def pixel_size_mm(geometry: ImageGeometry, axes: ViewAxes) -> tuple[float, float]:
    """Physical size of one screen pixel of the slice image along screen x and y (for the aspect ratio)."""
    return float(geometry.spacing[axes.x_axis]), float(geometry.spacing[axes.y_axis])


def slice_count(geometry: ImageGeometry, axes: ViewAxes) -> int:
    return int(geometry.size[axes.slice_axis])
