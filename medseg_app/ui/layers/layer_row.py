"""One row of the Layers dock: a layer's visibility, name, modality, order buttons, remove, opacity, colour map,
fusion mode and window (value range with presets); the banner when it is not registered.

Edits go straight to the study (``Study.set_display``, ``move_layer``, ``remove_layer``, ``confirm_alignment``);
the reference's window and colour map are the viewer's (``ViewerState.set_window`` / ``set_colour_map``, the same
as the window / level bar). :meth:`refresh` shows the layer's settings again without sending any edit back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from ...core.study import FUSION_MODES, LAYER_COLOUR_MAPS, ImageLayer
from ...core.viewer_state import ViewerState
from ...core.window_level import presets_for
from .alignment_banner import AlignmentBanner
from .window_range_editor import WindowRangeEditor

COLOUR_MAP_TITLES = {"grey": "Grey", "hot": "Hot", "rainbow": "Rainbow (jet)", "inverted": "Inverted grey"}
FUSION_TITLES = {"blend": "Blend", "checkerboard": "Checkerboard", "difference": "Difference"}


class LayerRow(QWidget):
    def __init__(self, state: ViewerState, layer: ImageLayer, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.layer = layer
        self.is_reference = layer is state.study.reference
        self._syncing = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(2)
        top = QHBoxLayout()
        self.visible_box = QCheckBox()
        self.visible_box.setToolTip("Show the layer" if not self.is_reference else "The reference is always shown")
        self.visible_box.setEnabled(not self.is_reference)
        self.modality_label = QLabel(layer.modality or "image")
        self.modality_label.setStyleSheet("color: #888;")
        shown = layer.name[len(layer.modality) + 1:] if layer.modality and layer.name.startswith(
            f"{layer.modality} ") else layer.name  # layer_name() starts with the modality, shown beside it
        self.name_label = QLabel(f"<b>{shown}</b>")
        self.name_label.setToolTip(f"{layer.name}{' (reference)' if self.is_reference else ''}")
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # clipped, not wide
        top.addWidget(self.visible_box)
        top.addWidget(self.modality_label)
        top.addWidget(self.name_label, 1)
        self.up_button = self._tool_button("▲", "Draw earlier (under the layer listed above)")
        self.down_button = self._tool_button("▼", "Draw later (over the layer listed below)")
        self.remove_button = self._tool_button("✕", "Remove the layer from the study")
        for button in (self.up_button, self.down_button, self.remove_button):
            button.setVisible(not self.is_reference)
            top.addWidget(button)
        outer.addLayout(top)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setToolTip("Opacity over the layers below (blend)")
        self.colour_box = QComboBox()
        for name in LAYER_COLOUR_MAPS:
            self.colour_box.addItem(COLOUR_MAP_TITLES.get(name, name), name)
        self.colour_box.setToolTip("Colour map")
        self.fusion_box = QComboBox()
        for name in FUSION_MODES:
            self.fusion_box.addItem(FUSION_TITLES.get(name, name), name)
        self.fusion_box.setToolTip("How the layer meets the reference: blend at its opacity, or the registration "
                                   "checks (20 mm checkerboard of reference and layer, their difference)")
        if not self.is_reference:
            opacity = QHBoxLayout()
            opacity.addWidget(QLabel("Opacity"))
            opacity.addWidget(self.opacity_slider, 1)
            outer.addLayout(opacity)
        looks = QHBoxLayout()
        looks.addWidget(self.colour_box, 1)
        if not self.is_reference:
            looks.addWidget(self.fusion_box, 1)
        outer.addLayout(looks)
        self.window_editor = WindowRangeEditor(presets_for(layer.modality, layer.units), layer.units)
        outer.addWidget(self.window_editor)
        self.banner = AlignmentBanner()
        outer.addWidget(self.banner)
        self.visible_box.toggled.connect(self._visibility_toggled)
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        self.colour_box.currentIndexChanged.connect(self._colour_chosen)
        self.fusion_box.currentIndexChanged.connect(self._fusion_chosen)
        self.window_editor.window_changed.connect(self._window_changed)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(+1))
        self.remove_button.clicked.connect(lambda: self.state.study.remove_layer(self.layer.id))
        self.banner.confirm_clicked.connect(lambda: self.state.study.confirm_alignment(self.layer.id))
        self.refresh()

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    @property
    def study(self):
        return self.state.study

    def refresh(self) -> None:
        layer = self.layer
        self._syncing = True
        self.visible_box.setChecked(layer.visible)
        self.opacity_slider.setValue(round(layer.opacity * 100))
        colour_map = self.state.colour_map if self.is_reference else layer.colour_map
        self.colour_box.setCurrentIndex(max(0, self.colour_box.findData(colour_map)))
        self.fusion_box.setCurrentIndex(max(0, self.fusion_box.findData(layer.fusion_mode)))
        self.window_editor.set_window(self.state.window if self.is_reference else layer.window)
        self.banner.setVisible(not layer.registered)
        position = self.study.layers.index(layer) if layer in self.study.layers else 0
        self.up_button.setEnabled(position > 1)
        self.down_button.setEnabled(0 < position < len(self.study.layers) - 1)
        self._syncing = False

    def _visibility_toggled(self, on: bool) -> None:
        if not self._syncing:
            self.study.set_display(self.layer.id, visible=on)

    def _opacity_changed(self, value: int) -> None:
        if not self._syncing:
            self.study.set_display(self.layer.id, opacity=value / 100.0)

    def _colour_chosen(self, index: int) -> None:
        if self._syncing:
            return
        name = self.colour_box.itemData(index)
        if self.is_reference:
            self.state.set_colour_map(name)
        else:
            self.study.set_display(self.layer.id, colour_map=name)

    def _fusion_chosen(self, index: int) -> None:
        if not self._syncing:
            self.study.set_display(self.layer.id, fusion_mode=self.fusion_box.itemData(index))

    def _window_changed(self, window) -> None:
        if self._syncing:
            return
        if self.is_reference:
            self.state.set_window(window)
        else:
            self.study.set_display(self.layer.id, window=window)

    def _move(self, step: int) -> None:
        position = self.study.layers.index(self.layer) + step
        if position >= 1:
            self.study.move_layer(self.layer.id, position)
