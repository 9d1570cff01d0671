"""The AI segmentation panel (a dock): choose a model, draw its box, Run, and look at the result's uncertainty.

Models are the MONAI bundles :func:`ai.bundle.discover_bundles` finds (MEDSEG_MODELS_PATH, the user's models
folder, the models shipped with MedSeg), listed with what their configs say (:mod:`.ai_model_info`) and a warning
when the model's modality is not the open image's. Box-prompted models need a box (:mod:`.ai_box_editor`, drawn
on any slice view). Run loads the network on the first run of a bundle and segments in a worker
(:mod:`.ai_runner`) with a progress bar and Cancel; a bundle whose configs hold Python code asks once whether to
trust it. A model runs on the study layer of its modality (the shipped PET models on the PET layer, whatever the
reference; :meth:`AiPanel.model_layer`), the box drawn on any view being in patient space, and its probabilities
are resampled onto the reference grid before the arg-max, so its segments lie on the reference grid like every
other. Each label of the result becomes a new segment, source "AI model", in one undo step
(:mod:`.ai_results`), and the last one becomes active. "Show uncertainty" draws the last result's uncertainty
(normalised entropy) as a heat map over the slices, only inside the region the model saw; it is off by default
and cleared when another image opens. torch and MONAI are imported only when a model first runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QGroupBox, QHBoxLayout, QLabel, QMessageBox,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from ...ai.bundle import ModelBundle, discover_bundles, model_dirs
from ...ai.trust import is_trusted, trust
from ...core.viewer_state import ViewerState
from .box_drawing import BoxDrawing
from .box_editor import BoxEditor
from .model_info import ModelInfo
from .model_info import _modality as normalised_modality
from .results import add_result_segments
from .runner import AiOutcome, AiRunner

TRUST_QUESTION = ("This model's configuration runs Python code ({name}: its configs hold $ expressions, which "
                  "MedSeg evaluates only for models you trust).\n\nRun it only if you trust where it came from:\n"
                  "{path}\n\nTrust it?")


def probable_device() -> str:
    """Where a model will run, said without importing torch (it is confirmed once a model has run)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return "CUDA GPU" if torch.cuda.is_available() else "CPU"
    if Path("/proc/driver/nvidia/version").exists():
        return "CUDA GPU (NVIDIA driver found; confirmed when the model runs)"
    return "CPU (no NVIDIA GPU found)"


