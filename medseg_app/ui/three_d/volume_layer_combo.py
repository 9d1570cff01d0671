"""The 3-D view's title-bar combo that picks which image layer of the study the volume rendering shows."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ...core.viewer_state import ViewerState


class VolumeLayerCombo(QComboBox):
    layer_chosen = Signal(object)  # a layer id

    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self._syncing = False
        self.setToolTip("Which image layer the volume rendering shows")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currentIndexChanged.connect(self._chosen)
        state.subscribe(self._on_state)
        self._fill()

    def _on_state(self, what: str) -> None:
        if what in ("volume", "layers"):
            self._fill()

    def _fill(self) -> None:
        study = self.state.study
        layers = [] if study is None else [(layer.id, layer.name) for layer in study.layers]
        if [(self.itemData(n), self.itemText(n)) for n in range(self.count())] == layers:
            return
        current = self.currentData()
        self._syncing = True
        self.clear()
        for layer_id, name in layers:
            self.addItem(name, layer_id)
        index = self.findData(current)
        self.setCurrentIndex(index if index >= 0 else 0)
        self._syncing = False
        self.setVisible(len(layers) > 1)  # one image: nothing to choose
        if index < 0 and current is not None and layers:
            self.layer_chosen.emit(self.currentData())  # the chosen layer was removed: back to the reference

    def _chosen(self, index: int) -> None:
        if not self._syncing and index >= 0:
            self.layer_chosen.emit(self.itemData(index))
