"""What the viewer shows, without Qt: the volume, a label overlay, the crosshair, window / level, colour map.

The crosshair is one voxel index (i, j, k) shared by the three slice views: each view shows the slice through
it, so clicking in one view moves the other two. Views subscribe with :meth:`ViewerState.subscribe` and are
told which aspect changed ("volume", "crosshair", "window", "labels"); the GUI does its drawing on that call.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .display_axes import VIEWS, ViewAxes, screen_to_index, slice_count, view_axes
from .volume import Volume
from .window_level import COLOUR_MAPS, WindowLevel, default_window

Listener = Callable[[str], None]


class ViewerState:
    def __init__(self, volume: Volume | None = None):
        self._listeners: list[Listener] = []
        self.volume: Volume | None = None
        self.labels: np.ndarray | None = None  # uint8 / uint16 label map on the volume's grid, 0 = none
        self.label_colours: np.ndarray | None = None  # (n_labels, 3) uint8 RGB, row 0 unused
        self.label_opacity = 0.4
        self.axes: dict[str, ViewAxes] = {}
        self.crosshair = np.zeros(3, dtype=int)
        self.window = WindowLevel(400, 40)
        self.colour_map = "grey"
        if volume is not None:
            self.set_volume(volume)

    # --- observers --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    # --- content ----------------------------------------------------------------------------
    def set_volume(self, volume: Volume, labels: np.ndarray | None = None,
                   label_colours: np.ndarray | None = None) -> None:
        self.volume = volume
        self.axes = {view: view_axes(volume.geometry, view) for view in VIEWS}
        self.crosshair = np.asarray(volume.size, dtype=int) // 2
        self.window = default_window(volume.modality, volume.units, volume.array)
        self.colour_map = "grey"
        self.labels = None
        self.label_colours = None
        self._notify("volume")
        if labels is not None:
            self.set_labels(labels, label_colours)

    def set_labels(self, labels: np.ndarray | None, colours: np.ndarray | None = None) -> None:
        if labels is not None:
            if self.volume is None or labels.shape != self.volume.array.shape:
                raise ValueError("a label map must lie on the image grid")
            if labels.dtype not in (np.uint8, np.uint16):
                labels = labels.astype(np.uint8 if labels.max() < 256 else np.uint16)
            if colours is None:
                colours = default_label_colours(int(labels.max()) + 1)
        self.labels, self.label_colours = labels, colours
        self._notify("labels")

    # --- crosshair and slices ---------------------------------------------------------------
    def set_crosshair(self, index) -> None:
        if self.volume is None:
            return
        clipped = np.clip(np.rint(np.asarray(index, float)).astype(int), 0, np.asarray(self.volume.size) - 1)
        if np.array_equal(clipped, self.crosshair):
            return
        self.crosshair = clipped
        self._notify("crosshair")

    def slice_index(self, view: str) -> int:
        return int(self.crosshair[self.axes[view].slice_axis])

    def slice_count(self, view: str) -> int:
        return slice_count(self.volume.geometry, self.axes[view]) if self.volume is not None else 0

    def set_slice(self, view: str, index: int) -> None:
        if self.volume is None:
            return
        new = self.crosshair.copy()
        new[self.axes[view].slice_axis] = index
        self.set_crosshair(new)

    def step_slice(self, view: str, delta: int) -> None:
        self.set_slice(view, self.slice_index(view) + delta)

    def click(self, view: str, x: float, y: float) -> None:
        """A click at screen pixel (x, y) of a view's slice image moves the crosshair there."""
        if self.volume is None:
            return
        self.set_crosshair(screen_to_index(self.volume.geometry, self.axes[view], self.slice_index(view), x, y))

    # --- window / level ---------------------------------------------------------------------
    def set_window(self, window: WindowLevel) -> None:
        self.window = WindowLevel(max(window.window, 1e-6), window.level)
        self._notify("window")

    def drag_window(self, dx: float, dy: float) -> None:
        """Mouse drag: right widens the window, down lowers the level (like 3D Slicer), scaled to the range."""
        if self.volume is None:
            return
        scale = max(self.window.window, 1e-3) / 256.0
        self.set_window(WindowLevel(self.window.window + dx * scale, self.window.level - dy * scale))

    def set_colour_map(self, name: str) -> None:
        if name not in COLOUR_MAPS:
            raise ValueError(f"unknown colour map {name!r}")
        self.colour_map = name
        self._notify("window")

    # --- readout ----------------------------------------------------------------------------
    def readout(self, index) -> dict | None:
        """Voxel index, LPS position (mm) and value with units at ``index``, or None outside the volume."""
        if self.volume is None:
            return None
        idx = np.rint(np.asarray(index, float)).astype(int)
        if np.any(idx < 0) or np.any(idx >= np.asarray(self.volume.size)):
            return None
        i, j, k = (int(v) for v in idx)
        out = {
            "index": (i, j, k),
            "lps_mm": tuple(float(v) for v in self.volume.geometry.index_to_patient(idx)),
            "value": float(self.volume.array[k, j, i]),
            "units": self.volume.units,
        }
        if self.labels is not None:
            out["label"] = int(self.labels[k, j, i])
        return out


def default_label_colours(n: int) -> np.ndarray:
    """Distinct colours for labels 1..n-1 (row 0, background, is black); the first is 3D Slicer's tissue red."""
    base = np.array([[0, 0, 0], [230, 60, 50], [80, 200, 90], [70, 130, 230], [240, 200, 60], [200, 90, 210],
                     [60, 210, 210], [250, 140, 60], [160, 110, 70]], dtype=np.uint8)
    reps = int(np.ceil(max(n, 1) / len(base)))
    colours = np.tile(base, (reps, 1))[:max(n, 1)]
    colours[0] = 0
    return colours