class AiPanel(QDockWidget):
    def __init__(self, state: ViewerState, views, tools=None, parent: QWidget | None = None):
        super().__init__("AI segmentation", parent)
        self.setObjectName("ai_panel_dock")
        self.state, self.views, self.tools = state, list(views), tools
        self.bundles: list[ModelBundle] = []
        self.last: AiOutcome | None = None
        self.report_error = self._show_error  # (message) -> None; replaceable in tests
        self.runner = AiRunner(self)
        self.drawing = BoxDrawing(state, self)
        for view in self.views:
            self.drawing.attach(view)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(16)
        self.refresh_button = QPushButton("↻")
        self.refresh_button.setToolTip("Look for models again")
        self.refresh_button.setFixedWidth(32)
        row.addWidget(QLabel("Model"))
        row.addWidget(self.model_combo, 1)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #e0a030;")
        layout.addWidget(self.problems)
        self.info = ModelInfo()
        layout.addWidget(self.info)
        self.layer_label = QLabel("")
        self.layer_label.setObjectName("ai_model_layer")
        self.layer_label.setWordWrap(True)
        layout.addWidget(self.layer_label)
        self.device_label = QLabel(f"Device: {probable_device()}")
        self.device_label.setWordWrap(True)
        layout.addWidget(self.device_label)
        self.box_group = QGroupBox("Box")
        box_layout = QVBoxLayout(self.box_group)
        self.box_editor = BoxEditor(self.drawing)
        box_layout.addWidget(self.box_editor)
        layout.addWidget(self.box_group)
        actions = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("ai_run")
        self.cancel_button = QPushButton("Cancel")
        actions.addWidget(self.run_button, 1)
        actions.addWidget(self.cancel_button)
        layout.addLayout(actions)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.uncertainty_box = QCheckBox("Show uncertainty")
        self.uncertainty_box.setToolTip("The last result's uncertainty (normalised entropy of the model's "
                                        "probabilities) inside the region the model saw: clear where the model is "
                                        "sure, red to yellow where it hesitates")
        layout.addWidget(self.uncertainty_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setWidget(scroll)
        self.model_combo.currentIndexChanged.connect(lambda _=0: self._model_changed())
        self.refresh_button.clicked.connect(self.refresh_models)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.uncertainty_box.toggled.connect(self._show_uncertainty)
        worker = self.runner.worker
        worker.progressed.connect(self._progressed)
        worker.busy_changed.connect(self._busy)
        worker.failed.connect(self._failed)
        worker.cancelled.connect(lambda: self.status.setText("Cancelled: nothing was added."))
        self.drawing.box_changed.connect(lambda _box: self._update_enabled())
        self.drawing.drawing_changed.connect(self._drawing_changed)
        if tools is not None:
            tools.tool_changed.connect(lambda tool: tool is not None and self.drawing.set_drawing(False))
            self.drawing.box_changed.connect(tools.set_box)  # the tools' "within the box" is this box
        state.subscribe(self._on_state)
        self.refresh_models()
        self._busy(False)

    # --- models -----------------------------------------------------------------------------
    def refresh_models(self) -> None:
        current = self.current_bundle()
        self.bundles, problems = discover_bundles()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for bundle in self.bundles:
            self.model_combo.addItem(bundle.name)
        if not self.bundles:
            self.model_combo.addItem("(no models found)")
        names = [b.name for b in self.bundles]
        self.model_combo.setCurrentIndex(names.index(current.name) if current and current.name in names else 0)
        self.model_combo.setEnabled(bool(self.bundles))
        self.model_combo.blockSignals(False)
        searched = "\n".join(str(d) for d in model_dirs())
        self.model_combo.setToolTip(f"Models are looked for in:\n{searched}")
        self.problems.setText(f"{len(problems)} model folder(s) could not be read." if problems else "")
        self.problems.setToolTip("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._model_changed()

    def current_bundle(self) -> ModelBundle | None:
        index = self.model_combo.currentIndex() if hasattr(self, "model_combo") else -1
        return self.bundles[index] if 0 <= index < len(self.bundles) else None

    def select_model(self, name: str) -> None:
        self.model_combo.setCurrentIndex([b.name for b in self.bundles].index(name))

    def model_layer(self, bundle: ModelBundle | None):
        """The study layer ``bundle`` reads: the reference when its modality fits (or the model names none, or no
        layer has it), else the first layer of the model's modality."""
        study = self.state.study
        if bundle is None or study is None:
            return None
        modality = normalised_modality(bundle.modality or "")
        if not modality or normalised_modality(study.reference.modality or "") == modality:
            return study.reference
        return next((layer for layer in study.layers if normalised_modality(layer.modality or "") == modality),
                    study.reference)

    def _model_changed(self) -> None:
        bundle = self.current_bundle()
        layer = self.model_layer(bundle)
        modality = layer.modality if layer is not None else (self.state.volume.modality if self.state.volume
                                                              else None)
        self.info.show_summary(bundle.summary() if bundle else None, modality)
        study = self.state.study
        on_layer = layer is not None and study is not None and layer is not study.reference
        self.layer_label.setText(f"Runs on the {layer.name} layer; the result lands on the reference grid."
                                 if on_layer else "")
        self.layer_label.setVisible(on_layer)
        needs_box = bool(bundle and bundle.needs_box)
        self.box_group.setVisible(needs_box)
        if not needs_box:
            self.drawing.set_drawing(False)
        if bundle is None:
            self.status.setText("No models found: install MONAI bundles in one of the folders listed in the "
                                "model list's tooltip.")
        self._update_enabled()

    # --- running ----------------------------------------------------------------------------
    def _update_enabled(self) -> None:
        bundle = self.current_bundle()
        ready = bundle is not None and self.state.volume is not None and not self.runner.busy
        if ready and bundle.needs_box:
            ready = self.drawing.box is not None
        self.run_button.setEnabled(ready)
        if bundle is not None and bundle.needs_box and self.drawing.box is None:
            self.run_button.setToolTip("Draw a box around the lesion first")
        else:
            self.run_button.setToolTip("Segment with the chosen model")

    def _drawing_changed(self, on: bool) -> None:
        if on and self.tools is not None and self.tools.active is not None:
            self.tools.activate(None)  # the left button draws the box now, not a tool

    def run(self) -> None:
        bundle, volume = self.current_bundle(), self.state.volume
        if bundle is None or volume is None or self.state.segmentation is None or self.runner.busy:
            return
        if bundle.needs_box and self.drawing.box is None:
            self.status.setText("Draw a box around the lesion first.")
            return
        if bundle.needs_trust and not is_trusted(bundle):
            answer = QMessageBox.question(self, "MedSeg: trust this model?",
                                          TRUST_QUESTION.format(name=bundle.name, path=bundle.path),
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                          QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.status.setText(f"Not run: {bundle.name} is not trusted.")
                return
            try:
                trust(bundle)
            except OSError as exc:
                self.report_error(f"Could not record the trust in {bundle.name} ({exc.strerror or exc}).")
                return
        box = self.drawing.box.lps_corners(volume.geometry) if bundle.needs_box else None
        self.drawing.set_drawing(False)
        layer = self.model_layer(bundle)
        on_layer = layer is not None and layer is not self.state.study.reference
        self.status.setText(f"Running {bundle.name}{f' on the {layer.name} layer' if on_layer else ''}…")
        self.runner.run(bundle, volume, self.state.segmentation, box, self._finished,
                        layer=layer if on_layer else None)

    def cancel(self) -> None:
        self.runner.cancel()

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.setValue(0)
            self.progress.setFormat("Starting… %p%")
        self._update_enabled()

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.progress.setFormat(f"{message} %p%" if message else "%p%")

    def _failed(self, message: str) -> None:
        self.status.setText("The model could not run.")
        self.report_error(message)

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, "MedSeg: AI segmentation", message)

    def _finished(self, outcome: AiOutcome) -> None:
        if outcome.volume is not self.state.volume or outcome.segmentation is not self.state.segmentation:
            self.status.setText("The image changed while the model ran: its result was dropped.")
            return
        result, name = outcome.result, outcome.bundle.name
        self.device_label.setText(f"Device: {outcome.device}")
        ids = add_result_segments(self.state.segmentation, result.labels, name)
        self.last = outcome
        self.uncertainty_box.setEnabled(True)
        self._show_uncertainty(self.uncertainty_box.isChecked())
        taken = f"in {result.seconds:.1f} s on {outcome.device}"
        if not ids:
            self.status.setText(f"{name} found nothing {'in the box ' if outcome.bundle.needs_box else ''}"
                                f"({taken}).")
            return
        voxel_ml = self.state.volume.geometry.voxel_volume_mm3 / 1000.0
        segments = self.state.segmentation.segments
        found = ", ".join(f"{segments[i].name} {int(lm.mask.sum()) * voxel_ml:.1f} mL"
                          for i, lm in zip(ids, [lm for lm in result.labels if lm.mask.any()]))
        self.status.setText(f"Added {found} ({taken}); Undo takes it back.")

    # --- uncertainty ------------------------------------------------------------------------
    def _show_uncertainty(self, on: bool) -> None:
        heat = (self.last.result.region, self.last.uncertainty) if on and self.last is not None else None
        for view in self.views:
            view.set_heat(heat)

    def _on_state(self, what: str) -> None:
        if what == "layers":
            self._model_changed()  # a layer of the model's modality may have come or gone
        if what != "volume":
            return
        if self.runner.busy:
            self.runner.cancel()
        self.last = None
        self.uncertainty_box.setChecked(False)
        self.uncertainty_box.setEnabled(False)
        self.status.setText("")
        self._model_changed()

    # --- window -----------------------------------------------------------------------------
    def show_panel(self) -> None:
        self.show()
        self.raise_()
        self.refresh_models()

    def add_actions(self, menu_bar, view_menu) -> None:
        """Segment ▸ AI segmentation…, and the dock's show / hide in the View menu."""
        menu = menu_bar.addMenu("&Segment")
        action = QAction("&AI segmentation…", self)
        action.triggered.connect(self.show_panel)
        menu.addAction(action)
        toggle = self.toggleViewAction()
        toggle.triggered.connect(lambda on: on and self.raise_())
        view_menu.addAction(toggle)

    def shutdown(self) -> None:
        self.runner.shutdown()

