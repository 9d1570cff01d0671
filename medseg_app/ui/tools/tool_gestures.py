"""What a slice-view gesture does with the active tool (the viewer only reports gestures, see
:mod:`medseg_app.ui.viewer.slice_interaction`).

Brush: a press opens a stroke (one undo step), drags lay dabs with no gaps, the release closes it; the brush's
true size in mm is drawn as its outline under the mouse. Seeds: Shift+click, or any click in seed mode, adds a
seed (crosses on the slices they lie on). Click: flood fill at the voxel. Lasso: the drag's path is drawn and
filled on the slice at the release. Cut (Scissors): the drag draws a lasso, or the rectangle from the press to the
mouse, and the release hands the shape to the controller, which cuts in the worker. Picking tools (Islands "keep
selected") take the clicked voxel. Otherwise the press is not taken and the left button keeps moving the crosshair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.segmentation import LockedSegmentError
from ...tools.scissors import rectangle_outline
from ..viewer.slice_interaction import BrushOutline, IndexPath, SeedMarks, SliceGesture
from .edge_tool_gestures import EDGE_KINDS, EdgeToolGestures
from .tool_registry import picks_by_click

if TYPE_CHECKING:
    from .tool_controller import ToolController


class ToolGestures:
    def __init__(self, controller: "ToolController"):
        self.controller = controller
        self._lasso: list[tuple[float, float, float]] = []
        self._lasso_view: str | None = None
        self._lasso_axis = 2  # the slice axis of the view the lasso is drawn on
        self._stroking = False
        self.edges = EdgeToolGestures(controller)  # level tracing and live wire

    @property
    def tool(self):
        return self.controller.active

    def gesture(self, g: SliceGesture) -> bool:
        if self.controller.kind in EDGE_KINDS:
            return self.edges.gesture(g)
        handle = {"press": self._press, "drag": self._drag, "release": self._release}.get(g.phase)
        if handle is not None:
            return handle(g)
        # hover / leave: the brush outline follows the mouse
        return g.phase in ("hover", "leave") and self.controller.kind == "brush"

    def _press(self, g: SliceGesture) -> bool:
        controller, tool = self.controller, self.tool
        kind = controller.kind
        if tool is None or controller.state.volume is None:
            return False
        if kind == "brush":
            if controller.source_waiting() or controller.ensure_segment() is None:
                return False
            self._stroking = self._edit(lambda: tool.begin_stroke(g.index, g.slice_axis))
            return True
        if kind == "seeds" and (g.shift or controller.seed_mode):
            if g.voxel is not None:
                controller.add_seed(g.voxel)
                controller.refresh_views()
            return True
        if kind == "click":
            if g.voxel is not None:
                controller.apply_now(index=g.voxel, slice_axis=g.slice_axis)
            return True
        if kind in ("lasso", "cut"):
            self._lasso, self._lasso_view = [tuple(float(v) for v in g.index)], g.view
            self._lasso_axis = g.slice_axis
            return True
        if kind == "volume" and picks_by_click(tool):
            if g.voxel is not None:
                controller.pick(g.voxel)
            return True
        return False

    def _drag(self, g: SliceGesture) -> bool:
        kind = self.controller.kind
        if kind == "brush" and self._stroking:
            self._stroking = self._edit(lambda: self.tool.stroke_to(g.index, g.slice_axis))
        elif kind in ("lasso", "cut") and self._lasso_view == g.view:
            self._lasso.append(tuple(float(v) for v in g.index))
            return True
        return False

    def _release(self, g: SliceGesture) -> bool:
        kind = self.controller.kind
        if kind == "brush":
            self._stroking = False
            if self.tool is not None:
                self.tool.end_stroke()
        elif kind == "lasso" and self._lasso_view == g.view:
            points, self._lasso, self._lasso_view = self._lasso, [], None
            if len(points) >= 3:
                self.controller.apply_now(points=points, slice_axis=g.slice_axis)
            return True
        elif kind == "cut" and self._lasso_view == g.view:
            points, self._lasso, self._lasso_view = self._lasso, [], None
            if len(points) >= (2 if self._rectangle() else 3):
                self.controller.cut(points, self._lasso_axis)
            return True
        return False

    def _edit(self, action) -> bool:
        try:
            action()
        except LockedSegmentError as exc:
            self.tool.end_stroke()
            self.controller.message.emit(f"{exc}; unlock it to paint.")
            return False
        return True

    def overlay(self) -> list:
        kind, tool = self.controller.kind, self.tool
        if kind in EDGE_KINDS:
            return self.edges.overlay()
        if kind == "brush" and tool is not None:
            return [BrushOutline(float(tool.values.get("diameter_mm", 0) or 0))]
        if kind == "seeds" and self.controller.seeds:
            return [SeedMarks(tuple(self.controller.seeds))]
        if kind == "lasso" and self._lasso_view is not None:
            return [IndexPath(self._lasso_view, tuple(self._lasso))]
        if kind == "cut" and self._lasso_view is not None:
            if self._rectangle():
                outline = rectangle_outline(self._lasso[0], self._lasso[-1], self._lasso_axis)
                return [IndexPath(self._lasso_view, outline)]
            return [IndexPath(self._lasso_view, tuple(self._lasso + self._lasso[:1]))]
        return []

    def _rectangle(self) -> bool:
        return self.tool is not None and self.tool.values.get("shape") == "rectangle"
