"""Level tracing options: the tool's parameters (which side of the level, add or erase), then what the outline
under the mouse holds: its level in the source's units and its pixel count (updated as the mouse moves)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .tool_options_widget import ToolOptionsWidget


class LevelTracingOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.controller = controller
        self.traced = QLabel("Move the mouse over a slice: the outline at the level under it is drawn.")
        self.traced.setWordWrap(True)
        self.extra.addWidget(self.traced)
        controller.gestures.edges.listeners.append(self._changed)

    def _changed(self) -> None:
        edges = self.controller.gestures.edges
        if self.controller.active is not self.tool or edges.traced is None:
            return
        context = self.tool.context
        units = f" {context.units}" if context is not None and context.units else ""
        self.traced.setText(f"Level {edges.traced.level:g}{units}: {edges.traced.voxels} pixels; click to fill.")
