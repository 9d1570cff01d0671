"""Toolbar for window / level: the modality's presets, the colour map, and spin boxes that follow mouse drags."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QToolBar, QWidget

from ...core.viewer_state import ViewerState
from ...core.volume import UNITS_SUV
from ...core.window_level import COLOUR_MAPS, WindowLevel, presets_for, volume_auto_window

CUSTOM = "Custom"
PET_INVERTED = "Inverted grey SUV 0–5"
MR_AUTO = "Auto (1–99 %)"


def presets_with_colour_maps(state: ViewerState) -> dict[str, tuple[WindowLevel, str]]:
    """Preset name -> (window, colour map) for the open volume's modality."""
    volume = state.volume
    if volume is None:
        return {}
    presets = {name: (wl, "grey") for name, wl in presets_for(volume.modality, volume.units).items()}
    if volume.modality == "PT" or volume.units == UNITS_SUV:
        presets[PET_INVERTED] = (WindowLevel.from_range(0, 5), "inverted")
    if not presets:
        presets[MR_AUTO] = (volume_auto_window(volume), "grey")  # computed once, by the loader
    return presets


class WindowLevelBar(QToolBar):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__("Window / level", parent)
        self.setObjectName("window_level_bar")
        self.state = state
        self._presets: dict[str, tuple[WindowLevel, str]] = {}
        self._syncing = False
        self.preset_box = QComboBox()
        self.preset_box.setMinimumContentsLength(14)
        self.preset_box.setToolTip("Window / level preset")
        self.colour_box = QComboBox()
        self.colour_box.addItems(list(COLOUR_MAPS))
        self.colour_box.setToolTip("Colour map")
        self.window_spin = self._spin("Window width (right-drag left / right in a view)", 1e-3)
        self.level_spin = self._spin("Window level (right-drag up / down in a view)", -1e7)
        self.addWidget(QLabel(" Preset "))
        self.addWidget(self.preset_box)
        self.addWidget(QLabel("  Colours "))
        self.addWidget(self.colour_box)
        self.addWidget(QLabel("  W "))
        self.addWidget(self.window_spin)
        self.addWidget(QLabel(" L "))
        self.addWidget(self.level_spin)
        self.preset_box.activated.connect(self._preset_chosen)
        self.colour_box.currentTextChanged.connect(self._colour_chosen)
        self.window_spin.valueChanged.connect(self._spins_changed)
        self.level_spin.valueChanged.connect(self._spins_changed)
        state.subscribe(self._on_state)
        self._on_state("volume")

    @staticmethod
    def _spin(tip: str, minimum: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(minimum, 1e7)
        spin.setKeyboardTracking(False)
        spin.setToolTip(tip)
        spin.setMinimumWidth(90)
        return spin

    def _on_state(self, what: str) -> None:
        if what == "volume":
            self._presets = presets_with_colour_maps(self.state)
            self._syncing = True
            self.preset_box.clear()
            self.preset_box.addItems([CUSTOM, *self._presets])
            self._syncing = False
            self.setEnabled(self.state.volume is not None)
            decimals = 2 if self.state.window.window < 50 else 0
            for spin in (self.window_spin, self.level_spin):
                spin.setDecimals(decimals)
                spin.setSingleStep(0.1 if decimals else 10)
        if what in ("volume", "window"):
            self._sync()

    def _sync(self) -> None:
        state = self.state
        self._syncing = True
        self.window_spin.setValue(state.window.window)
        self.level_spin.setValue(state.window.level)
        self.colour_box.setCurrentText(state.colour_map)
        current = CUSTOM
        for name, (wl, colour_map) in self._presets.items():
            if colour_map == state.colour_map and abs(wl.window - state.window.window) < 1e-6 \
                    and abs(wl.level - state.window.level) < 1e-6:
                current = name
                break
        self.preset_box.setCurrentText(current)
        self._syncing = False

    def apply_preset(self, name: str) -> None:
        window, colour_map = self._presets[name]
        self.state.set_colour_map(colour_map)
        self.state.set_window(window)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemText(index)
        if name in self._presets:
            self.apply_preset(name)

    def _colour_chosen(self, name: str) -> None:
        if not self._syncing and name and self.state.volume is not None:
            self.state.set_colour_map(name)

    def _spins_changed(self, _value: float) -> None:
        if not self._syncing and self.state.volume is not None:
            self.state.set_window(WindowLevel(self.window_spin.value(), self.level_spin.value()))
