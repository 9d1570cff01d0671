"""Split islands options: the minimum size's unit (voxels or mm³) shows on its field, and a line says what the
split does to the segment's name."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .tool_options_widget import ToolOptionsWidget


class SplitIslandsOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, parent: QWidget | None = None):
        super().__init__(tool, parent)
        note = QLabel("Each island becomes a segment, largest first: the segment keeps the largest as "
                      "\"<name> 1\", the others are added as \"<name> 2\", \"<name> 3\"…; islands below the "
                      "minimum size are removed.")
        note.setWordWrap(True)
        self.extra.addWidget(note)
        self.changed.connect(lambda name, value: name == "size_unit" and self._show_unit(value))
        self._show_unit(self.tool.values["size_unit"])

    def _show_unit(self, unit: str) -> None:
        editor = self.editors["min_size"]
        editor.setSuffix(f" {unit}")
        editor.setDecimals(0 if unit == "voxels" else 1)
