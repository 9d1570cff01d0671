"""Threshold options: lower / upper as sliders with spin boxes over the image's value range (the views show
the thresholded slices live while a slider moves; the whole volume follows in the worker when it stops),
then the method (manual or automatic), the side an automatic threshold keeps, a preset and how to apply."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QSlider, QWidget

from .tool_options_widget import ToolOptionsWidget

STEPS = 1000


class _RangeRow(QWidget):
    """A slider and a spin box showing one bound, in image units."""

    def __init__(self, low: float, high: float, decimals: int, on_change, parent=None):
        super().__init__(parent)
        self.low, self.high = low, max(high, low + 1e-6)
        self.on_change = on_change
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(decimals)
        self.spin.setRange(self.low, self.high)
        self.spin.setKeyboardTracking(False)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._slid)
        self.spin.valueChanged.connect(self._typed)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(round((value - self.low) / (self.high - self.low) * STEPS))
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)

    def _slid(self, position: int) -> None:
        value = self.low + (self.high - self.low) * position / STEPS
        if self.spin.decimals() == 0:
            value = round(value)
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.on_change(self.spin.value())

    def _typed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round((value - self.low) / (self.high - self.low) * STEPS))
        self.slider.blockSignals(False)
        self.on_change(value)


class ThresholdOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent, skip=("lower", "upper"))
        self.controller = controller
        volume = controller.state.volume
        low, high = volume.value_range() if volume is not None else (0.0, 1.0)
        decimals = 0 if volume is not None and volume.array.dtype.kind in "iu" else 2
        unit = f" ({volume.units})" if volume is not None and volume.units else ""
        self.lower = _RangeRow(low, high, decimals, lambda v: self._bound("lower", v))
        self.upper = _RangeRow(low, high, decimals, lambda v: self._bound("upper", v))
        form = QFormLayout()
        form.addRow(f"Lower{unit}", self.lower)
        form.addRow(f"Upper{unit}", self.upper)
        self.form.insertRow(0, "", QWidget())
        self.extra.addLayout(form)
        if tool.values.get("lower") is None:
            window = controller.state.window
            tool.set(lower=float(np.clip(window.level, low, high)))
        if tool.values.get("upper") is None:
            tool.set(upper=high)
        self.lower.set_value(tool.values["lower"])
        self.upper.set_value(tool.values["upper"])
        controller.preview_changed.connect(self._preview_changed)

    def _bound(self, name: str, value: float) -> None:
        """A bound moved: it is a manual range now."""
        if self.tool.values.get("method") != "manual":
            self.tool.set(method="manual")
            self.set_value("method", "manual")
        if self.tool.values.get("preset") != "none":
            self.tool.set(preset="none")
            self.set_value("preset", "none")
        self.changed.emit(name, value)

    def _preview_changed(self, has_preview: bool) -> None:
        """An automatic method or a preset chose the range: show it on the sliders."""
        preview = self.controller.preview
        if not has_preview or preview is None or self.controller.active is not self.tool:
            return
        for name, row in (("lower", self.lower), ("upper", self.upper)):
            value = preview.info.get(name)
            if value is not None:
                row.set_value(float(value))
