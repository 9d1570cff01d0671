"""What the left button does in a slice view while a tool is active, and the cursor the tool draws there.

Brush: a press opens a stroke (one undo step), moves lay dabs with no gaps, the release closes it; the brush's
true size in mm is drawn as its outline under the mouse. Seeds: Shift+click, or any click in seed mode, adds a
seed (crosses on the slices they lie on). Click: flood fill at the voxel. Lasso: the drag's path is drawn and
filled on the slice at the release. Picking tools (Islands "keep selected") take the clicked voxel. Otherwise the
left button keeps moving the crosshair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from ..core.box import Box
from ..core.display_axes import index_to_screen
from ..core.segmentation import LockedSegmentError
from .tool_registry import picks_by_click

if TYPE_CHECKING:
    from .slice_view import SliceView
    from .tool_controller import ToolController

BRUSH_COLOUR = QColor(255, 255, 120)
SEED_COLOUR = QColor(60, 255, 120)
LASSO_COLOUR = QColor(255, 225, 40)


class SliceInteraction:
    def __init__(self, controller: "ToolController"):
        self.controller = controller
        self.views: list["SliceView"] = []
        self._hover: tuple["SliceView", QPointF] | None = None
        self._lasso: list[np.ndarray] = []
        self._lasso_view: "SliceView" | None = None
        self._stroking = False

    def attach(self, view: "SliceView") -> None:
        view.interactor = self
        self.views.append(view)

    def refresh(self) -> None:
        for view in self.views:
            view.update()

    @property
    def tool(self):
        return self.controller.active

    # --- mouse -------------------------------------------------------------------------------
    def press(self, view: "SliceView", event) -> bool:
        kind, tool = self.controller.kind, self.tool
        if tool is None or view.state.volume is None:
            return False
        index = view.index_at(event.position())
        voxel = view.voxel_at(event.position())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if kind == "brush":
            if self.controller.ensure_segment() is None:
                return False
            self._stroking = self._edit(lambda: tool.begin_stroke(index, view.axes.slice_axis))
            return True
        if kind == "seeds" and (shift or self.controller.seed_mode):
            if voxel is not None:
                self.controller.add_seed(voxel)
                self.refresh()
            return True
        if kind == "click":
            if voxel is not None:
                self.controller.apply_now(index=voxel, slice_axis=view.axes.slice_axis)
            return True
        if kind == "lasso":
            self._lasso, self._lasso_view = [index], view
            return True
        if kind == "volume" and picks_by_click(tool):
            if voxel is not None:
                self.controller.pick(voxel)
            return True
        return False

    def drag(self, view: "SliceView", event) -> None:
        if self.controller.kind == "brush" and self._stroking:
            index = view.index_at(event.position())
            self._stroking = self._edit(lambda: self.tool.stroke_to(index, view.axes.slice_axis))
        elif self.controller.kind == "lasso" and self._lasso_view is view:
            self._lasso.append(view.index_at(event.position()))
            view.update()

    def release(self, view: "SliceView", event) -> None:
        if self.controller.kind == "brush":
            self._stroking = False
            if self.tool is not None:
                self.tool.end_stroke()
        elif self.controller.kind == "lasso" and self._lasso_view is view:
            points, self._lasso, self._lasso_view = self._lasso, [], None
            if len(points) >= 3:
                self.controller.apply_now(points=[tuple(p) for p in points], slice_axis=view.axes.slice_axis)
            view.update()

    def hover(self, view: "SliceView", event) -> None:
        previous = self._hover[0] if self._hover else None
        self._hover = None if event is None else (view, QPointF(event.position()))
        if self.controller.kind == "brush":
            view.update()
            if previous is not None and previous is not view:
                previous.update()

    def _edit(self, action) -> bool:
        try:
            action()
        except LockedSegmentError as exc:
            self.tool.end_stroke()
            self.controller.message.emit(f"{exc}; unlock it to paint.")
            return False
        return True

    # --- live slices (threshold) -------------------------------------------------------------
    def live_slices(self) -> None:
        """The live tool's preview on the slice each view shows (quick, on the GUI thread)."""
        tool, state = self.tool, self.controller.state
        slice_preview = getattr(tool, "preview_slice", None)
        if tool is None or slice_preview is None or state.volume is None or state.segmentation is None:
            return
        if tool.values.get("method", "manual") != "manual" or tool.values.get("preset", "none") != "none":
            return  # an automatic or preset range is worked out on the whole volume, in the worker
        if self.controller.ensure_segment() is None:
            return
        shape = state.volume.array.shape
        mode = str(tool.values.get("mode", "add"))
        changes, seen = [], set()
        for view in self.views:
            axis, index = 2 - view.axes.slice_axis, state.slice_index(view.view)  # numpy axis of the slices
            if (axis, index) in seen:
                continue
            seen.add((axis, index))
            plane = np.asarray(slice_preview(axis, index), bool)
            start, stop = [0, 0, 0], list(shape)
            start[axis], stop[axis] = index, index + 1
            changes.append((Box(tuple(start), tuple(stop)), np.expand_dims(plane, axis), mode))
        state.set_preview(changes)

    # --- drawing -----------------------------------------------------------------------------
    def paint(self, view: "SliceView", painter: QPainter) -> None:
        kind = self.controller.kind
        if kind == "brush" and self._hover is not None and self._hover[0] is view:
            self._paint_brush(view, painter, self._hover[1])
        elif kind == "seeds":
            self._paint_seeds(view, painter)
        elif kind == "lasso" and self._lasso_view is view and len(self._lasso) > 1:
            points = [view.viewport.to_widget(*index_to_screen(view.state.volume.geometry, view.axes, p)[:2])
                      for p in self._lasso]
            painter.setPen(QPen(LASSO_COLOUR, 1.5))
            painter.drawPolyline(QPolygonF(points))

    def _paint_brush(self, view: "SliceView", painter: QPainter, at: QPointF) -> None:
        tool = self.tool
        diameter_mm = float(tool.values.get("diameter_mm", 0) or 0)
        vp = view.viewport
        rect = vp.target_rect()
        px_per_mm_x = rect.width() / (vp.image_width * vp.pixel_mm[0])
        px_per_mm_y = rect.height() / (vp.image_height * vp.pixel_mm[1])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(BRUSH_COLOUR, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(at, diameter_mm / 2 * px_per_mm_x, diameter_mm / 2 * px_per_mm_y)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_seeds(self, view: "SliceView", painter: QPainter) -> None:
        if not self.controller.seeds:
            return
        geometry, index = view.state.volume.geometry, view.state.slice_index(view.view)
        painter.setPen(QPen(SEED_COLOUR, 2))
        for seed in self.controller.seeds:
            x, y, s = index_to_screen(geometry, view.axes, seed)
            if s != index:
                continue
            centre = view.viewport.to_widget(x, y)
            painter.drawLine(centre + QPointF(-6, 0), centre + QPointF(6, 0))
            painter.drawLine(centre + QPointF(0, -6), centre + QPointF(0, 6))
