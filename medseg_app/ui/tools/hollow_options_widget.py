"""Hollow options: the shell's thickness and where it lies, with a line saying which surface stays put."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .tool_options_widget import ToolOptionsWidget

PLACEMENT_TEXT = {
    "inside": "the outer surface stays; the shell is carved inwards",
    "outside": "the current surface becomes the shell's inner wall; the shell grows outwards",
    "centred": "the shell straddles the current surface, half its thickness on each side",
}


class HollowOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.summary = QLabel("")
        self.summary.setObjectName("hollow_summary")
        self.summary.setWordWrap(True)
        self.extra.addWidget(self.summary)
        # the controller sets the tool's value after this widget hears the change: read it from the signal
        self.changed.connect(lambda name, value: self._update({**self.tool.values, name: value}))
        self._update(self.tool.values)

    def _update(self, values: dict) -> None:
        self.summary.setText(f"A {float(values['thickness_mm']):g} mm shell: {PLACEMENT_TEXT[values['placement']]}.")
