"""Registration ▸ Register layer to reference…: choose the layer, rigid or affine, the region (whole image, the AI
box, a segment) and the starting alignment; the registration runs in a background worker with progress and Cancel,
its result goes to the layer through the transform history (undoable) and the final metric is shown. The fusion
mode combo switches the layer between blend, checkerboard and difference to check the result by eye.

A registration that ends worse than it started changes nothing and says so; a new run or closing the dialog
cancels the one running (its late result is dropped by the worker).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from ...core.registration import RegistrationSettings, register
from ...core.study import FUSION_MODES
from ...core.transform_history import TransformHistory
from .overlay_combo import chosen_layer, fill_overlay_combo
from ..worker import LoadWorker

INITIALISATIONS = (("scanner coordinates (current transform)", "current"), ("image centres", "geometry"),
                   ("intensity moments", "moments"))
BoxSource = Callable[[], "np.ndarray | None"]  # the AI box's LPS corners (2, 3), or None when none is drawn


class RegistrationDialog(QDialog):
    registered = Signal(object)  # the RegistrationResult, after it was applied (or kept the start)

    def __init__(self, state, history: TransformHistory, box_source: BoxSource, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Register layer to reference")
        self.state, self.history, self.box_source = state, history, box_source
        self.worker = LoadWorker(self)
        self.layer_combo = QComboBox()
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("Rigid (6 degrees of freedom)", "rigid")
        self.kind_combo.addItem("Affine (12 degrees of freedom)", "affine")
        self.region_combo = QComboBox()
        self.init_combo = QComboBox()
        for text, value in INITIALISATIONS:
            self.init_combo.addItem(text, value)
        self.fusion_combo = QComboBox()
        for mode in FUSION_MODES:
            self.fusion_combo.addItem(mode, mode)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.run_button = QPushButton("Register")
        self.cancel_button = QPushButton("Cancel")
        self.undo_button = QPushButton("Undo")
        close_button = QPushButton("Close")
        form = QFormLayout()
        form.addRow("Layer", self.layer_combo)
        form.addRow("Transform", self.kind_combo)
        form.addRow("Region", self.region_combo)
        form.addRow("Start from", self.init_combo)
        form.addRow("Show as", self.fusion_combo)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button, self.undo_button, close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.worker.cancel)
        self.undo_button.clicked.connect(self.undo)
        close_button.clicked.connect(self.close)
        self.fusion_combo.activated.connect(self._fusion_chosen)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self._layer_chosen())
        self.worker.progressed.connect(self._progressed)
        self.worker.busy_changed.connect(self._busy)
        self.worker.failed.connect(self._failed)
        self.worker.cancelled.connect(lambda: self.status.setText("Registration cancelled; the layer is unchanged."))
        self.refresh()
        self._busy(False)

    # --- choices ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fill the layer and region lists from the current study and segments."""
        study = self.state.study
        fill_overlay_combo(self.layer_combo, study)
        self.region_combo.clear()
        self.region_combo.addItem("Whole image", ("whole", None))
        if self.box_source() is not None:
            self.region_combo.addItem("The AI box", ("box", None))
        segmentation = self.state.segmentation
        for segment_id, segment in (segmentation.segments.items() if segmentation is not None else []):
            if not segment.mask.empty:
                self.region_combo.addItem(f"Segment: {segment.name}", ("segment", segment_id))
        self._layer_chosen()

    def select_layer(self, layer_id: int) -> None:
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(layer_id), 0))

    def _layer_chosen(self) -> None:
        layer = self._layer()
        self.run_button.setEnabled(layer is not None and not self.worker.busy)
        self.undo_button.setEnabled(layer is not None and self.history.can_undo(layer.id))
        if layer is not None:
            self.fusion_combo.setCurrentIndex(max(self.fusion_combo.findData(layer.fusion_mode), 0))
            if not layer.registered:  # another Frame of Reference: the scanners' coordinates mean little
                self.init_combo.setCurrentIndex(self.init_combo.findData("geometry"))

    def _layer(self):
        return chosen_layer(self.layer_combo, self.state.study)

    def _fusion_chosen(self) -> None:
        layer = self._layer()
        if layer is not None:
            self.state.study.set_display(layer.id, fusion_mode=self.fusion_combo.currentData())

    # --- running ----------------------------------------------------------------------------
    def settings(self) -> RegistrationSettings:
        return RegistrationSettings(kind=self.kind_combo.currentData(), initialisation=self.init_combo.currentData())

    def run(self) -> None:
        layer, study = self._layer(), self.state.study
        if layer is None:
            return
        kind, value = self.region_combo.currentData() or ("whole", None)
        box = self.box_source() if kind == "box" else None
        mask = None
        if kind == "segment" and value in self.state.segmentation.segments:
            mask = self.state.segmentation.segments[value].mask.to_dense()
        reference, moving, current = study.reference.volume, layer.volume, layer.transform
        settings, layer_id = self.settings(), layer.id
        self.status.setText(f"Registering {layer.name} to {study.reference.name}…")

        def job(progress, cancelled):
            return register(reference, moving, settings, current=current, box_lps=box, mask=mask,
                            progress=progress, cancelled=cancelled)

        self.worker.submit(job, lambda result: self._done(layer_id, result))

    def _done(self, layer_id: int, result) -> None:
        if not result.kept_start:
            self.history.apply(layer_id, result.transform, result.note)
        self.status.setText(f"{result.message} Final metric {result.metric_final:.4f} "
                            f"(start {result.metric_start:.4f}; Mattes MI, lower is better).")
        self._layer_chosen()
        self.registered.emit(result)

    def undo(self) -> None:
        layer = self._layer()
        if layer is not None and self.history.undo(layer.id):
            self.status.setText(f"{layer.name}: the previous transform is back.")
        self._layer_chosen()

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(1000 * fraction)))
        self.progress.setFormat(message)

    def _busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.run_button.setEnabled(not busy and self._layer() is not None)
        if not busy:
            self.progress.setValue(0)
            self.progress.setFormat("")

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def closeEvent(self, event) -> None:
        self.worker.cancel()
        super().closeEvent(event)
