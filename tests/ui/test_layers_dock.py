"""The Layers dock on the bundled sample's CT + PET: rows follow the study, edits reach it, banner and Confirm."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.window_level import WindowLevel
from medseg_app.io.load import load_volume
from medseg_app.ui.layers.alignment_banner import NOT_REGISTERED
from medseg_app.ui.layers.layers_dock import LayersDock

from .ui_test_data import SAMPLE_STUDY


@pytest.fixture(scope="module")
def ct_pet():
    return load_volume(SAMPLE_STUDY / "CT" / "dicom" / "image"), load_volume(SAMPLE_STUDY / "PET" / "dicom" / "image")


@pytest.fixture
def fused(qtbot, ct_pet):
    ct, pet = ct_pet
    state = ViewerState(ct)
    dock = LayersDock(state)
    qtbot.addWidget(dock)
    dock.show()
    return state, dock, state.study.add_layer(pet)


def names(dock):
    return [row.layer.name for row in dock.rows]


def test_rows_follow_the_study(qtbot, fused, ct_pet):
    state, dock, pet = fused
    study = state.study
    assert [row.layer for row in dock.rows] == study.layers and dock.listed_order() == [l.id for l in study.layers]
    reference_row, pet_row = dock.rows
    assert reference_row.is_reference and not reference_row.remove_button.isVisibleTo(dock)
    assert pet_row.remove_button.isVisibleTo(dock) and pet_row.modality_label.text() == "PT"
    second = study.add_layer(ct_pet[1], name="PET again")
    assert names(dock)[-1] == "PET again"
    study.move_layer(second.id, 1)
    assert dock.listed_order() == [study.reference.id, second.id, pet.id]
    study.remove_layer(second.id)
    assert dock.listed_order() == [study.reference.id, pet.id]
    state.set_volume(ct_pet[0])  # a new study: the dock shows it alone
    assert len(dock.rows) == 1 and dock.rows[0].layer is state.study.reference


def test_edits_in_a_row_reach_the_study(qtbot, fused):
    state, dock, pet = fused
    row = dock.row(pet.id)
    heard = []
    state.study.subscribe(lambda what, layer_id: heard.append((what, layer_id)))
    row.opacity_slider.setValue(80)
    assert pet.opacity == pytest.approx(0.8)
    row.colour_box.setCurrentIndex(row.colour_box.findData("rainbow"))
    assert pet.colour_map == "rainbow"
    row.fusion_box.setCurrentIndex(row.fusion_box.findData("checkerboard"))
    assert pet.fusion_mode == "checkerboard"
    row.visible_box.setChecked(False)
    assert not pet.visible
    row.window_editor.apply_preset("SUV 0–10")
    assert (pet.window.low, pet.window.high) == (0, 10)
    row.window_editor.high_spin.setValue(7.5)
    assert pet.window.high == pytest.approx(7.5) and pet.window.low == pytest.approx(0)
    assert {what for what, _ in heard} == {"display"} and {layer_id for _, layer_id in heard} == {pet.id}
    # and the study's own changes show in the row
    state.study.set_display(pet.id, opacity=0.25, colour_map="grey", visible=True)
    assert row.opacity_slider.value() == 25 and row.colour_box.currentData() == "grey" and row.visible_box.isChecked()
    assert row.window_editor.preset_box.currentText() == "Custom"
    state.study.set_display(pet.id, window=WindowLevel.from_range(0, 5))
    assert row.window_editor.preset_box.currentText() == "SUV 0–5"


def test_reference_row_edits_the_viewers_window_and_colour_map(qtbot, fused):
    state, dock, _ = fused
    row = dock.rows[0]
    assert not row.visible_box.isEnabled() and not row.opacity_slider.isVisibleTo(dock)
    row.window_editor.apply_preset("Lung")
    assert state.window == WindowLevel(1500, -600)
    row.colour_box.setCurrentIndex(row.colour_box.findData("inverted"))
    assert state.colour_map == "inverted"
    state.set_window(WindowLevel(400, 40))
    assert row.window_editor.preset_box.currentText() == "Soft tissue"


def test_arrows_and_remove(qtbot, fused, ct_pet):
    state, dock, pet = fused
    study = state.study
    mr_like = study.add_layer(replace(ct_pet[1], modality="MR", units=""), name="MR")
    assert not dock.row(pet.id).up_button.isEnabled() and dock.row(pet.id).down_button.isEnabled()
    dock.row(mr_like.id).up_button.click()
    assert [l.id for l in study.layers] == [study.reference.id, mr_like.id, pet.id]
    dock.row(mr_like.id).down_button.click()
    assert [l.id for l in study.layers] == [study.reference.id, pet.id, mr_like.id]
    dock.row(mr_like.id).remove_button.click()
    assert study.layers == [study.reference, pet] and names(dock) == [study.reference.name, pet.name]


def test_dragging_a_row_moves_the_layer_and_never_above_the_reference(qtbot, fused, ct_pet):
    state, dock, pet = fused
    study = state.study
    other = study.add_layer(ct_pet[1], name="PET 2")
    model = dock.list.model()
    assert model.moveRow(QModelIndex(), 2, QModelIndex(), 1)  # what an internal drag does
    qtbot.waitUntil(lambda: [l.id for l in study.layers] == [study.reference.id, other.id, pet.id])
    assert dock.listed_order() == [l.id for l in study.layers]
    assert all(dock.list.itemWidget(dock.list.item(n)) is dock.rows[n] for n in range(3))
    assert model.moveRow(QModelIndex(), 2, QModelIndex(), 0)  # over the reference: put back
    for _ in range(3):  # the dock puts the list back on its next event-loop turn
        QApplication.processEvents()
    assert [l.id for l in study.layers] == [study.reference.id, other.id, pet.id]
    assert dock.listed_order() == [l.id for l in study.layers]
    assert not (dock.list.item(0).flags() & Qt.ItemFlag.ItemIsDragEnabled)


def test_unregistered_layer_shows_the_banner_until_confirmed(qtbot, fused, ct_pet):
    state, dock, _ = fused
    ct, pet = ct_pet
    other_frame = replace(pet, identity=replace(pet.identity, frame_of_reference_uid="1.2.3.999"))
    layer = state.study.add_layer(other_frame, name="PET elsewhere")
    row = dock.row(layer.id)
    assert not layer.registered
    assert row.banner.isVisibleTo(dock) and row.banner.label.text() == NOT_REGISTERED
    assert not dock.rows[1].banner.isVisibleTo(dock)  # the PET of the CT's frame of reference needs none
    row.banner.confirm_button.click()
    assert layer.registered and state.study.unregistered() == []
    assert not row.banner.isVisibleTo(dock)
    # a registration (set_transform) hides it as well
    again = state.study.add_layer(other_frame, name="PET elsewhere 2")
    assert dock.row(again.id).banner.isVisibleTo(dock)
    state.study.set_transform(again.id, LayerTransform.rigid((1.0, 0, 0)), "rigid MI")
    assert not dock.row(again.id).banner.isVisibleTo(dock)
    assert np.allclose(again.transform.reference_to_layer[:3, 3], (1, 0, 0))
