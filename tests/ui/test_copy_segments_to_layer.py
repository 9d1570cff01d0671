"""Segment ▸ Copy segments to another layer…: the sample's PET becomes the reference, the CT GTV is carried onto
its grid on a worker thread (names, colours, sources kept) and the CT stays as an overlay; Cancel and an edit during
the copy leave everything as it was."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.overlap_metrics import dice_and_jaccard
from medseg_app.io.image_files import read_image_file
from medseg_app.io.load import load_volume
from medseg_app.ui.segments import segment_transfer
from medseg_app.ui.segments.copy_to_layer_dialog import CopySegmentsDialog

from .gui_ticks import TickGate
from .ui_test_data import SAMPLE_CT_MASK, SAMPLE_STUDY

PET_MASK = SAMPLE_STUDY / "PET" / "nifti" / "mask" / "mask.nii.gz"


@pytest.fixture(scope="module")
def ct_pet():
    return (load_volume(SAMPLE_STUDY / "CT" / "dicom" / "image"), load_volume(SAMPLE_STUDY / "PET" / "dicom" / "image"),
            read_image_file(SAMPLE_CT_MASK).array > 0)


@pytest.fixture
def fused(main_window, ct_pet):
    ct, pet, gtv = ct_pet
    state = main_window.state
    state.set_volume(ct)
    segment = state.segmentation.add_segment("GTV", colour=(250, 140, 60), source="rtstruct", mask=gtv)
    segment.source_detail = "RTSTRUCT ROI GTV_Mass_CT from RS.dcm"
    lower = gtv & (np.arange(gtv.shape[0]) < 30)[:, None, None]
    state.segmentation.add_segment("Boost", colour=(10, 200, 30), mask=lower)
    layer = state.study.add_layer(pet)
    yield main_window, layer
    main_window.segment_transfer.worker.cancel()
    main_window.segment_transfer.worker.wait()


def _menu_action(window):
    menu = segment_transfer.segment_menu(window)
    return next(a for a in menu.actions() if a.text().startswith("Copy segments to another"))


def test_the_dialog_offers_the_overlays_and_explains(fused, qtbot):
    window, layer = fused
    dialog = CopySegmentsDialog(window.state.study, 2, window)
    qtbot.addWidget(dialog)
    assert dialog.layers.count() == 1 and dialog.chosen_layer_id() == layer.id and "PT" in dialog.layers.itemText(0)
    assert dialog.buttons.buttons()[0].isEnabled() and "2 segments" in dialog.summary.text()
    window.state.study.remove_layer(layer.id)
    empty = CopySegmentsDialog(window.state.study, 2, window)
    qtbot.addWidget(empty)
    assert empty.chosen_layer_id() is None and "no other image layer" in empty.warning.text()


def test_copy_makes_the_pet_the_reference_off_the_gui_thread(fused, qtbot, monkeypatch, ct_pet):
    window, layer = fused
    ct, pet, _ = ct_pet
    transfer = window.segment_transfer
    gate = TickGate()
    monkeypatch.setattr(segment_transfer, "rereferenced", gate.hold(segment_transfer.rereferenced))
    transfer.ask_layer = lambda study, count: layer.id
    progress = []
    transfer.worker.progressed.connect(lambda fraction, message: progress.append(message))
    with qtbot.waitSignal(transfer.finished, timeout=60000) as finished:
        _menu_action(window).trigger()
    gate.stop()
    assert gate.off_gui_thread and "Copied 2 segments onto" in finished.args[0]
    state = window.state
    assert state.volume is pet and state.study.reference.id == layer.id
    assert state.segmentation.geometry.same_grid(pet.geometry)
    old = state.study.overlays[0]
    assert old.volume is ct and old.transform.is_identity and old.registered
    gtv, boost = state.segmentation.segments.values()
    assert (gtv.name, gtv.colour, gtv.source, gtv.source_detail) == (
        "GTV", (250, 140, 60), "rtstruct", "RTSTRUCT ROI GTV_Mass_CT from RS.dcm")
    assert (boost.name, boost.colour) == ("Boost", (10, 200, 30))
    assert dice_and_jaccard(gtv.mask, read_image_file(PET_MASK).array > 0)[0] > 0.99
    assert progress and all("Copying to" in m for m in progress)
    assert window.segment_list.table.rowCount() == 2  # the Segments dock follows the new segmentation


def test_cancel_or_an_edit_during_the_copy_changes_nothing(fused, qtbot, monkeypatch, ct_pet):
    window, layer = fused
    ct = ct_pet[0]
    transfer = window.segment_transfer
    gate = TickGate(needed=10_000)  # the job waits until the test has acted
    monkeypatch.setattr(segment_transfer, "rereferenced", gate.hold(segment_transfer.rereferenced))
    with qtbot.waitSignal(transfer.finished, timeout=60000) as finished:
        transfer.run(layer.id)
        qtbot.waitUntil(lambda: bool(gate.job_threads), timeout=10000)
        assert transfer.progress.isVisible() and not transfer.action.isEnabled()
        transfer.progress.cancel_button.click()
    assert "cancelled" in finished.args[0] and window.state.volume is ct
    gate.needed = 3
    with qtbot.waitSignal(transfer.finished, timeout=60000) as finished:
        transfer.run(layer.id)
        segment = next(iter(window.state.segmentation.segments.values()))
        window.state.segmentation.set_properties(segment.id, name="GTV edited")
    gate.stop()
    assert "edited while" in finished.args[0] and window.state.volume is ct
    assert transfer.action.isEnabled()
