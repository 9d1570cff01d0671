"""What slice-view gestures do with the edge tools: level tracing (kind ``trace``) and live wire (kind ``wire``).

Level tracing: as the mouse moves, the outline through the pixel under it is traced on that view's slice and drawn;
a click fills it (one undo step). Live wire: a click adds a point on the view's slice (the first click, or one on
another view or slice, starts a contour); between clicks the path follows the tool's minimal path, and the path
from the last point to the mouse is drawn as it moves; a double-click, Enter, a click on the first point (or the
tool panel's Apply) closes the contour and fills it (one undo step); Backspace removes the last point, Esc drops
the contour. Both run on the GUI thread: one slice's work, within a mouse move's time (benchmarks
``level_trace_update``, ``livewire_segment``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...tools.live_wire import LiveWireTrace
from ..viewer.slice_interaction import IndexPath, SliceGesture

if TYPE_CHECKING:
    from .tool_controller import ToolController

EDGE_KINDS = ("trace", "wire")


class EdgeToolGestures:
    def __init__(self, controller: "ToolController"):
        self.controller = controller
        self.traced = None  # the LevelTrace under the mouse
        self.traced_view: str | None = None
        self._traced_key = None  # (view, voxel, context, options) the outline was traced for
        self.wire: LiveWireTrace | None = None
        self.wire_view: str | None = None
        self.wire_preview: np.ndarray | None = None  # the path from the last point to the mouse
        self.traces = 0  # outlines traced under the mouse (what a GUI test counts)
        self.listeners: list = []  # () -> None, called when the outline or the contour changes (options widgets)

    @property
    def tool(self):
        return self.controller.active

    def reset(self) -> None:
        self.traced = self.traced_view = self._traced_key = None
        self.wire = self.wire_view = self.wire_preview = None
        self._changed()

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()

    def _ready(self) -> bool:
        """A tool bound to an image whose source is at hand (else the controller has its resample made)."""
        tool = self.tool
        if tool is None or tool.context is None or self.controller.state.volume is None:
            return False
        return not self.controller.source_waiting()

    def gesture(self, g: SliceGesture) -> bool:
        if self.controller.kind == "trace":
            return self._level_trace(g)
        return self._live_wire(g)

    # --- level tracing -----------------------------------------------------------------------
    def _level_trace(self, g: SliceGesture) -> bool:
        if g.phase == "press":
            if g.voxel is not None and self._ready():
                self.controller.apply_now(index=g.voxel, slice_axis=g.slice_axis)
            return True
        if g.phase not in ("hover", "leave", "drag"):
            return False
        tool = self.tool
        key = (g.view, g.voxel, id(tool.context) if tool is not None else None,
               tuple(tool.values.values()) if tool is not None else None)
        if g.phase != "leave" and key == self._traced_key:
            return False  # the same pixel (the mouse moved within it): the outline stands
        had = self.traced is not None
        self.traced = self.traced_view = self._traced_key = None
        if g.phase != "leave" and g.voxel is not None and tool is not None and tool.context is not None \
                and tool.context.source_ready:
            self.traced, self.traced_view = tool.trace(g.voxel, g.slice_axis), g.view
            self._traced_key = key
            self.traces += 1
            self._changed()
        return had or self.traced is not None

    # --- live wire ---------------------------------------------------------------------------
    def _live_wire(self, g: SliceGesture) -> bool:
        wire = self.wire
        if g.phase == "press":
            if g.voxel is not None and self._ready():
                self._click(g)
            return True
        if g.phase in ("hover", "drag"):
            if wire is None or g.view != self.wire_view or g.voxel is None or not wire.on_slice(g.voxel):
                return False
            self.wire_preview = self._guarded(lambda: wire.preview_to(g.voxel))
            return True
        if wire is None:
            return False
        if g.phase == "double":
            # the double-click's first press added its point already, unless the press never came to us
            if g.voxel is not None and wire.on_slice(g.voxel) and not wire.closes_at(g.voxel) and \
                    tuple(wire.points[-1]) != tuple(g.voxel):
                self._guarded(lambda: wire.add(g.voxel))
            self.close()
            return True
        if g.phase == "key_check":
            return True
        if g.phase == "key":
            if g.key == "enter":
                self.close()
            elif g.key == "backspace":
                self.remove_last()
            else:
                self.reset()
            return True
        return False

    def _click(self, g: SliceGesture) -> None:
        wire = self.wire
        if wire is None or g.view != self.wire_view or not wire.on_slice(g.voxel):
            index = int(g.voxel[g.slice_axis])
            wire = self.wire = LiveWireTrace(self.tool, g.slice_axis, index)
            self.wire_view, self.wire_preview = g.view, None
        if wire.closes_at(g.voxel):
            self.close()
        else:
            self._guarded(lambda: wire.add(g.voxel))
            self.wire_preview = None
            self._changed()

    def remove_last(self) -> None:
        """Remove the contour's last point (the contour goes with its first)."""
        if self.wire is None:
            return
        self.wire.remove_last()
        self.wire_preview = None
        if not self.wire.points:
            self.reset()
        self._changed()

    def close(self) -> bool:
        """Close the contour being clicked and fill it (one undo step); False when there is none to close."""
        wire = self.wire
        if wire is None or self.controller.kind != "wire":
            return False
        if len(wire.points) < 3:
            self.controller.message.emit(f"{self.tool.title}: click at least three points, then close.")
            return True
        inputs = self._guarded(wire.closing_inputs)
        self.reset()
        if inputs is not None:
            self.controller.apply_now(**inputs)
        return True

    def _guarded(self, action):
        try:
            return action()
        except ValueError as exc:
            self.controller.message.emit(f"{self.tool.title}: {exc}.")
            return None

    # --- drawing -----------------------------------------------------------------------------
    def overlay(self) -> list:
        if self.controller.kind == "trace" and self.traced is not None and len(self.traced.outline):
            outline = self.traced.outline
            return [IndexPath(self.traced_view, _points(np.concatenate([outline, outline[:1]])))]
        if self.controller.kind == "wire" and self.wire is not None and self.wire.points:
            drawn = self.wire.drawn()
            if self.wire_preview is not None:
                drawn = np.concatenate([drawn, self.wire_preview[1:]])
            if len(drawn) == 1:  # one point: a short mark, so the first click shows
                drawn = np.concatenate([drawn - 0.3, drawn + 0.3])
            return [IndexPath(self.wire_view, _points(drawn))]
        return []


def _points(voxels: np.ndarray) -> tuple[tuple[float, float, float], ...]:
    return tuple(tuple(float(v) for v in p) for p in voxels)
