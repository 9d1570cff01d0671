"""The left button in the slice views, reported as gestures, and the cursor shapes drawn over the views.

:class:`SliceInteraction` is each slice view's ``interactor``: it turns mouse events into :class:`SliceGesture`s
(where in the volume, on which view, with which modifiers) and hands them to its handler, which decides what a
gesture does (the tool controller's :class:`~medseg_app.ui.tools.tool_gestures.ToolGestures`: paint a stroke, add
a seed, fill, pick); double-clicks and Enter / Backspace / Esc reach it through an event filter on each view. A
press the handler does not take moves the crosshair, as without a tool. The handler says what to draw as data
(:class:`BrushOutline`, :class:`SeedMarks`, :class:`IndexPath`, in volume terms); this module draws it, so the
viewer never needs to know the tools and the tools never touch a QPainter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from ...core.display_axes import index_to_screen

if TYPE_CHECKING:
    from .slice_view import SliceView

BRUSH_COLOUR = QColor(255, 255, 120)
SEED_COLOUR = QColor(60, 255, 120)
LASSO_COLOUR = QColor(255, 225, 40)


@dataclass(frozen=True)
class SliceGesture:
    """One step of a left-button gesture (or a hover) on a slice view."""

    phase: str  # "press", "drag", "release", "double" (a double-click), "key" / "key_check", "hover" or "leave"
    view: str  # "axial", "sagittal" or "coronal"
    slice_axis: int  # the view's slice axis (i, j, k order: 0 = i)
    index: np.ndarray | None  # continuous (i, j, k) under the mouse; None for "leave"
    voxel: tuple[int, int, int] | None  # the voxel under the mouse, None outside the volume
    shift: bool = False
    key: str = ""  # for "key": "enter", "backspace" or "escape"


KEY_NAMES = {Qt.Key.Key_Return: "enter", Qt.Key.Key_Enter: "enter", Qt.Key.Key_Backspace: "backspace",
             Qt.Key.Key_Escape: "escape"}


@dataclass(frozen=True)
class BrushOutline:
    """The brush's true size, drawn as a circle under the mouse on the view it hovers."""

    diameter_mm: float


@dataclass(frozen=True)
class SeedMarks:
    """Crosses at these voxels, on the slices they lie on."""

    voxels: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class IndexPath:
    """A polyline through continuous (i, j, k) points, drawn on one view (a lasso being drawn)."""

    view: str
    points: tuple[tuple[float, float, float], ...]


class GestureHandler(Protocol):
    def gesture(self, gesture: SliceGesture) -> bool:
        """Act on a gesture; for a press, True takes the gesture (its drag and release come here too) and
        False leaves the press to the crosshair. For a double-click or a key, True takes it (False: the view's own
        use, maximising or stepping slices). For a drag, release or hover, True asks for a redraw."""

    def overlay(self) -> list:
        """What to draw over the slice views now (BrushOutline, SeedMarks, IndexPath)."""


