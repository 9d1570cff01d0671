"""Segment ▸ Copy segments to another layer…: which image layer becomes the reference the segments move onto."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from ...core.study import ImageLayer, Study

EXPLANATION = ("The chosen layer becomes the reference image: every segment is carried onto its grid by a "
               "shape-keeping transfer (signed distance, linear interpolation), keeping names, colours and "
               "sources. The current reference stays in the study as an overlay. Exports then reference the new "
               "reference series.")


def layer_choice_text(layer: ImageLayer) -> str:
    size = "×".join(str(v) for v in layer.volume.size)
    spacing = " × ".join(f"{v:.2g}" for v in layer.volume.spacing)
    return f"{layer.name} ({layer.modality or 'image'}, {size} voxels of {spacing} mm)"


class CopySegmentsDialog(QDialog):
    """Lists the study's overlays; :meth:`chosen_layer_id` is the one picked (None when there are none)."""

    def __init__(self, study: Study, segment_count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Copy segments to another layer")
        layout = QVBoxLayout(self)
        self.layers = QComboBox()
        for layer in study.overlays:
            self.layers.addItem(layer_choice_text(layer), layer.id)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        self.summary = QLabel(f"{segment_count} segment{'s' if segment_count != 1 else ''} to carry from "
                              f"{study.reference.name}.")
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Copy segments")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for widget in (QLabel("Make this layer the reference:"), self.layers, self.summary, explanation,
                       self.warning, self.buttons):
            layout.addWidget(widget)
        self._study = study
        self.layers.currentIndexChanged.connect(lambda _: self._update())
        self._update()

    def chosen_layer_id(self) -> int | None:
        return self.layers.currentData()

    def _update(self) -> None:
        layer_id = self.chosen_layer_id()
        layer = self._study.layer(layer_id) if layer_id is not None else None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(layer is not None)
        if layer is None:
            self.warning.setText("The study has no other image layer; add one with File ▸ Add image layer….")
        elif not layer.registered:
            self.warning.setText("This layer is not registered to the reference: the segments would land where "
                                 "the scanners' coordinates put them. Register it first.")
        else:
            self.warning.setText("")
