"""Drawing the AI model's box on the slice views, and showing it on every slice it meets.

:class:`BoxDrawing` sits in front of each slice view's interactor (the tool controller's
:class:`SliceInteraction`): while "Draw box" is on, a left drag draws a rectangle (dashed while dragging) and
turns it into a 3-D :class:`PromptBox` (see :mod:`core.prompt_box` for the depth along the view's normal and how a
rectangle on another view refines the box); a left click without a drag still moves the crosshair, so slices can
be chosen without leaving the mode. Otherwise every mouse event goes on to the wrapped interactor. The box is drawn
as a rectangle outline on each view whose slice passes through it, in or out of the mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen

from ...core.display_axes import index_to_screen
from ...core.prompt_box import PromptBox, box_from_drag
from ...core.viewer_state import ViewerState

if TYPE_CHECKING:
    from ..viewer.slice_view import SliceView

BOX_COLOUR = QColor(90, 200, 255)
CLICK_PX = 3.0  # a press and release closer than this (widget pixels) is a click, not a rectangle


class BoxDrawing(QObject):
    box_changed = Signal(object)  # the PromptBox, or None when cleared
    drawing_changed = Signal(bool)

    def __init__(self, state: ViewerState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.views: list["SliceView"] = []
        self._wrapped: dict[int, object] = {}  # id(view) -> the interactor this one sits in front of
        self.drawing = False
        self.box: PromptBox | None = None
        self._drag: tuple["SliceView", QPointF, QPointF] | None = None
        state.subscribe(self._on_state)

    def attach(self, view: "SliceView") -> None:
        self._wrapped[id(view)] = view.interactor
        view.interactor = self
        self.views.append(view)

    def _inner(self, view: "SliceView"):
        return self._wrapped.get(id(view))

    # --- the box ----------------------------------------------------------------------------
    def set_drawing(self, on: bool) -> None:
        if on == self.drawing:
            return
        self.drawing, self._drag = bool(on), None
        self.drawing_changed.emit(self.drawing)
        self.refresh()

    def set_box(self, box: PromptBox | None) -> None:
        self.box = box
        self.box_changed.emit(box)
        self.refresh()

    def refresh(self) -> None:
        for view in self.views:
            view.update()

    def _on_state(self, what: str) -> None:
        if what == "volume":  # a box belongs to its image
            self._drag = None
            if self.box is not None:
                self.set_box(None)

    # --- mouse (the interactor protocol of SliceView) ----------------------------------------
    def press(self, view: "SliceView", event) -> bool:
        if self.drawing and view.state.volume is not None:
            point = QPointF(event.position())
            self._drag = (view, point, point)
            return True
        inner = self._inner(view)
        return bool(inner.press(view, event)) if inner is not None else False

    def drag(self, view: "SliceView", event) -> None:
        if self._drag is not None and self._drag[0] is view:
            self._drag = (view, self._drag[1], QPointF(event.position()))
            view.update()
        elif self._inner(view) is not None:
            self._inner(view).drag(view, event)

    def release(self, view: "SliceView", event) -> None:
        if self._drag is None or self._drag[0] is not view:
            if self._inner(view) is not None:
                self._inner(view).release(view, event)
            return
        _, start, _ = self._drag
        end = QPointF(event.position())
        self._drag = None
        if abs(end.x() - start.x()) < CLICK_PX and abs(end.y() - start.y()) < CLICK_PX:
            x, y = view.viewport.to_image(end)  # a click: move the crosshair, as without the mode
            vp = view.viewport
            self.state.click(view.view, min(max(x, 0), vp.image_width - 1), min(max(y, 0), vp.image_height - 1))
            view.update()
            return
        self.draw_rectangle(view, start, end)

    def draw_rectangle(self, view: "SliceView", start: QPointF, end: QPointF) -> PromptBox:
        """The box for a rectangle from widget point ``start`` to ``end`` on ``view``'s current slice."""
        geometry = self.state.volume.geometry
        box = box_from_drag(geometry, view.axes, self.state.slice_index(view.view), view.index_at(start),
                            view.index_at(end), self.box)
        self.set_box(box)
        return box

    def hover(self, view: "SliceView", event) -> None:
        if self._inner(view) is not None:
            self._inner(view).hover(view, event)

    # --- drawing -----------------------------------------------------------------------------
    def paint(self, view: "SliceView", painter: QPainter) -> None:
        if self._inner(view) is not None:
            self._inner(view).paint(view, painter)
        if view.state.volume is None:
            return
        if self.box is not None and self.box.on_slice(view.axes.slice_axis, view.state.slice_index(view.view)):
            rect = self.screen_rect(view, self.box)
            painter.setPen(QPen(BOX_COLOUR, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            painter.drawText(rect.topLeft() + QPointF(3, -4), "AI box")
        if self._drag is not None and self._drag[0] is view:
            pen = QPen(BOX_COLOUR, 1.2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self._drag[1], self._drag[2]).normalized())

    @staticmethod
    def screen_rect(view: "SliceView", box: PromptBox) -> QRectF:
        """The widget rectangle of ``box``'s in-plane extents on ``view``."""
        geometry = view.state.volume.geometry
        x0, y0, _ = index_to_screen(geometry, view.axes, box.lo)
        x1, y1, _ = index_to_screen(geometry, view.axes, box.hi)
        return QRectF(view.viewport.to_widget(x0, y0), view.viewport.to_widget(x1, y1)).normalized()
