"""Registration ▸ Adjust layer by hand…: a dock with the chosen layer's translation (mm) and rotation (degrees) as
six spin boxes, applied live to the layer's transform (core/rigid_parameters.py: the layer as seen in the
reference, about the reference's centre; an affine registration keeps its stretch), key nudges and undo.

Keys (window-wide while the dock is shown): Alt+←/→ x ∓1 mm, Alt+↑/↓ y ∓1 mm, Alt+PgUp/PgDn z ±1 mm;
with Shift they rotate 1° about z (←/→), x (↑/↓) and y (PgUp/PgDn). Ctrl+Z in the dock or the Undo button undoes the
last adjustment: a spin box's changes until it loses focus are one step, each key nudge and each mouse drag is one.
"Move with the mouse" (checkable): while it is on and the dock is shown, a left-drag in a slice view translates the
layer and a Ctrl+left-drag rotates it about the crosshair (ui/registration/alignment_mouse.py); ``mouse_mode_changed``
says when that mode starts and stops.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QDockWidget, QDoubleSpinBox, QGridLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from ...core.rigid_parameters import RigidParameters, reference_centre, rigid_parameters, with_rigid_parameters
from ...core.study import FUSION_MODES
from ...core.transform_history import TransformHistory
from .overlay_combo import chosen_layer, fill_overlay_combo

AXES = ("x (L)", "y (P)", "z (S)")
NUDGES = (  # key, axis, translate mm, rotate degrees
    ("Alt+Left", 0, -1.0, 0.0), ("Alt+Right", 0, 1.0, 0.0), ("Alt+Up", 1, -1.0, 0.0), ("Alt+Down", 1, 1.0, 0.0),
    ("Alt+PgUp", 2, 1.0, 0.0), ("Alt+PgDown", 2, -1.0, 0.0),
    ("Alt+Shift+Left", 2, 0.0, -1.0), ("Alt+Shift+Right", 2, 0.0, 1.0), ("Alt+Shift+Up", 0, 0.0, -1.0),
    ("Alt+Shift+Down", 0, 0.0, 1.0), ("Alt+Shift+PgUp", 1, 0.0, 1.0), ("Alt+Shift+PgDown", 1, 0.0, -1.0),
)


class AlignmentDock(QDockWidget):
    mouse_mode_changed = Signal(bool)  # "Move with the mouse" is on and the dock shown

    def __init__(self, state, history: TransformHistory, parent: QWidget | None = None):
        super().__init__("Adjust layer", parent)
        self.setObjectName("alignment_dock")
        self.state, self.history = state, history
        self._updating = False
        body = QWidget()
        self.layer_combo = QComboBox()
        self.translation = [self._spin(-500.0, 500.0, " mm", 0.5) for _ in AXES]
        self.rotation = [self._spin(-180.0, 180.0, "°", 0.5) for _ in AXES]
        grid = QGridLayout()
        grid.addWidget(QLabel("Translate"), 0, 1)
        grid.addWidget(QLabel("Rotate"), 0, 2)
        for row, name in enumerate(AXES, start=1):
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(self.translation[row - 1], row, 1)
            grid.addWidget(self.rotation[row - 1], row, 2)
        self.fusion_combo = QComboBox()
        for mode in FUSION_MODES:
            self.fusion_combo.addItem(mode, mode)
        self.undo_button = QPushButton("Undo")
        self.mouse_button = QPushButton("Move with the mouse")
        self.mouse_button.setCheckable(True)
        self.mouse_button.setToolTip("Drag in a slice view to move the layer; Ctrl+drag rotates it about the "
                                     "crosshair. Each drag is one undo step.")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(body)
        layout.addWidget(self.layer_combo)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Show as"))
        layout.addWidget(self.fusion_combo)
        layout.addWidget(self.mouse_button)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.setWidget(body)
        for index, spin in enumerate(self.translation + self.rotation):
            spin.valueChanged.connect(lambda _v, i=index: self._edited(i))
            spin.editingFinished.connect(self.history.end_gesture)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self.show_layer())
        self.fusion_combo.activated.connect(self._fusion_chosen)
        self.undo_button.clicked.connect(self.undo)
        self.nudge_shortcuts = []
        for key, axis, mm, degrees in NUDGES:
            shortcut = QShortcut(QKeySequence(key), parent if parent is not None else self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setEnabled(False)  # only while the dock is shown
            shortcut.activated.connect(lambda a=axis, t=mm, r=degrees: self.nudge(a, translate_mm=t, rotate_deg=r))
            self.nudge_shortcuts.append(shortcut)
        self.visibilityChanged.connect(lambda shown: [s.setEnabled(shown) for s in self.nudge_shortcuts])
        self.visibilityChanged.connect(
            lambda shown: self.mouse_mode_changed.emit(shown and self.mouse_button.isChecked()))
        self.mouse_button.toggled.connect(lambda _on: self.mouse_mode_changed.emit(self.mouse_mode()))
        state.subscribe(lambda what: what in ("layers", "volume") and not self._updating and self.refresh())
        self.refresh()

    def event(self, event) -> bool:
        # Ctrl+Z with the focus in the dock undoes the layer's adjustment, not the window's segment edit
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Undo):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
            event.accept()
            return
        super().keyPressEvent(event)

    def mouse_mode(self) -> bool:
        return self.mouse_button.isChecked() and self.isVisible()

    @staticmethod
    def _spin(low: float, high: float, suffix: str, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(2)
        spin.setSingleStep(step)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)
        return spin

    # --- what is shown ----------------------------------------------------------------------
    def refresh(self) -> None:
        fill_overlay_combo(self.layer_combo, self.state.study)
        self.show_layer()

    def select_layer(self, layer_id: int) -> None:
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(layer_id), 0))

    def layer(self):
        return chosen_layer(self.layer_combo, self.state.study)

    def parameters(self) -> RigidParameters:
        return RigidParameters(tuple(s.value() for s in self.translation), tuple(s.value() for s in self.rotation))

    def show_layer(self) -> None:
        layer = self.layer()
        for spin in self.translation + self.rotation:
            spin.setEnabled(layer is not None)
        self.undo_button.setEnabled(layer is not None and self.history.can_undo(layer.id))
        if layer is None:
            self.note.setText("Add an image layer to adjust it.")
            return
        params = rigid_parameters(layer.transform, reference_centre(self.state.study.geometry))
        self._updating = True
        try:
            for spin, value in zip(self.translation + self.rotation, params.translation_mm + params.rotation_deg):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        finally:
            self._updating = False
        self.fusion_combo.setCurrentIndex(max(self.fusion_combo.findData(layer.fusion_mode), 0))
        self.note.setText(f"{layer.name}: {layer.registration_note or 'not registered'}.")

    # --- changes ----------------------------------------------------------------------------
    def _apply(self, params: RigidParameters, gesture) -> None:
        layer = self.layer()
        if layer is None:
            return
        centre = reference_centre(self.state.study.geometry)
        self._updating = True
        try:
            self.history.apply(layer.id, with_rigid_parameters(layer.transform, params, centre), "manual", gesture)
        finally:
            self._updating = False
        self.show_layer()

    def _edited(self, index: int) -> None:
        if not self._updating:
            self._apply(self.parameters(), gesture=("spin", index))

    def nudge(self, axis: int, *, translate_mm: float = 0.0, rotate_deg: float = 0.0) -> None:
        self.history.end_gesture()
        self._apply(self.parameters().nudged(axis, translate_mm=translate_mm, rotate_deg=rotate_deg), gesture=None)

    def undo(self) -> None:
        layer = self.layer()
        if layer is not None:
            self._updating = True
            try:
                self.history.undo(layer.id)
            finally:
                self._updating = False
        self.show_layer()

    def _fusion_chosen(self) -> None:
        layer = self.layer()
        if layer is not None:
            self.state.study.set_display(layer.id, fusion_mode=self.fusion_combo.currentData())
