"""What the viewer shows, without Qt: the volume, its segments, a tool preview, the crosshair, window / level.

The crosshair is one voxel index (i, j, k) shared by the three slice views: each view shows the slice through
it, so clicking in one view moves the other two. Views subscribe with :meth:`ViewerState.subscribe` and are
told which aspect changed ("volume", "crosshair", "window", "preview", "layers"); the GUI does its drawing on that call.

``study`` (:class:`core.study.Study`) holds ``volume`` as its reference and the image layers fused over it; its
changes reach the views as "layers". The overlays are the segments of ``segmentation`` (a new, empty one with every volume). Segment edits reach
listeners of :meth:`subscribe_segments` as ``(what, segment_id, box)``, whichever Segmentation is current, so
a view repaints only when the changed box reaches its slice. A tool's preview (what Apply would write) is
``preview``: a list of ``(box, region, mode)`` drawn as a distinct overlay until it is applied or dropped.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .box import Box
from .display_axes import VIEWS, ViewAxes, screen_to_index, slice_count, view_axes
from .measurements import Measurements
from .segmentation import Segmentation
from .study import Study
from .volume import Volume
from .window_level import COLOUR_MAPS, WindowLevel, volume_default_window

Listener = Callable[[str], None]
SegmentListener = Callable[[str, int, Box | None], None]
PreviewChange = tuple[Box, np.ndarray, str]  # box (numpy order), bool region of the box's shape, add / remove / set


class ViewerState:
    def __init__(self, volume: Volume | None = None):
        self._listeners: list[Listener] = []
        self._segment_listeners: list[SegmentListener] = []
        self.volume: Volume | None = None
        self.segmentation: Segmentation | None = None
        self.study: Study | None = None  # the reference (``volume``) and its image layers
        self.preview: list[PreviewChange] = []
        self.label_colours: np.ndarray | None = None  # (n_labels, 3) uint8 RGB of the last label map, row 0 unused
        self.label_opacity = 0.4
        self.axes: dict[str, ViewAxes] = {}
        self.crosshair = np.zeros(3, dtype=int)
        self.window = WindowLevel(400, 40)
        self.colour_map = "grey"
        self.measurements = Measurements()  # rulers and ellipse ROIs (LPS mm); cleared with each new volume
        if volume is not None:
            self.set_volume(volume)

    # --- observers --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    def subscribe_segments(self, listener: SegmentListener) -> None:
        """``listener(what, segment_id, box)`` for every change of the current segmentation's segments."""
        self._segment_listeners.append(listener)

    def _forward(self, segmentation: Segmentation):
        def forward(what: str, segment_id: int, box: Box | None) -> None:
            if segmentation is self.segmentation:  # a replaced segmentation's late news is dropped
                for listener in list(self._segment_listeners):
                    listener(what, segment_id, box)
        return forward

    def _forward_study(self, study: Study):
        def forward(what: str, layer_id: int) -> None:
            if study is self.study:  # "layers": a layer was added, removed, moved, restyled or re-registered
                self._notify("layers")
        return forward

    # --- content ----------------------------------------------------------------------------
    def set_volume(self, volume: Volume, labels: np.ndarray | None = None,
                   label_colours: np.ndarray | None = None, label_names: dict[int, str] | None = None,
                   label_details: dict[int, str] | None = None) -> None:
        self.volume = volume
        self.axes = {view: view_axes(volume.geometry, view) for view in VIEWS}
        self.crosshair = np.asarray(volume.size, dtype=int) // 2
        self.window = volume_default_window(volume)
        self.colour_map = "grey"
        self.label_colours = None
        self.preview = []
        self.segmentation = Segmentation(volume.geometry)
        self.segmentation.subscribe(self._forward(self.segmentation))
        self.measurements.clear()
        self.study = Study(volume)
        self.study.subscribe(self._forward_study(self.study))
        self._notify("volume")
        if labels is not None:
            self.set_labels(labels, label_colours, label_names, "label map", label_details)

    def set_study(self, study: Study, segmentation: Segmentation) -> None:
        """Make ``study`` current, its reference as ``volume`` and ``segmentation`` (on that grid) as the segments:
        Segment ▸ Copy segments to another layer… The crosshair stays on the same patient point where the new grid
        has it. Listeners hear "volume", then "segmentation"."""
        if not segmentation.geometry.same_grid(study.geometry):
            raise ValueError("the segmentation must lie on the study's reference grid")
        point = self.volume.geometry.index_to_patient(self.crosshair) if self.volume is not None else None
        old_reference = self.study.reference.id if self.study is not None else None
        volume = study.reference.volume
        self.volume = volume
        self.axes = {view: view_axes(volume.geometry, view) for view in VIEWS}
        self.crosshair = np.asarray(volume.size, dtype=int) // 2
        if point is not None and old_reference is not None and old_reference in {l.id for l in study.layers}:
            # the old reference's point, seen from the new reference
            here = study.layer(old_reference).transform.map_to_reference(point)
            index = volume.geometry.patient_to_nearest_index(here)
            self.crosshair = np.clip(index, 0, np.asarray(volume.size) - 1).astype(int)
        self.window = study.reference.window
        self.colour_map = study.reference.colour_map if study.reference.colour_map in COLOUR_MAPS else "grey"
        self.label_colours = None
        self.preview = []
        self.segmentation = segmentation
        self.segmentation.subscribe(self._forward(self.segmentation))
        self.study = study
        self.study.subscribe(self._forward_study(self.study))
        self._notify("volume")
        self._notify("segmentation")

    def set_labels(self, labels: np.ndarray | None, colours: np.ndarray | None = None,
                   names: dict[int, str] | None = None, source: str = "manual",
                   details: dict[int, str] | None = None) -> None:
        """Replace the segments by those of a label map: one segment per label value (not an undo step); ``source``
        and ``details`` (per label value) say where they came from."""
        if self.volume is None:
            raise ValueError("open an image before its label map")
        if labels is not None:
            if labels.shape != self.volume.array.shape:
                raise ValueError("a label map must lie on the image grid")
            if colours is None:
                colours = default_label_colours(int(labels.max()) + 1)
        self.segmentation = Segmentation(self.volume.geometry)
        self.segmentation.subscribe(self._forward(self.segmentation))
        self.label_colours = colours
        if labels is not None:
            for value in np.unique(labels):
                if value == 0:
                    continue
                name = (names or {}).get(int(value)) or f"Label_{int(value)}"
                segment = self.segmentation.add_segment(name, tuple(colours[int(value)]), source, labels == value)
                segment.opacity = self.label_opacity
                segment.source_detail = (details or {}).get(int(value), "")
            self.segmentation.undo_stack.clear()
        self._notify("segmentation")

    @property
    def labels(self) -> np.ndarray | None:
        """The segments as a dense label map (label n = n-th segment), or None without segments (tests, export)."""
        if self.segmentation is None or not self.segmentation.segments:
            return None
        return self.segmentation.label_map()

    def set_preview(self, changes: list[PreviewChange] | None) -> None:
        """Show what a tool would write (an empty list or None hides it)."""
        if not changes and not self.preview:
            return
        self.preview = list(changes or [])
        self._notify("preview")

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
        if self.segmentation is not None:
            names = [s.name for s in self.segmentation.segments.values()
                     if s.mask.read(Box((k, j, i), (k + 1, j + 1, i + 1)))[0, 0, 0]]
            if names:
                out["segments"] = names
        return out


def default_label_colours(n: int) -> np.ndarray:
    """Distinct colours for labels 1..n-1 (row 0, background, is black); the first is 3D Slicer's tissue red."""
    base = np.array([[0, 0, 0], [230, 60, 50], [80, 200, 90], [70, 130, 230], [240, 200, 60], [200, 90, 210],
                     [60, 210, 210], [250, 140, 60], [160, 110, 70]], dtype=np.uint8)
    reps = int(np.ceil(max(n, 1) / len(base)))
    colours = np.tile(base, (reps, 1))[:max(n, 1)]
    colours[0] = 0
    return colours
