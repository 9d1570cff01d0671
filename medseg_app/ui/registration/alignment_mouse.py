"""The left button while the adjust dock's "Move with the mouse" mode is on: a drag on a slice view moves the
chosen image layer.

:class:`AlignmentMouse` takes each slice view's ``interactor`` (whatever stands there: the tools, measurements, the
AI box) and stands in front of it. With the mode on and a layer chosen, a left-drag translates the layer in the
view's plane so the anatomy under the press point follows the cursor (widget point → voxel index → patient mm
through the view's own mapping, so sagittal, coronal and oblique grids behave alike), and a Ctrl+left-drag
rotates it about the view's normal through the crosshair by the change of the cursor's angle around it (the
in-plane move and the ring rotation of ITK-SNAP's and MITK's registration manipulators; right-drag stays
window / level). One drag is one step of the transform history. ``dragging`` says when a drag starts and ends, so
the whole-volume resample waits for its end while the views sample the changing transform slice by slice.
With the mode off every event goes on to the wrapped interactor, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from ...core.layer_dragging import angle_around, rotated, translated
from ...core.layer_transform import LayerTransform

if TYPE_CHECKING:
    from ..viewer.slice_view import SliceView


@dataclass(frozen=True)
class _Drag:
    view: "SliceView"
    layer_id: int
    start: LayerTransform
    press_mm: np.ndarray
    rotate: bool
    centre_mm: np.ndarray
    normal: np.ndarray
    gesture: tuple


class AlignmentMouse(QObject):
    dragging = Signal(bool)  # True when a drag of the layer starts, False when it ends

    def __init__(self, state, history: Callable, layer: Callable, parent: QObject | None = None):
        """``history()``: the study's TransformHistory now; ``layer()``: the ImageLayer to move, or None."""
        super().__init__(parent)
        self.state = state
        self._history, self._layer = history, layer
        self.active = False
        self.views: list["SliceView"] = []
        self._inner: dict[int, object] = {}  # id(view) -> the interactor it had
        self._drag: _Drag | None = None
        self._moved = False
        self._gestures = count()

    def attach(self, view: "SliceView") -> None:
        self._inner[id(view)] = view.interactor
        view.interactor = self
        self.views.append(view)

    def set_active(self, active: bool) -> None:
        if not active:
            self._finish()
        self.active = bool(active)
        shape = Qt.CursorShape.SizeAllCursor if self.active else Qt.CursorShape.CrossCursor  # the views' own
        for view in self.views:
            view.setCursor(shape)

    # --- the drag ----------------------------------------------------------------------------
    def _patient_at(self, view: "SliceView", event) -> np.ndarray:
        return self.state.volume.geometry.index_to_patient(view.index_at(event.position()))

    def _begin(self, view: "SliceView", event) -> bool:
        layer = self._layer()
        if layer is None or self.state.study is None:
            return False
        geometry = self.state.volume.geometry
        rotate = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        normal = np.asarray(geometry.direction, dtype=float)[:, view.axes.slice_axis]
        self._drag = _Drag(view, layer.id, layer.transform, self._patient_at(view, event), rotate,
                           geometry.index_to_patient(np.asarray(self.state.crosshair, dtype=float)), normal,
                           ("mouse", next(self._gestures)))
        self._moved = False
        self.dragging.emit(True)
        return True

    def _follow(self, view: "SliceView", event) -> None:
        d = self._drag
        if view is not d.view:
            return
        cursor = self._patient_at(view, event)
        if d.rotate:
            transform = rotated(d.start, d.centre_mm, d.normal, angle_around(d.centre_mm, d.normal, d.press_mm, cursor))
        else:
            transform = translated(d.start, d.press_mm, cursor)
        if not self._moved and np.allclose(transform.layer_to_reference, d.start.layer_to_reference):
            return  # a click, or no move yet: no undo step
        self._moved = True
        try:
            self._history().apply(d.layer_id, transform, "manual", d.gesture)
        except KeyError:  # the layer was removed during the drag
            self._finish()

    def _finish(self) -> None:
        if self._drag is None:
            return
        self._drag = None
        if self._moved:
            self._history().end_gesture()
        self.dragging.emit(False)

    # --- the interactor protocol of SliceView ------------------------------------------------
    def _inner_of(self, view):
        return self._inner.get(id(view))

    def press(self, view: "SliceView", event) -> bool:
        if self.active and self.state.volume is not None and self._begin(view, event):
            return True
        inner = self._inner_of(view)
        return bool(inner is not None and inner.press(view, event))

    def drag(self, view: "SliceView", event) -> None:
        if self._drag is not None:
            self._follow(view, event)
            return
        inner = self._inner_of(view)
        if inner is not None:
            inner.drag(view, event)

    def release(self, view: "SliceView", event) -> None:
        if self._drag is not None:
            self._follow(view, event)
            self._finish()
            return
        inner = self._inner_of(view)
        if inner is not None:
            inner.release(view, event)

    def hover(self, view: "SliceView", event) -> None:
        inner = self._inner_of(view)
        if inner is not None:
            inner.hover(view, event)

    def paint(self, view: "SliceView", painter) -> None:
        inner = self._inner_of(view)
        if inner is not None:
            inner.paint(view, painter)
