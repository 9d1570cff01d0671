"""File ▸ Export registration… / Import registration…: a layer's transform as a DICOM REG (.dcm) or an ITK .tfm
(io/spatial_registration.py). Import refuses, in one sentence, a REG that registers other series; the study is
then unchanged. Both are small files and run on the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from ...core.errors import MedSegError
from ...core.transform_history import TransformHistory
from ...io.spatial_registration import read_registration, write_registration

FILE_FILTER = "DICOM registration (*.dcm);;ITK transform (*.tfm);;All files (*)"


def choose_layer(parent: QWidget, study, verb: str):
    """The overlay to act on: the only one, or the one the user picks; None when there is none or they cancel."""
    overlays = study.overlays if study is not None else []
    if not overlays:
        QMessageBox.information(parent, "MedSeg", f"The study has no image layer to {verb}; add one first.")
        return None
    if len(overlays) == 1:
        return overlays[0]
    names = [f"{layer.name} ({layer.modality or 'image'})" for layer in overlays]
    name, ok = QInputDialog.getItem(parent, "MedSeg", f"Layer to {verb}:", names, 0, False)
    return overlays[names.index(name)] if ok else None


def export_registration(parent: QWidget, study, layer, path: str | Path | None = None) -> Path | None:
    """Write ``layer``'s transform; ``path`` None asks for it. Returns the file written, or None."""
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(parent, "Export registration", "registration.dcm", FILE_FILTER)
        if not chosen:
            return None
        path = chosen
    try:
        write_registration(path, study.reference.volume, layer.volume, layer.transform)
    except MedSegError as exc:
        QMessageBox.warning(parent, "MedSeg: could not export the registration", str(exc))
        return None
    return Path(path)


def import_registration(parent: QWidget, study, layer, history: TransformHistory,
                        path: str | Path | None = None, report=None) -> bool:
    """Read a registration of ``layer`` to the reference and apply it (undoable). ``report(message)`` shows a
    refusal (default: a warning box). Returns whether the layer's transform changed."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Import registration", "", FILE_FILTER)
        if not chosen:
            return False
        path = chosen
    try:
        transform = read_registration(path, study.reference.volume, layer.volume)
    except MedSegError as exc:
        (report or (lambda m: QMessageBox.warning(parent, "MedSeg: registration not applied", m)))(str(exc))
        return False
    history.apply(layer.id, transform, f"imported from {Path(path).name}")
    return True
