"""The left button while a measurement mode is on: a drag on any slice view draws a ruler or an ellipse ROI.

:class:`MeasurementInteraction` takes each slice view's ``interactor`` (the tools' SliceInteraction) and stands in
front of it: with the mode "ruler" or "ellipse" a press starts a measurement at the point under the mouse (on the
view's slice), the drag moves its second point and the release keeps it (a click without a drag, or an ellipse
without a pixel inside, keeps nothing);
with no mode every event goes on to the wrapped interactor, as before. Shift makes the ellipse a circle (equal
extent in millimetres). Whatever the mode, the measurements on a view's slice are drawn over what the wrapped
interactor draws. ``last_view`` is the view last pressed or hovered: where "RECIST diameters" measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from ...core.measurements import EllipseRoi, ellipse_pixels
from .measurement_painting import paint_measurements

if TYPE_CHECKING:
    from ..viewer.slice_view import SliceView

MODES = (None, "ruler", "ellipse")


class MeasurementInteraction(QObject):
    mode_changed = Signal(object)  # None, "ruler" or "ellipse"

    def __init__(self, state, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.mode: str | None = None
        self.views: list["SliceView"] = []
        self._inner: dict[int, object] = {}  # id(view) -> the interactor it had
        self.last_view: "SliceView | None" = None
        self._drawing: tuple["SliceView", int, np.ndarray] | None = None  # (view, measurement id, first index)
        state.measurements.subscribe(lambda *_: self.refresh())

    def attach(self, view: "SliceView") -> None:
        self._inner[id(view)] = view.interactor
        view.interactor = self
        self.views.append(view)
        if self.last_view is None:
            self.last_view = view

    def refresh(self) -> None:
        for view in self.views:
            view.update()

    def set_mode(self, mode: str | None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown measurement mode {mode!r}")
        if mode == self.mode:
            return
        self.cancel_drawing()
        self.mode = mode
        self.mode_changed.emit(mode)

    def cancel_drawing(self) -> bool:
        """Drop the measurement being drawn; True when there was one."""
        if self._drawing is None:
            return False
        _view, measurement_id, _first = self._drawing
        self._drawing = None
        self.state.measurements.remove(measurement_id)
        return True

    # --- the interactor protocol of SliceView ------------------------------------------------
    def _inner_of(self, view):
        return self._inner.get(id(view))

    def _points(self, view: "SliceView", first: np.ndarray, index: np.ndarray, circle: bool):
        geometry = self.state.volume.geometry
        second = np.array(index, float)
        second[view.axes.slice_axis] = first[view.axes.slice_axis]
        if circle and self.mode == "ellipse":
            spacing = geometry.spacing
            x, y = view.axes.x_axis, view.axes.y_axis
            extent = max(abs(second[x] - first[x]) * spacing[x], abs(second[y] - first[y]) * spacing[y])
            for axis in (x, y):
                sign = 1.0 if second[axis] >= first[axis] else -1.0
                second[axis] = first[axis] + sign * extent / spacing[axis]
        return geometry.index_to_patient(first), geometry.index_to_patient(second)

    def press(self, view: "SliceView", event) -> bool:
        self.last_view = view
        if self.mode is None:
            inner = self._inner_of(view)
            return bool(inner is not None and inner.press(view, event))
        if self.state.volume is None:
            return False
        first = np.array(view.index_at(event.position()), float)
        lps = self.state.volume.geometry.index_to_patient(first)
        measurements = self.state.measurements
        if self.mode == "ruler":
            item = measurements.add_ruler(lps, lps)
        else:
            item = measurements.add_ellipse(lps, lps, view.axes.slice_axis)
        self._drawing = (view, item.id, first)
        return True

    def drag(self, view: "SliceView", event) -> None:
        if self._drawing is None:
            inner = self._inner_of(view)
            if inner is not None:
                inner.drag(view, event)
            return
        drawn_on, measurement_id, first = self._drawing
        if drawn_on is view:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.state.measurements.move(measurement_id, *self._points(view, first, view.index_at(event.position()),
                                                                        shift))

    def release(self, view: "SliceView", event) -> None:
        if self._drawing is None:
            inner = self._inner_of(view)
            if inner is not None:
                inner.release(view, event)
            return
        self.drag(view, event)
        drawn_on, measurement_id, first = self._drawing
        self._drawing = None
        item = self.state.measurements.items.get(measurement_id)
        if item is None:
            return
        flat = isinstance(item, EllipseRoi) and ellipse_pixels(self.state.volume.geometry, item) is None
        if flat or np.allclose(item.points[0], item.points[1]):
            self.state.measurements.remove(measurement_id)  # a click, not a drag; or an ellipse with no area

    def hover(self, view: "SliceView", event) -> None:
        if event is not None:
            self.last_view = view
        inner = self._inner_of(view)
        if inner is not None:
            inner.hover(view, event)

    def paint(self, view: "SliceView", painter) -> None:
        inner = self._inner_of(view)
        if inner is not None:
            inner.paint(view, painter)
        paint_measurements(painter, view, self.state.measurements)
