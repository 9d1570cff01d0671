"""The combo box of the study's overlays (the layers one registers or moves), kept on its layer across refreshes."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from ...core.study import Study


def fill_overlay_combo(combo: QComboBox, study: Study | None) -> None:
    """List ``study``'s overlays in ``combo`` (item data: the layer id), keeping the chosen layer if it is still
    there; no change signal is emitted."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for layer in (study.overlays if study is not None else []):
        combo.addItem(f"{layer.name} ({layer.modality or 'image'})", layer.id)
    if current is not None and combo.findData(current) >= 0:
        combo.setCurrentIndex(combo.findData(current))
    combo.blockSignals(False)


def chosen_layer(combo: QComboBox, study: Study | None):
    """The layer the combo shows, or None (no study, nothing chosen, or a layer removed meanwhile)."""
    layer_id = combo.currentData()
    if study is None or layer_id is None:
        return None
    try:
        return study.layer(layer_id)
    except KeyError:
        return None
