"""Registration in the GUI on the real STS_002 CT: the dialog registers a displaced copy off the GUI thread and
puts the result on the layer (undoable), Cancel leaves it as it was, the manual adjustment dock edits the layer live
with spin boxes and key nudges and undoes per step, and File ▸ Export / Import registration (a REG of other series
is refused) through the main window's registration menu."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.registration import RegistrationSettings
from medseg_app.core.rigid_parameters import reference_centre
from medseg_app.core.transform_history import TransformHistory
from medseg_app.core.viewer_state import ViewerState
from medseg_app.io import load_volume
from medseg_app.ui.registration import registration_dialog
from medseg_app.ui.registration.alignment_dock import AlignmentDock
from medseg_app.ui.registration.registration_dialog import RegistrationDialog

from .gui_ticks import TickGate

STS_002 = Path(__file__).resolve().parent.parent / "data" / "sts_mirp" / "STS_002"
FAST = RegistrationSettings(shrink_factors=(4, 2), smoothing_sigmas_mm=(2.0, 1.0), iterations=100)


@pytest.fixture(scope="module")
def ct():
    return load_volume(STS_002 / "CT" / "dicom" / "image")


def displaced(volume, transform):
    g = volume.geometry
    m = transform.reference_to_layer
    return dataclasses.replace(volume, geometry=ImageGeometry(g.size, g.spacing, transform.map_to_layer(g.origin),
                                                              m[:3, :3] @ g.direction))


@pytest.fixture
def study(ct):
    state = ViewerState(ct)
    truth = LayerTransform.rigid((7.0, -5.0, 4.0), (3.0, 0.0, -4.0), reference_centre(ct.geometry))
    layer = state.study.add_layer(displaced(ct, truth), name="moved CT")
    return state, layer, truth


def test_dialog_registers_off_the_gui_thread_and_undoes(qtbot, study, monkeypatch):
    state, layer, truth = study
    gate = TickGate()
    threads = []

    def held_register(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    real = registration_dialog.register
    monkeypatch.setattr(registration_dialog, "register", gate.hold(held_register))
    history = TransformHistory(state.study)
    dialog = RegistrationDialog(state, history, lambda: None)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(dialog, "settings", lambda: FAST)
    dialog.show()
    assert dialog.layer_combo.currentData() == layer.id and dialog.region_combo.count() == 1  # no box, no segment
    progress = []
    dialog.worker.progressed.connect(lambda f, m: progress.append(f))
    with qtbot.waitSignal(dialog.registered, timeout=120_000) as done:
        dialog.run_button.click()
    gate.stop()
    assert gate.off_gui_thread and threads[0] != threading.get_ident()
    assert progress and max(progress) <= 1.0
    result = done.args[0]
    assert not result.kept_start and layer.transform is result.transform
    centre = reference_centre(state.study.geometry)
    assert np.linalg.norm(layer.transform.map_to_layer(centre) - truth.map_to_layer(centre)) < 2.0
    assert "Final metric" in dialog.status.text() and layer.registration_note == "rigid MI registration"
    dialog.fusion_combo.setCurrentIndex(dialog.fusion_combo.findData("checkerboard"))
    dialog.fusion_combo.activated.emit(dialog.fusion_combo.currentIndex())
    assert layer.fusion_mode == "checkerboard"
    dialog.undo_button.click()
    assert layer.transform.is_identity and not dialog.undo_button.isEnabled()


def test_cancel_leaves_the_layer_as_it_was(qtbot, study, monkeypatch):
    state, layer, _ = study
    started = threading.Event()
    real = registration_dialog.register

    def slow_register(*args, **kwargs):
        started.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(registration_dialog, "register", slow_register)
    dialog = RegistrationDialog(state, TransformHistory(state.study), lambda: None)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.worker.cancelled, timeout=10_000):
        dialog.run_button.click()
        assert dialog.cancel_button.isEnabled()
        dialog.cancel_button.click()
    dialog.worker.wait()
    assert layer.transform.is_identity and "cancelled" in dialog.status.text()
    assert not dialog.cancel_button.isEnabled() and dialog.run_button.isEnabled()


def test_manual_adjustment_is_live_and_undoes_per_step(qtbot, study):
    state, layer, _ = study
    history = TransformHistory(state.study)
    dock = AlignmentDock(state, history)
    qtbot.addWidget(dock)
    dock.show()
    centre = reference_centre(state.study.geometry)
    dock.translation[0].setValue(5.0)
    assert np.allclose(layer.transform.map_to_reference(centre), centre + (5.0, 0, 0))
    dock.translation[0].setValue(6.0)  # the same spin box, still one gesture
    dock.translation[0].editingFinished.emit()
    dock.rotation[2].setValue(10.0)
    dock.rotation[2].editingFinished.emit()
    moved = layer.transform.map_to_reference(centre + (10.0, 0, 0)) - centre
    assert np.allclose(moved, (6.0 + 10 * np.cos(np.radians(10)), 10 * np.sin(np.radians(10)), 0.0), atol=1e-6)
    for shortcut in dock.nudge_shortcuts:
        if shortcut.key().toString() == "Alt+Down":
            shortcut.activated.emit()
    assert dock.translation[1].value() == pytest.approx(1.0)
    qtbot.keyClick(dock.undo_button, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z in the dock
    assert dock.translation[1].value() == pytest.approx(0.0) and dock.rotation[2].value() == pytest.approx(10.0)
    dock.undo_button.click()
    assert dock.rotation[2].value() == pytest.approx(0.0) and dock.translation[0].value() == pytest.approx(6.0)
    dock.undo_button.click()
    assert layer.transform.is_identity and not dock.undo_button.isEnabled()


def test_export_and_import_through_the_window(qtbot, main_window, tmp_path):
    ct_folder, mr_folder = STS_002 / "CT" / "dicom" / "image", STS_002 / "MR_T1" / "dicom" / "image"
    state = main_window.state
    state.set_volume(load_volume(ct_folder))
    mr = state.study.add_layer(load_volume(mr_folder))
    menu = main_window.registration
    transform = LayerTransform.rigid((3.0, 2.0, -1.0), (0.0, 2.0, 0.0), reference_centre(state.study.geometry))
    menu.history.apply(mr.id, transform, "manual")
    written = menu.export(tmp_path / "reg.dcm")
    assert written is not None and written.exists()
    menu.history.undo(mr.id)
    assert mr.transform.is_identity
    assert menu.import_(written) and np.allclose(mr.transform.reference_to_layer, transform.reference_to_layer,
                                                 atol=1e-6)
    refused = []
    menu.report = refused.append
    state.study.remove_layer(mr.id)
    pet = state.study.add_layer(load_volume(STS_002 / "PET" / "dicom" / "image"))
    assert not menu.import_(written)
    assert pet.transform.is_identity and len(refused) == 1 and "other series" in refused[0]
    titles = [a.text() for a in main_window.menuBar().actions()]
    assert "Re&gistration" in titles