class SliceInteraction:
    def __init__(self, handler: GestureHandler):
        self.handler = handler
        self.views: list["SliceView"] = []
        self._hover: tuple["SliceView", QPointF] | None = None
        self._filter = _DoubleClickAndKeys(self)

    def attach(self, view: "SliceView") -> None:
        view.interactor = self
        self.views.append(view)
        view.installEventFilter(self._filter)

    def refresh(self) -> None:
        for view in self.views:
            view.update()

    def shown_slices(self) -> list[tuple[str, int]]:
        """(view name, slice axis in i, j, k order) of each attached view."""
        return [(view.view, view.axes.slice_axis) for view in self.views]

    # --- the interactor protocol of SliceView ------------------------------------------------
    def _gesture(self, phase: str, view: "SliceView", event) -> SliceGesture:
        if event is None:
            return SliceGesture(phase, view.view, view.axes.slice_axis, None, None)
        point = event.position()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        return SliceGesture(phase, view.view, view.axes.slice_axis, view.index_at(point), view.voxel_at(point), shift)

    def press(self, view: "SliceView", event) -> bool:
        if view.state.volume is None:
            return False
        return bool(self.handler.gesture(self._gesture("press", view, event)))

    def drag(self, view: "SliceView", event) -> None:
        if self.handler.gesture(self._gesture("drag", view, event)):
            view.update()

    def release(self, view: "SliceView", event) -> None:
        if self.handler.gesture(self._gesture("release", view, event)):
            view.update()

    def double_click(self, view: "SliceView", event) -> bool:
        if view.state.volume is None:
            return False
        taken = bool(self.handler.gesture(self._gesture("double", view, event)))
        if taken:
            self.refresh()
        return taken

    def key(self, view: "SliceView", event, check: bool = False) -> bool:
        """A key pressed on ``view``: True when the handler takes it (``check``: would take it, acting on nothing;
        asked before the window's shortcuts see the key)."""
        name = KEY_NAMES.get(event.key())
        if name is None or view.state.volume is None:
            return False
        phase = "key_check" if check else "key"
        taken = bool(self.handler.gesture(SliceGesture(phase, view.view, view.axes.slice_axis, None, None, key=name)))
        if taken and not check:
            self.refresh()
        return taken

    def hover(self, view: "SliceView", event) -> None:
        previous = self._hover[0] if self._hover else None
        self._hover = None if event is None else (view, QPointF(event.position()))
        if view.state.volume is None:
            return
        if self.handler.gesture(self._gesture("leave" if event is None else "hover", view, event)):
            view.update()
            if previous is not None and previous is not view:
                previous.update()

    # --- drawing -----------------------------------------------------------------------------
    def paint(self, view: "SliceView", painter: QPainter) -> None:
        if view.state.volume is None:
            return
        for shape in self.handler.overlay():
            if isinstance(shape, BrushOutline) and self._hover is not None and self._hover[0] is view:
                _paint_brush(view, painter, self._hover[1], shape.diameter_mm)
            elif isinstance(shape, SeedMarks):
                _paint_seeds(view, painter, shape.voxels)
            elif isinstance(shape, IndexPath) and shape.view == view.view and len(shape.points) > 1:
                geometry = view.state.volume.geometry
                points = [view.viewport.to_widget(*index_to_screen(geometry, view.axes, p)[:2]) for p in shape.points]
                painter.setPen(QPen(LASSO_COLOUR, 1.5))
                painter.drawPolyline(QPolygonF(points))


class _DoubleClickAndKeys(QObject):
    """Double-clicks and keys of the attached views go to the handler first, whichever interactor wraps this one
    (the AI box, measurements): a key it takes is kept from the window's shortcuts too (ShortcutOverride)."""

    def __init__(self, interaction: SliceInteraction):
        super().__init__()
        self.interaction = interaction

    def eventFilter(self, view, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            return self.interaction.double_click(view, event)
        if kind == QEvent.Type.ShortcutOverride and self.interaction.key(view, event, check=True):
            event.accept()
            return True
        if kind == QEvent.Type.KeyPress:
            return self.interaction.key(view, event)
        return False


def _paint_brush(view: "SliceView", painter: QPainter, at: QPointF, diameter_mm: float) -> None:
    vp = view.viewport
    rect = vp.target_rect()
    px_per_mm_x = rect.width() / (vp.image_width * vp.pixel_mm[0])
    px_per_mm_y = rect.height() / (vp.image_height * vp.pixel_mm[1])
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(BRUSH_COLOUR, 1.2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(at, diameter_mm / 2 * px_per_mm_x, diameter_mm / 2 * px_per_mm_y)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)


def _paint_seeds(view: "SliceView", painter: QPainter, voxels) -> None:
    geometry, index = view.state.volume.geometry, view.state.slice_index(view.view)
    painter.setPen(QPen(SEED_COLOUR, 2))
    for seed in voxels:
        x, y, s = index_to_screen(geometry, view.axes, seed)
        if s != index:
            continue
        centre = view.viewport.to_widget(x, y)
        painter.drawLine(centre + QPointF(-6, 0), centre + QPointF(6, 0))
        painter.drawLine(centre + QPointF(0, -6), centre + QPointF(0, 6))
