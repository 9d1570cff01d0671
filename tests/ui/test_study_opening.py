"""Studies of several series in the window: File ▸ Open study… (checkboxes, the CT as the default reference, one
progress for the whole set, Cancel), File ▸ Add image layer… (a series folder, one DICOM file for its series, a
NIfTI file), another patient's series asked about once, a layer with no overlap refused, and sessions that bring
the layers back with their display, transform and registration state (saved, autosaved, reopened)."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.window_level import WindowLevel
from medseg_app.io.session_file import load_session
from medseg_app.ui.study.study_series_dialog import StudySeriesDialog

from .ui_test_data import SAMPLE_CT, SAMPLE_STUDY, open_and_wait

SAMPLE_PET = SAMPLE_STUDY / "PET" / "dicom" / "image"
SAMPLE_PET_NIFTI = SAMPLE_STUDY / "PET" / "nifti" / "image" / "image.nii.gz"


@pytest.fixture
def study_folder(tmp_path):
    """A folder holding the sample's CT (with its RTSTRUCT) and PET series, as a scanner export would."""
    folder = tmp_path / "study"
    shutil.copytree(SAMPLE_PET, folder / "pet")
    shutil.copytree(SAMPLE_CT, folder / "ct")  # image and mask (its RTSTRUCT)
    return folder


@pytest.fixture
def other_patients_pet(tmp_path):
    """The sample PET with another PatientID, written by pydicom."""
    folder = tmp_path / "other_patient_pet"
    folder.mkdir()
    for path in sorted(SAMPLE_PET.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PatientID = "SOMEONE-ELSE-42"
        ds.save_as(folder / path.name)
    return folder


def _errors(window) -> list[str]:
    errors = []
    window.report_error = errors.append
    return errors


def _wait_for(qtbot, window, signal, start) -> None:
    """``start()``, then wait for ``signal``; an error the window reports ends the wait and fails the test."""
    errors, fired = _errors(window), []
    signal.connect(lambda *args: fired.append(True))
    start()
    qtbot.waitUntil(lambda: bool(fired or errors), timeout=60000)
    assert not errors


def _open_study(qtbot, window, folder, inspect=None):
    """File ▸ Open study… on ``folder``, accepting the dialog as offered (after ``inspect(dialog)``)."""
    seen = {}

    def run_dialog(dialog):
        seen["rows"] = [(s["modality"], dialog.table.item(r, 0).checkState().value)
                        for r, s in enumerate(dialog.series)]
        seen["reference"] = dialog.series[dialog.reference_row()]["modality"]
        if inspect is not None:
            inspect(dialog)
        return True

    window.study_opening.run_study_dialog = run_dialog
    _wait_for(qtbot, window, window.study_loaded, lambda: window.study_opening.open_study(folder))
    return seen


def _add_layer(qtbot, window, path):
    _wait_for(qtbot, window, window.study_opening.layers_added, lambda: window.study_opening.add_layer(path))
    return window.state.study.overlays[-1]


def test_series_dialog_checkboxes_and_reference(qtbot):
    series = [{"uid": "pet", "modality": "PT", "description": "PET", "slices": 59, "size": [41, 43, 59]},
              {"uid": "ct", "modality": "CT", "description": "CT", "slices": 59, "size": [198, 202, 59]},
              {"uid": "mr", "modality": "MR", "description": "T1", "slices": 30, "size": [256, 256, 30]}]
    dialog = StudySeriesDialog(series, reference=1, where="/data/case")
    qtbot.addWidget(dialog)
    assert dialog.checked_rows() == [0, 1, 2] and dialog.reference_row() == 1
    assert dialog.selection() == ("ct", ["pet", "mr"])
    dialog.set_checked(2, False)
    assert dialog.selection() == ("ct", ["pet"])
    dialog.set_reference(2)  # a series picked as the reference is opened
    assert dialog.checked_rows() == [0, 1, 2] and dialog.selection() == ("mr", ["pet", "ct"])
    dialog.set_checked(2, False)  # unchecking the reference hands the part on
    assert dialog.selection() == ("pet", ["ct"])
    for row in (0, 1):
        dialog.set_checked(row, False)
    assert dialog.selection() is None
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Open).isEnabled()


