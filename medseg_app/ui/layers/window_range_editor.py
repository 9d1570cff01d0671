"""A layer's window as a value range (low – high, e.g. SUV 0–5) with the modality's presets."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from ...core.window_level import WindowLevel

CUSTOM = "Custom"


class WindowRangeEditor(QWidget):
    window_changed = Signal(object)  # WindowLevel

    def __init__(self, presets: dict[str, WindowLevel], units: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.presets = dict(presets)
        self._syncing = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.low_spin = self._spin("Lowest value shown (the bottom of the colour map)")
        self.high_spin = self._spin("Highest value shown (the top of the colour map)")
        self.preset_box = QComboBox()
        self.preset_box.addItems([CUSTOM, *self.presets])
        self.preset_box.setToolTip("Window preset")
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_box.setMinimumContentsLength(6)
        layout.addWidget(QLabel(f"{units or 'Range'}"))
        layout.addWidget(self.low_spin)
        layout.addWidget(QLabel("–"))
        layout.addWidget(self.high_spin)
        layout.addWidget(self.preset_box, 1)
        self.low_spin.valueChanged.connect(self._spins_changed)
        self.high_spin.valueChanged.connect(self._spins_changed)
        self.preset_box.activated.connect(self._preset_chosen)

    @staticmethod
    def _spin(tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-1e7, 1e7)
        spin.setKeyboardTracking(False)
        spin.setToolTip(tip)
        spin.setMinimumWidth(60)
        return spin

    def set_window(self, window: WindowLevel) -> None:
        """Show ``window`` (no signal)."""
        self._syncing = True
        decimals = 2 if window.window < 50 else 0
        for spin in (self.low_spin, self.high_spin):
            spin.setDecimals(decimals)
            spin.setSingleStep(0.1 if decimals else 10)
        self.low_spin.setValue(window.low)
        self.high_spin.setValue(window.high)
        current = next((name for name, wl in self.presets.items()
                        if abs(wl.low - window.low) < 1e-6 and abs(wl.high - window.high) < 1e-6), CUSTOM)
        self.preset_box.setCurrentText(current)
        self._syncing = False

    def apply_preset(self, name: str) -> None:
        self.window_changed.emit(self.presets[name])

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemText(index)
        if name in self.presets:
            self.apply_preset(name)

    def _spins_changed(self, _value: float) -> None:
        if self._syncing:
            return
        low, high = self.low_spin.value(), self.high_spin.value()
        if high > low:
            self.window_changed.emit(WindowLevel.from_range(low, high))
