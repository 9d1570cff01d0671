"""The box part of the AI panel: Draw box / Clear, the box's size along each axis, and its LPS corners.

The three spin boxes show the box's extent (mm) along the image axes, named after the patient axes they are
nearest to (L–R, A–P, S–I); changing one resizes the box about its centre, which is how the depth along a view's
normal is set after drawing the rectangle on that view.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.prompt_box import PromptBox, axis_names
from .box_drawing import BoxDrawing

HINT_OFF = "Draw box, then drag a rectangle around the lesion on any slice view."
HINT_ON = ("Drag a rectangle around the lesion; its depth along the view's normal starts as the mean of its two "
           "sides. Draw on another view through the box to set that view's extents; a click still moves the "
           "crosshair.")


class BoxEditor(QWidget):
    def __init__(self, drawing: BoxDrawing, parent: QWidget | None = None):
        super().__init__(parent)
        self.drawing = drawing
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.draw_button = QPushButton("Draw box")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Drag a rectangle around the lesion on a slice view")
        self.clear_button = QPushButton("Clear box")
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)
        grid = QGridLayout()
        self.axis_labels: list[QLabel] = []
        self.spins: list[QDoubleSpinBox] = []
        for axis in range(3):
            label = QLabel("")
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 5000.0)
            spin.setDecimals(1)
            spin.setSuffix(" mm")
            spin.setSingleStep(2.0)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda value, a=axis: self._resized(a, value))
            grid.addWidget(label, 0, axis)
            grid.addWidget(spin, 1, axis)
            self.axis_labels.append(label)
            self.spins.append(spin)
        layout.addLayout(grid)
        self.corners = QLabel("")
        self.corners.setWordWrap(True)
        self.corners.setToolTip("The box's opposite corners in patient coordinates (LPS, mm), as the status bar "
                                "shows positions; medseg segment --box takes the same six numbers")
        layout.addWidget(self.corners)
        self.hint = QLabel(HINT_OFF)
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.draw_button.toggled.connect(drawing.set_drawing)
        self.clear_button.clicked.connect(lambda: drawing.set_box(None))
        drawing.drawing_changed.connect(self._drawing_changed)
        drawing.box_changed.connect(self.show_box)
        self.show_box(drawing.box)

    def _drawing_changed(self, on: bool) -> None:
        if self.draw_button.isChecked() != on:
            self.draw_button.setChecked(on)
        self.hint.setText(HINT_ON if on else HINT_OFF)

    def show_box(self, box: PromptBox | None) -> None:
        volume = self.drawing.state.volume
        names = axis_names(volume.geometry) if volume is not None else ["i", "j", "k"]
        size = box.size_mm(volume.geometry) if box is not None and volume is not None else None
        for axis, (label, spin) in enumerate(zip(self.axis_labels, self.spins)):
            label.setText(names[axis])
            spin.blockSignals(True)
            spin.setValue(float(size[axis]) if size is not None else 0.0)
            spin.blockSignals(False)
            spin.setEnabled(size is not None)
        self.clear_button.setEnabled(box is not None)
        if box is None or volume is None:
            self.corners.setText("No box." if volume is not None else "")
            return
        lo, hi = box.lps_corners(volume.geometry)
        self.corners.setText("Box (LPS mm): " + ", ".join(f"{axis} {a:.1f} … {b:.1f}"
                                                          for axis, a, b in zip("xyz", lo, hi)))

    def _resized(self, axis: int, value: float) -> None:
        box, volume = self.drawing.box, self.drawing.state.volume
        if box is not None and volume is not None:
            self.drawing.set_box(box.with_size_mm(volume.geometry, axis, value))
