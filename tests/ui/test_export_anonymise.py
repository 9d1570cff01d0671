"""The GUI's "Anonymise (for sharing outside the hospital)" options: File ▸ Export segmentation… (label maps and
meshes) and the statistics dock's CSV / JSON export write no patient name, ID, birth date, study UID or source path;
the option is off and disabled for RTSTRUCT / SEG, and a file name holding the patient's ID is refused."""

from __future__ import annotations

import gzip
import json

import pytest
from PySide6.QtWidgets import QFileDialog

from .ui_test_data import SAMPLE_CT, open_and_wait


@pytest.fixture
def sample(qtbot, main_window):
    errors: list[str] = []
    main_window.report_error = errors.append
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    # a structure named with the patient's ID, as some planning systems name them
    segmentation = main_window.state.segmentation
    gtv = next(iter(segmentation.segments.values()))
    ident = main_window.state.volume.identity
    segmentation.set_properties(gtv.id, name=f"{ident.patient_id} GTV")
    yield main_window, errors
    main_window.exchange.shutdown()


def _identifiers(volume) -> dict[str, str]:
    ident = volume.identity
    found = {"PatientName": ident.patient_name, "PatientID": ident.patient_id, "BirthDate": ident.patient_birth_date,
             "StudyInstanceUID": ident.study_instance_uid, "SeriesInstanceUID": ident.series_instance_uid,
             "FrameOfReferenceUID": ident.frame_of_reference_uid, "source folder": volume.source_path}
    return {k: v for k, v in found.items() if v}


def _leaks(folder, identifiers) -> list[str]:
    leaks = []
    for path in folder.iterdir():
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data += gzip.decompress(data)
        leaks += [f"{path.name}: {what}" for what, value in identifiers.items()
                  if value.lower().encode() in data.lower() or value.lower() in path.name.lower()]
    return leaks


def _dialog(window, monkeypatch, path, fmt):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.exchange.export_action.trigger()
    dialog = window.exchange.export_dialog
    dialog.set_format(fmt)
    return dialog


@pytest.mark.parametrize("fmt, name", [("nifti", "gtv.nii.gz"), ("nrrd", "gtv.nrrd"), ("stl", "gtv.stl"),
                                       ("obj", "gtv.obj"), ("ply", "gtv.ply")])
def test_anonymised_export_holds_no_identifiers(qtbot, sample, monkeypatch, tmp_path, fmt, name):
    window, errors = sample
    out = tmp_path / "out"
    out.mkdir()
    dialog = _dialog(window, monkeypatch, out / name, fmt)
    assert dialog.anonymise_box.isEnabled() and not dialog.anonymise_box.isChecked()
    dialog.anonymise_box.setChecked(True)
    window.exchange.report_dialog = None
    dialog.export_button.click()
    qtbot.waitUntil(lambda: window.exchange.report_dialog is not None, timeout=120000)
    assert not errors
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 2
    assert not _leaks(out, _identifiers(window.state.volume))
    sidecar = json.loads(next(out.glob("*.json")).read_text())
    assert sidecar["anonymised"] is True
    names = [entry["name"] for entry in sidecar.get("labels", sidecar.get("structures", []))]
    assert names == ["GTV"]


def test_without_anonymise_the_name_is_kept(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    dialog = _dialog(window, monkeypatch, tmp_path / "gtv.nii.gz", "nifti")
    window.exchange.report_dialog = None
    dialog.export_button.click()
    qtbot.waitUntil(lambda: window.exchange.report_dialog is not None, timeout=120000)
    sidecar = json.loads((tmp_path / "gtv.json").read_text())
    assert [label["name"] for label in sidecar["labels"]] == ["STS_001 GTV"] and "anonymised" not in sidecar


def test_anonymise_is_off_for_dicom_and_refuses_an_identifying_file_name(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    dialog = _dialog(window, monkeypatch, tmp_path / "STS_001_gtv.nii.gz", "nifti")
    dialog.anonymise_box.setChecked(True)
    dialog.set_format("rtstruct")
    assert not dialog.anonymise_box.isEnabled() and not dialog.anonymise() and not dialog.anonymise_box.isChecked()
    dialog.set_format("nifti")
    dialog.anonymise_box.setChecked(True)
    dialog.export_button.click()
    assert "file name holds the patient's name or ID" in dialog.message.text()
    assert not list(tmp_path.glob("STS_001_gtv*"))


def test_statistics_export_can_be_anonymised(qtbot, sample, monkeypatch, tmp_path):
    window, errors = sample
    panel = window.statistics
    panel.show()
    panel.raise_()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1 and panel.up_to_date, timeout=120000)
    assert panel.table.text(0, "name") == "STS_001 GTV"
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target["path"]), ""))
    out = tmp_path / "out"
    out.mkdir()
    panel.anonymise_box.setChecked(True)
    for kind, button in (("csv", panel.csv_button), ("json", panel.json_button)):
        target["path"] = out / f"statistics.{kind}"
        button.click()
        assert (out / f"statistics.{kind}").is_file(), panel.status.text()
    assert not _leaks(out, _identifiers(window.state.volume))
    assert json.loads((out / "statistics.json").read_text())[0]["name"] == "GTV"
    target["path"] = out / "STS_001.csv"
    panel.csv_button.click()
    assert "file name holds the patient's name or ID" in panel.status.text() and not (out / "STS_001.csv").exists()
    panel.shutdown()