def test_open_study_offers_both_series_with_the_ct_as_reference(qtbot, main_window, study_folder):
    window = main_window
    fractions = []
    window.loader.progressed.connect(lambda f, m: window.loader.busy and fractions.append(f))

    def inspect(dialog):
        fractions.clear()  # from here on: the one load of the whole set

    seen = _open_study(qtbot, window, study_folder, inspect)
    assert sorted(seen["rows"]) == [("CT", 2), ("PT", 2)] and seen["reference"] == "CT"
    study = window.state.study
    assert study.reference.modality == "CT" and window.state.volume is study.reference.volume
    [pet] = study.overlays
    assert pet.modality == "PT" and pet.units == "SUV" and pet.registered and pet.colour_map == "hot"
    assert pet.volume.size == (41, 43, 59)
    assert [s.name for s in window.state.segmentation.segments.values()] == ["GTV_Mass_CT"]  # the CT's RTSTRUCT
    # one bar for both series: it only moves forward, and the PET's half comes after the CT's
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(0.5 < f < 1.0 for f in fractions) and any(0.0 < f < 0.5 for f in fractions)
    assert "; layers over it: PT" in window.statusBar().currentMessage()


def test_open_study_with_the_pet_as_reference_and_cancel(qtbot, main_window, study_folder):
    window = main_window

    def pet_only(dialog):
        pet = next(r for r, s in enumerate(dialog.series) if s["modality"] == "PT")
        dialog.set_reference(pet)
        dialog.set_checked(1 - pet, False)

    _open_study(qtbot, window, study_folder, pet_only)
    assert window.state.study.reference.modality == "PT" and window.state.study.overlays == []
    # Cancelled while loading: the open study stays as it was
    shown = window.state.volume

    def cancel_once_loading(dialog):
        window.loader.busy_changed.connect(lambda busy: busy and window.loader.cancel())

    window.study_opening.run_study_dialog = lambda dialog: cancel_once_loading(dialog) or True
    errors = _errors(window)
    with qtbot.waitSignal(window.loader.cancelled, timeout=60000):
        window.study_opening.open_study(study_folder)
    window.loader.wait()
    qtbot.wait(50)
    assert window.state.volume is shown and window.state.study.overlays == [] and errors == []


def test_add_image_layer_from_a_folder_a_dicom_file_and_a_nifti_file(qtbot, main_window):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    folder_layer = _add_layer(qtbot, window, SAMPLE_PET)
    assert folder_layer.modality == "PT" and folder_layer.registered and folder_layer.volume.size == (41, 43, 59)
    file_layer = _add_layer(qtbot, window, sorted(SAMPLE_PET.glob("*.dcm"))[3])  # one file: its whole series
    assert file_layer.volume.size == (41, 43, 59) and file_layer.id != folder_layer.id
    nifti = _add_layer(qtbot, window, SAMPLE_PET_NIFTI)
    assert nifti.volume.size == (41, 43, 59)
    assert not nifti.registered  # a file says nothing of its Frame of Reference: shown, with the banner
    assert [l.id for l in window.state.study.unregistered()] == [nifti.id]
    assert "not registered" in window.statusBar().currentMessage()


def test_another_patients_series_is_asked_about_once(qtbot, main_window, other_patients_pet):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    asked = []
    window.study_opening.ask_other_patient = lambda question: asked.append(question) or False
    window.study_opening.add_layer(other_patients_pet)
    qtbot.waitUntil(lambda: bool(asked) and not window.loader.busy, timeout=60000)
    assert len(asked) == 1 and "another patient" in asked[0] and asked[0].count(".") <= 1
    assert window.state.study.overlays == []  # No: the study is unchanged
    window.study_opening.ask_other_patient = lambda question: asked.append(question) or True
    layer = _add_layer(qtbot, window, other_patients_pet)
    assert len(asked) == 2 and layer.modality == "PT"
    assert layer.volume.identity.patient_id == "SOMEONE-ELSE-42"


