"""Live wire options: the tool's parameters (edge smoothing, search margin, add or erase), the contour's point
count, and buttons to remove the last point and to close the contour (as Backspace and Enter in the view)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .tool_options_widget import ToolOptionsWidget


class LiveWireOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.controller = controller
        row = QHBoxLayout()
        self.remove_last = QPushButton("Remove last point")
        self.close_contour = QPushButton("Close contour")
        self.close_contour.setToolTip("Close the contour back to its first point and fill it (Enter, or a "
                                      "double-click, or a click on the first point)")
        self.count = QLabel("")
        row.addWidget(self.remove_last)
        row.addWidget(self.close_contour)
        self.extra.addLayout(row)
        self.extra.addWidget(self.count)
        edges = controller.gestures.edges
        self.remove_last.clicked.connect(lambda: self._act(edges.remove_last))
        self.close_contour.clicked.connect(lambda: self._act(edges.close))
        edges.listeners.append(self._changed)
        self._changed()

    def _act(self, action) -> None:
        if self.controller.active is self.tool:
            action()
            self.controller.refresh_views()

    def _changed(self) -> None:
        wire = self.controller.gestures.edges.wire
        n = len(wire.points) if wire is not None and self.controller.active is self.tool else 0
        self.count.setText(f"{n} point{'s' if n != 1 else ''}" + ("" if n else ": click on a boundary to start"))
        self.remove_last.setEnabled(n > 0)
        self.close_contour.setEnabled(n >= 3)
