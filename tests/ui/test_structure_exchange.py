"""Structures in and out of the window: the sample opens with its RTSTRUCT's GTV, Import refuses a structure set
from another Frame of Reference, Export writes RTSTRUCT / SEG, reads them back and reports the check."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .ui_test_data import SAMPLE_CT, open_and_wait, ramp_volume

GTV_VOXELS = 117145  # IBSI count of STS_001 CT's GTV


@pytest.fixture
def sample(qtbot, main_window):
    errors: list[str] = []
    main_window.report_error = errors.append
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    yield main_window, errors
    main_window.exchange.shutdown()


def _segments(window):
    return list(window.state.segmentation.segments.values())


def test_sample_opens_with_the_rtstruct_gtv_only(sample):
    window, errors = sample
    segments = _segments(window)
    assert [s.name for s in segments] == ["GTV_Mass_CT"]  # the RTSTRUCT's ROI name, not a second twin copy
    assert segments[0].mask.count() == GTV_VOXELS
    assert tuple(segments[0].colour) == (255, 0, 0)  # the RTSTRUCT's ROIDisplayColor
    assert window.study.labels is None and window.study.structure_paths[0].endswith("RS.dcm")
    assert not errors
    panel = window.segment_list  # the loaded structure is the active one, and the list shows it so
    assert panel.table.currentRow() == 0 and panel.delete_button.isEnabled()
    assert panel.opacity.value() == round(100 * segments[0].opacity) > 0


def _export(qtbot, window, monkeypatch, path, fmt):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.exchange.export_action.trigger()
    dialog = window.exchange.export_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.set_format(fmt)
    window.exchange.report_dialog = None
    dialog.export_button.click()
    qtbot.waitUntil(lambda: window.exchange.report_dialog is not None, timeout=120000)
    return window.exchange.report_dialog


@pytest.mark.parametrize("fmt", ["rtstruct", "seg"])
def test_export_dicom_is_read_back_and_reported(qtbot, sample, monkeypatch, tmp_path, fmt):
    window, errors = sample
    out = tmp_path / f"out_{fmt}.dcm"
    report = _export(qtbot, window, monkeypatch, out, fmt)
    assert not errors
    assert out.is_file() and pydicom.dcmread(out).Modality == ("RTSTRUCT" if fmt == "rtstruct" else "SEG")
    [row] = report.rows
    assert row["name"] == "GTV_Mass_CT" and row["passed"]
    assert row["dice"] == pytest.approx(1.0)
    assert row["volume_change_percent"] == pytest.approx(0.0)
    assert row["centroid_shift_mm"] == pytest.approx(0.0, abs=1e-6)
    assert report.table.rowCount() == 1
    assert report.cell(0, 0) == "GTV_Mass_CT" and report.cell(0, 2) == "1.0000" and report.cell(0, 5) == "PASS"
    assert "every structure passed" in report.summary.text()


def test_export_never_overwrites_without_asking(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    out = tmp_path / "exists.dcm"
    out.write_bytes(b"keep me")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.exchange.export_action.trigger()
    window.exchange.export_dialog.export_button.click()
    qtbot.wait(300)
    assert asked and out.read_bytes() == b"keep me"
    assert window.exchange.report_dialog is None and "Nothing was written" in window.exchange.export_dialog.message.text()


def test_export_of_an_empty_segmentation_is_refused(qtbot, sample):
    window, errors = sample
    segmentation = window.state.segmentation
    for segment_id in list(segmentation.segments):
        segmentation.remove_segment(segment_id)
    segmentation.add_segment("Empty")
    window.exchange.export_action.trigger()
    assert window.exchange.export_dialog is None
    assert errors == ["There is nothing to export: the segmentation has no segment with voxels."]


def test_import_from_another_frame_of_reference_is_refused(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    out = tmp_path / "rs.dcm"
    _export(qtbot, window, monkeypatch, out, "rtstruct")
    ds = pydicom.dcmread(out)
    foreign = "1.2.3.4.5.6.7.8.9"
    ds.FrameOfReferenceUID = foreign
    ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = foreign
    for roi in ds.StructureSetROISequence:
        roi.ReferencedFrameOfReferenceUID = foreign
    ds.save_as(out)
    before = [(s.name, s.mask.count()) for s in _segments(window)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.exchange.import_action.trigger()
    qtbot.waitUntil(lambda: bool(errors), timeout=60000)
    assert len(errors) == 1 and "Frame of Reference" in errors[0] and foreign in errors[0]
    assert errors[0].count(".\n") == 0 and errors[0].endswith(".")
    assert [(s.name, s.mask.count()) for s in _segments(window)] == before


def test_import_of_a_matching_rtstruct_adds_its_segments_undoably(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    rs = SAMPLE_CT / "mask" / "RS.dcm"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(rs), "")))
    window.exchange.import_action.trigger()
    qtbot.waitUntil(lambda: len(_segments(window)) == 2, timeout=60000)
    first, second = _segments(window)
    assert second.name == "GTV_Mass_CT" and second.mask.count() == GTV_VOXELS
    assert np.array_equal(first.mask.to_dense(), second.mask.to_dense())
    window.undo()
    assert len(_segments(window)) == 1 and not errors


def test_a_structure_from_the_study_says_where_it_came_from_and_a_session_keeps_it(qtbot, sample, tmp_path):
    from medseg_app.ui.segments.segment_list_panel import SOURCE

    window, errors = sample
    (gtv,) = _segments(window)
    assert gtv.source == "RTSTRUCT" and "'GTV_Mass_CT'" in gtv.source_detail and "RS.dcm" in gtv.source_detail
    assert str(SAMPLE_CT) not in gtv.source_detail  # the file's name, never its folder
    item = window.segment_list.table.item(0, SOURCE)
    assert item.text() == "RTSTRUCT" and item.toolTip() == gtv.source_detail
    path = tmp_path / "case.medseg"
    assert window.sessions.save(str(path), include_image=False)
    qtbot.waitUntil(lambda: not window.sessions.saving, timeout=60000)
    window.state.set_volume(ramp_volume())  # another image is open now
    with qtbot.waitSignal(window.study_loaded, timeout=60000):
        window.sessions.open(path)
    (restored,) = _segments(window)
    assert (restored.source, restored.source_detail) == ("RTSTRUCT", gtv.source_detail)
    assert window.segment_list.table.item(0, SOURCE).text() == "RTSTRUCT" and not errors


def test_an_imported_rtstruct_is_sourced_to_its_file(qtbot, sample, monkeypatch):
    window, _errors = sample
    rs = SAMPLE_CT / "mask" / "RS.dcm"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(rs), "")))
    window.exchange.import_action.trigger()
    qtbot.waitUntil(lambda: len(_segments(window)) == 2, timeout=60000)
    imported = _segments(window)[1]
    assert imported.source == "RTSTRUCT" and imported.source_detail == "RTSTRUCT ROI 'GTV_Mass_CT' from RS.dcm"


def test_a_label_map_twin_is_sourced_to_the_label_map_and_named_after_the_rtstruct():
    from medseg_app.ui.study.study_loading import load_path

    study = load_path(SAMPLE_CT / "image", None, lambda *a: None, lambda: False)
    assert study.labels is not None and study.label_names == {1: "GTV_Mass_CT"}
    assert study.label_details == {1: "label map mask/mask.nii.gz label 1, named after RTSTRUCT ROI 'GTV_Mass_CT' "
                                      "from RS.dcm"}