def test_a_layer_with_no_overlap_is_refused_in_one_sentence(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    far = sitk.GetImageFromArray(np.ones((10, 10, 10), np.float32))
    far.SetOrigin((5000.0, 5000.0, 5000.0))
    path = tmp_path / "far.nii.gz"
    sitk.WriteImage(far, str(path))
    errors = _errors(window)
    window.study_opening.add_layer(path)
    qtbot.waitUntil(lambda: bool(errors) and not window.loader.busy, timeout=60000)
    assert len(errors) == 1 and "does not overlap" in errors[0] and errors[0].rstrip(".").count(".") <= 2
    assert window.state.study.overlays == []


def test_a_session_restores_the_fused_study_and_autosave_follows_layer_changes(qtbot, main_window, study_folder,
                                                                            tmp_path):
    window = main_window
    _open_study(qtbot, window, study_folder)
    study = window.state.study
    [pet] = study.overlays
    study.set_display(pet.id, window=WindowLevel(6.0, 3.0), colour_map="rainbow", opacity=0.3,
                      fusion_mode="difference")
    shift = LayerTransform.rigid((3.0, -1.0, 2.0), (0.0, 2.0, 0.0), study.geometry.origin)
    study.set_transform(pet.id, shift, note="manual")
    autosave = window.sessions.autosave
    assert autosave.dirty and autosave.unsaved and window.isWindowModified()
    assert autosave.save_if_dirty()
    autosave.wait()
    [recovered] = load_session(autosave.path).layers
    assert recovered["opacity"] == 0.3 and recovered["transform"] == shift.to_list()
    path = tmp_path / "fused.medseg"
    assert window.sessions.save(str(path))
    assert window.sessions.wait_for_saves()
    open_and_wait(qtbot, window, SAMPLE_CT)  # another study in between: no layers
    assert window.state.study.overlays == []
    _wait_for(qtbot, window, window.study_loaded, lambda: window.sessions.open(path))
    qtbot.waitUntil(lambda: window.sessions.session_path == str(path), timeout=10000)
    study = window.state.study
    [back] = study.overlays
    assert (back.colour_map, back.opacity, back.fusion_mode, back.visible) == ("rainbow", 0.3, "difference", True)
    assert (back.window.window, back.window.level) == (6.0, 3.0)
    np.testing.assert_array_equal(back.transform.reference_to_layer, shift.reference_to_layer)
    assert back.registered and back.registration_note == "manual"
    assert [s.name for s in window.state.segmentation.segments.values()] == ["GTV_Mass_CT"]
    assert not window.sessions.autosave.unsaved and not window.isWindowModified()


def test_a_session_with_copies_opens_its_layers_without_the_original_files(qtbot, main_window, tmp_path):
    window = main_window
    ct, pet = tmp_path / "ct", tmp_path / "pet"
    shutil.copytree(SAMPLE_CT / "image", ct)
    shutil.copytree(SAMPLE_PET, pet)
    open_and_wait(qtbot, window, ct)
    layer = _add_layer(qtbot, window, pet)
    window.state.study.set_display(layer.id, visible=False)
    path = tmp_path / "with-copies.medseg"
    assert window.sessions.save(str(path), include_image=True)
    assert window.sessions.wait_for_saves()
    shutil.rmtree(ct)
    shutil.rmtree(pet)
    open_and_wait(qtbot, window, SAMPLE_CT)
    _wait_for(qtbot, window, window.study_loaded, lambda: window.sessions.open(path))
    [back] = window.state.study.overlays
    assert back.modality == "PT" and not back.visible
    np.testing.assert_array_equal(back.volume.array, layer.volume.array)
