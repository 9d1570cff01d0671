"""The tool panel's "Source layer": which of the study's images the tools read intensities from (3D Slicer's source
volume). The reference comes first and is the default; the segments stay on its grid whichever layer is chosen.
Refilled whenever the study's layers change; a layer that leaves the study gives the reference back."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from .tool_controller import ToolController


def layer_label(layer, reference: bool) -> str:
    units = f", {layer.units}" if layer.units else ""
    return f"{layer.name} ({layer.modality or 'image'}{units}){' — reference' if reference else ''}"


class SourceLayerCombo(QWidget):
    def __init__(self, controller: ToolController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setObjectName("source_layer")
        self.combo.setToolTip("The image the tools read intensities from (threshold, region growing, the editing "
                              "range); the segment stays on the reference grid. Another layer is resampled onto "
                              "the reference grid (linear) the first time it is chosen.")
        form.addRow("Source layer", self.combo)
        self.combo.currentIndexChanged.connect(self._chosen)
        controller.state.subscribe(self._on_state)
        controller.source_changed.connect(lambda _id: self.refill())
        self.refill()

    def refill(self) -> None:
        study = self.controller.state.study
        self.combo.blockSignals(True)
        self.combo.clear()
        if study is not None:
            for layer in study.layers:
                self.combo.addItem(layer_label(layer, layer is study.reference), layer.id)
            current = self.controller.source_layer
            self.combo.setCurrentIndex(max(self.combo.findData(current if current is not None
                                                               else study.reference.id), 0))
        self.combo.setEnabled(self.combo.count() > 1)
        self.combo.blockSignals(False)

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.controller.set_source_layer(self.combo.itemData(index))

    def _on_state(self, what: str) -> None:
        if what in ("volume", "layers"):
            self.refill()
