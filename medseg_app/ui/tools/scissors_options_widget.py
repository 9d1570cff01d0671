"""Scissors options: the operation, the shape, whole volume or slab; the slab thickness is editable only for a slab,
and a line says what the next drawn shape will do."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .tool_options_widget import ToolOptionsWidget


class ScissorsOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.summary = QLabel("")
        self.summary.setObjectName("scissors_summary")
        self.summary.setWordWrap(True)
        self.extra.addWidget(self.summary)
        # the controller sets the tool's value after this widget hears the change: read it from the signal
        self.changed.connect(lambda name, value: self._update({**self.tool.values, name: value}))
        self._update(self.tool.values)

    def _update(self, values: dict) -> None:
        slab = values["extent"] == "slab"
        self.editors["slab_mm"].setEnabled(slab)
        shape = "a rectangle (drag corner to corner)" if values["shape"] == "rectangle" else "a closed outline"
        where = f"a {float(values['slab_mm']):g} mm slab around the slice" if slab else "the whole volume"
        self.summary.setText(f"Draw {shape} on any slice view: {values['operation']} it, through {where}, "
                             "along the view's normal. One shape is one undo step.")
