"""Threshold options: lower / upper as sliders with spin boxes over the source layer's value range (the views show
the thresholded slices live while a slider moves; the whole volume follows in the worker when it stops),
then the method (manual or automatic), the side an automatic threshold keeps, a preset, how to apply, whether to
threshold within the AI dock's box, and where a fraction-of-SUVmax preset measures SUVmax (said again under the
sliders once a preview has measured it)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSlider, QWidget

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

    def set_range(self, low: float, high: float, decimals: int) -> None:
        self.low, self.high = low, max(high, low + 1e-6)
        self.spin.blockSignals(True)
        self.spin.setDecimals(decimals)
        self.spin.setRange(self.low, self.high)
        self.spin.blockSignals(False)

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


MEASURED_IN = {"segment": "the segment being edited", "box": "the box", "volume": "the whole image"}


class ThresholdOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent, skip=("lower", "upper"))
        self.controller = controller
        low, high, decimals, unit, _ = self._source_range()
        self.lower = _RangeRow(low, high, decimals, lambda v: self._bound("lower", v))
        self.upper = _RangeRow(low, high, decimals, lambda v: self._bound("upper", v))
        self.range_form = QFormLayout()
        self.range_form.addRow(f"Lower{unit}", self.lower)
        self.range_form.addRow(f"Upper{unit}", self.upper)
        self.form.insertRow(0, "", QWidget())
        self.extra.addLayout(self.range_form)
        self.suv_max = QLabel("")
        self.suv_max.setObjectName("suv_max_measured")
        self.suv_max.setWordWrap(True)
        self.suv_max.setVisible(False)
        self.extra.addWidget(self.suv_max)
        self._default_range(overwrite=False)
        controller.preview_changed.connect(self._preview_changed)
        controller.source_changed.connect(lambda _id: self._source_changed())

    def _source_range(self) -> tuple[float, float, int, str, float]:
        """(low, high, decimals, " (units)", a starting lower bound) of the source layer's values."""
        state, layer = self.controller.state, self.controller.source()
        study = state.study
        volume = layer.volume if layer is not None else state.volume
        if volume is None:
            return 0.0, 1.0, 2, "", 0.0
        low, high = volume.value_range()
        decimals = 0 if volume.array.dtype.kind in "iu" else 2
        unit = f" ({volume.units})" if volume.units else ""
        reference = layer is None or study is None or layer is study.reference
        level = state.window.level if reference else layer.window.level
        return low, high, decimals, unit, float(np.clip(level, low, high))

    def _default_range(self, overwrite: bool) -> None:
        low, high, _, _, start = self._source_range()
        if overwrite or self.tool.values.get("lower") is None:
            self.tool.set(lower=start)
        if overwrite or self.tool.values.get("upper") is None:
            self.tool.set(upper=high)
        self.lower.set_value(self.tool.values["lower"])
        self.upper.set_value(self.tool.values["upper"])

    def _source_changed(self) -> None:
        """Another source layer: the sliders span its values, in its units, from its window's level up."""
        low, high, decimals, unit, _ = self._source_range()
        for name, row in (("Lower", self.lower), ("Upper", self.upper)):
            row.set_range(low, high, decimals)
            label = self.range_form.labelForField(row)
            if label is not None:
                label.setText(f"{name}{unit}")
        self._default_range(overwrite=True)
        self.suv_max.setVisible(False)

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
        suv_max = preview.info.get("suv_max")
        if suv_max is not None:
            where = MEASURED_IN.get(preview.info.get("suv_max_within"), "the image")
            self.suv_max.setText(f"SUVmax {suv_max:.2f} {preview.info.get('units', '')} of "
                                 f"{preview.info.get('source', 'the source')}, measured in {where}")
        self.suv_max.setVisible(suv_max is not None)
