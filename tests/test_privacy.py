"""Privacy: logs and crash reports carry no patient names, IDs or birth dates, and anonymised exports (label maps,
meshes, statistics) carry none of them, no UIDs of the study and no source path.

Two studies: the bundled sample (PatientName = PatientID = "STS_001", which is also a folder in its path; no birth
date) and a copy of eight of its slices re-identified as a realistic patient (name, ID, birth date, other IDs) in a
folder named after that patient.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from conftest import REPO, SAMPLE, series_dir
from medseg_app.app_logging import configure_logging, log_started, shutdown_logging
from medseg_app.cli import main
from medseg_app.core.privacy import (REDACTED, RedactingFilter, anonymised_name, contains_identifiers, get_logger,
                                     redact, register_patient, replacement_uid)
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume
from medseg_app.io.label_map import save_label_map, sidecar_path
from medseg_app.io.statistics_export import write_csv, write_json
from medseg_app.render.mesh_export import write_mesh
from medseg_app.render.statistics_report import comparison_rows, segment_rows

SAMPLE_CT = series_dir(SAMPLE, "CT")
SAMPLE_RTSTRUCT = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"

PATIENT = {"PatientName": "DOE^JANE^MARIE", "PatientID": "MRN4471923", "PatientBirthDate": "19580214",
           "OtherPatientIDs": "ALT-99812"}


@pytest.fixture(scope="module")
def identified_ct(tmp_path_factory) -> Path:
    """Eight adjacent slices of the sample CT as patient DOE^JANE^MARIE, in a folder named after her."""
    folder = tmp_path_factory.mktemp("studies") / "DOE_JANE_MRN4471923" / "CT"
    folder.mkdir(parents=True)
    slices = sorted((pydicom.dcmread(p) for p in SAMPLE_CT.glob("*.dcm")),
                    key=lambda ds: float(ds.ImagePositionPatient[2]))
    for n, ds in enumerate(slices[20:28]):
        for keyword, value in PATIENT.items():
            setattr(ds, keyword, value)
        ds.save_as(folder / f"{n:03d}.dcm")
    return folder


def _identifiers(volume) -> dict[str, str]:
    """What must not leave the hospital: patient name (and its spaced form), ID, birth date, UIDs, source path."""
    ident = volume.identity
    found = {"PatientName": ident.patient_name, "PatientName spaced": ident.patient_name.replace("^", " "),
             "PatientID": ident.patient_id, "PatientBirthDate": ident.patient_birth_date,
             "StudyInstanceUID": ident.study_instance_uid, "SeriesInstanceUID": ident.series_instance_uid,
             "FrameOfReferenceUID": ident.frame_of_reference_uid, "source folder": volume.source_path,
             **{f"OtherPatientIDs {n}": v for n, v in enumerate(ident.other_patient_ids)}}
    return {k: v for k, v in found.items() if v}


def _contents(path: Path) -> bytes:
    """A written file's bytes and, for compressed ones, its decompressed bytes too."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data += gzip.decompress(data)
    elif path.suffix == ".nrrd":
        header, _, body = data.partition(b"\n\n")
        if b"encoding: gzip" in header:
            data += gzip.decompress(body)
    return data


def _leaks(files: list[Path], identifiers: dict[str, str]) -> list[str]:
    found = []
    for path in files:
        data = _contents(path).lower()
        for what, value in identifiers.items():
            if value.lower().encode() in data:
                found.append(f"{path.name} holds the {what}")
            if value.lower() in path.name.lower():
                found.append(f"{path.name}: the file name holds the {what}")
    return found


def _segmentation(volume) -> Segmentation:
    """A GTV, a boost named with the patient's ID (as some planning systems name structures) and one named only
    with the patient's name."""
    ident = volume.identity
    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    shape = volume.geometry.shape
    for n, name in enumerate(["GTV", f"{ident.patient_id}_GTV_boost", ident.patient_name.replace("^", " ")]):
        mask = np.zeros(shape, bool)
        mask[2:6, 20 + 25 * n:40 + 25 * n, 30:60] = True
        segmentation.add_segment(name, mask=mask)
    return segmentation


@pytest.fixture(params=["sample", "identified"])
def study(request, identified_ct):
    volume = load_volume(SAMPLE_CT if request.param == "sample" else identified_ct)
    return volume, _segmentation(volume)


# --- redaction ---------------------------------------------------------------------------------------------------
def test_names_ids_and_birth_dates_are_redacted_in_the_forms_people_write_them():
    register_patient("QUIRINUS^ARABELLA^Z", "PX-55102938", "19610307", other_ids=["ZZ7731"])
    for text in ("QUIRINUS^ARABELLA^Z", "Quirinus Arabella", "Arabella Quirinus", "arabella z quirinus",
                 "Quirinus, Arabella", "/data/QUIRINUS_ARABELLA/ct", "PX-55102938", "id PX-55102938.dcm",
                 "1961-03-07", "07.03.1961", "03/07/1961", "19610307", "ZZ7731"):
        redacted = redact(f"opened {text} now")
        assert redacted.startswith("opened ") and redacted.endswith(" now") and REDACTED in redacted, text
        assert not re.search(r"quirinus|arabella|55102938|1961|zz7731", redacted, re.IGNORECASE), (text, redacted)
    assert redact("Quirinussen 5 slices, 1961 mL") == "Quirinussen 5 slices, 1961 mL"  # whole names, not prefixes


def test_identifier_fields_are_redacted_whoever_the_patient_is():
    for text in ("PatientName=NOBODY^KNOWN, size 3", '{"PatientID": "Q123", "x": 1}', "patient_name='A B'",
                 "(0010,0010) Patient's Name                      PN: 'NOBODY^KNOWN'",
                 "(0010,0030) Patient's Birth Date                DA: '19990101'", "DOB: 01.01.1999",
                 "date of birth = 1999-01-01", "born 1999-01-01"):
        redacted = redact(text)
        assert REDACTED in redacted, text
        assert not re.search(r"NOBODY|Q123|A B|1999", redacted), (text, redacted)
    assert redact("PatientName=NOBODY, size 3").endswith(", size 3")


def test_the_log_filter_redacts_message_arguments_and_exception():
    register_patient("VANTONGEREN^HILDA", "HX77120455")
    record = None
    try:
        raise ValueError("cannot read HX77120455 of Hilda Vantongeren")
    except ValueError:
        record = logging.LogRecord("medseg.test", logging.ERROR, __file__, 1, "opened %s for %s", ("x", "HX77120455"),
                                   sys.exc_info())
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "HX77120455" not in formatted and "Hilda" not in formatted and "Vantongeren" not in formatted
    assert "opened x for [redacted]" in formatted and "ValueError: cannot read [redacted] of [redacted]" in formatted


def test_medseg_loggers_redact_before_any_handler_sees_the_record():
    """Not only the log file: a handler of the embedding program (or a test) gets the record redacted too."""
    register_patient("OSTERBERG^LINNEA", "LO-30495817")
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = get_logger("probe")
    logger.addHandler(handler)
    try:
        logger.warning("cannot open %s", "/studies/OSTERBERG_LINNEA/LO-30495817")
    finally:
        logger.removeHandler(handler)
    assert seen == ["cannot open /studies/[redacted]/[redacted]"]


def test_anonymised_names_and_replacement_uids():
    register_patient("PEMBERTON^OLIVE", "OP-90871234")
    assert anonymised_name("OP-90871234_GTV", "Structure_1") == "GTV"
    assert anonymised_name("Pemberton Olive", "Structure_2") == "Structure_2"
    assert anonymised_name("PTV 60Gy", "Structure_3") == "PTV 60Gy"
    assert contains_identifiers("gtv_OP-90871234.nii.gz") and not contains_identifiers("gtv.nii.gz")
    assert replacement_uid("1.2.3") == replacement_uid("1.2.3") != "1.2.3"
    assert replacement_uid("1.2.3").startswith("2.25.") and replacement_uid("1.2.4") != replacement_uid("1.2.3")


def test_loading_reads_and_hides_the_patient(identified_ct):
    volume = load_volume(identified_ct)
    ident = volume.identity
    assert (ident.patient_name, ident.patient_id, ident.patient_birth_date, ident.other_patient_ids) == (
        "DOE^JANE^MARIE", "MRN4471923", "19580214", ("ALT-99812",))
    assert not any(v in repr(ident) for v in ("DOE", "MRN4471923", "19580214", "ALT-99812"))  # tracebacks, logs


# --- the log ------------------------------------------------------------------------------------------------------
@pytest.fixture
def log_folder(tmp_path):
    folder = tmp_path / "state"
    assert configure_logging(folder) == folder / "medseg.log"
    yield folder
    shutdown_logging()
    configure_logging()  # back to the session's folder (MEDSEG_LOG_DIR)


def test_the_log_has_the_events_and_no_identifiers(log_folder, identified_ct, tmp_path):
    log_started("test")
    volumes = [load_volume(SAMPLE_CT), load_volume(identified_ct)]
    for missing in (SAMPLE_CT / "gone", identified_ct / "gone"):  # load errors naming a path with the patient in it
        with pytest.raises(Exception):
            load_volume(missing)
    bad = identified_ct.parent / "damaged"
    bad.mkdir(exist_ok=True)
    (bad / "slice.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 5)
    with pytest.raises(Exception):
        load_volume(bad)
    logging.getLogger("medseg.test").warning("PatientName=%s, PatientBirthDate=%s", "DOE^JANE^MARIE", "19580214")
    segmentation = _segmentation(volumes[1])
    save_label_map(segmentation, tmp_path / "gtv.nii.gz")
    text = (log_folder / "medseg.log").read_text()
    assert "MedSeg" in text and "started" in text
    assert text.count("opened a DICOM series") == 2 and "modality CT" in text
    assert text.count("load failed") == 3 and "does not exist" in text
    assert "label map written" in text and "gtv.nii.gz" in text
    assert REDACTED in text
    leaks = [what for volume in volumes for what, value in _identifiers(volume).items()
             if what not in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "source folder")
             and value.lower() in text.lower()]
    assert not leaks, leaks
    assert "Jane Doe" not in text and "1958-02-14" not in text
    assert os.stat(log_folder / "medseg.log").st_mode & 0o077 == 0  # only its owner can read it


# --- crash reports ------------------------------------------------------------------------------------------------
CRASH_SCRIPT = """
import sys, threading
from medseg_app.app_logging import configure_logging, install_crash_handler
from medseg_app.io import load_volume

configure_logging()
install_crash_handler()
volume = load_volume(sys.argv[1])
who = volume.identity
message = f"simulated failure for {who.patient_name} ({who.patient_id}, born {who.patient_birth_date})"
worker = threading.Thread(target=lambda: (_ for _ in ()).throw(KeyError(message)), name="worker")
worker.start()
worker.join()
raise RuntimeError(message)
"""


@pytest.mark.parametrize("which", ["sample", "identified"])
def test_a_crash_writes_a_redacted_report(tmp_path, identified_ct, which):
    study_path = SAMPLE_CT if which == "sample" else identified_ct
    volume = load_volume(study_path)
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)
    env = {**os.environ, "MEDSEG_LOG_DIR": str(tmp_path / "state"), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(script), str(study_path)], capture_output=True, text=True,
                            env=env, timeout=300, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    reports = sorted((tmp_path / "state").glob("crash-*.txt"))
    assert len(reports) == 2, result.stderr  # the worker thread's and the main thread's
    identifiers = {k: v for k, v in _identifiers(volume).items()
                   if k.startswith(("Patient", "OtherPatient"))}
    log = (tmp_path / "state" / "medseg.log").read_text()
    for text in [r.read_text() for r in reports] + [result.stderr, log]:
        leaks = [what for what, value in identifiers.items() if value.lower() in text.lower()]
        assert not leaks, (leaks, text)
    for report in reports:
        text = report.read_text()
        assert "Traceback (most recent call last)" in text and "simulated failure for [redacted]" in text
        assert "version: " in text and "platform: " in text and "python: " in text
        assert os.stat(report).st_mode & 0o077 == 0
    texts = "".join(r.read_text() for r in reports)
    assert "RuntimeError" in texts and "KeyError" in texts and "thread: worker" in texts
    assert "crash report" in log and "RuntimeError" in log


# --- anonymised exports -------------------------------------------------------------------------------------------
def _export_everything(volume, segmentation, out: Path, anonymise: bool) -> list[Path]:
    out.mkdir()
    files = []
    for name in ("labels.nii.gz", "labels_nii.nii", "labels_nrrd.nrrd"):
        save_label_map(segmentation, out / name, anonymise=anonymise)
        files += [out / name, sidecar_path(out / name)]
    for ext in ("stl", "obj", "ply"):
        files += write_mesh(segmentation, volume, out / f"mesh_{ext}.{ext}", anonymise=anonymise, smoothing=0)
        files += write_mesh(segmentation, volume, out / f"all_{ext}.{ext}", anonymise=anonymise, combined=True,
                            smoothing=0)
        files += [out / f"mesh_{ext}.json", out / f"all_{ext}.json"]
    ids = list(segmentation.segments)
    reference = Segmentation(volume.geometry, undo_budget_bytes=0)
    reference.add_segment(f"{volume.identity.patient_id}_reference.nii.gz: GTV",
                          mask=segmentation.segments[ids[1]].mask.to_dense())
    rows = [segment_rows(segmentation, volume),
            comparison_rows(segmentation, [(ids[0], list(reference.segments)[0])], reference)]
    for n, table in enumerate(rows):
        write_csv(table, out / f"stats{n}.csv", anonymise=anonymise)
        write_json(table, out / f"stats{n}.json", anonymise=anonymise)
        files += [out / f"stats{n}.csv", out / f"stats{n}.json"]
    assert set(files) == set(out.iterdir())  # every file written is checked
    return sorted(set(files))


def test_anonymised_exports_hold_no_identifiers(study, tmp_path):
    volume, segmentation = study
    identifiers = _identifiers(volume)
    files = _export_everything(volume, segmentation, tmp_path / "anonymised", anonymise=True)
    assert not _leaks(files, identifiers)
    sidecar = json.loads((tmp_path / "anonymised" / "labels.json").read_text())
    assert [label["name"] for label in sidecar["labels"]] == ["GTV", "GTV_boost", "Structure_3"]
    assert sidecar["anonymised"] is True
    meshes = json.loads((tmp_path / "anonymised" / "mesh_stl.json").read_text())
    assert [s["file"] for s in meshes["structures"]] == [
        "mesh_stl_GTV.stl", "mesh_stl_GTV_boost.stl", "mesh_stl_Structure_3.stl"]
    assert meshes["frame_of_reference_uid"].startswith("2.25.") and meshes["anonymised"] is True
    stats = json.loads((tmp_path / "anonymised" / "stats1.json").read_text())
    assert stats[0]["reference"] == "reference_file: GTV"


def test_without_anonymise_the_exports_are_as_before(study, tmp_path):
    """The control: the same exports without anonymise keep the names (so the check above can fail)."""
    volume, segmentation = study
    files = _export_everything(volume, segmentation, tmp_path / "plain", anonymise=False)
    leaks = _leaks(files, _identifiers(volume))
    assert any("labels.json holds the PatientID" in leak for leak in leaks)
    assert any("mesh_stl.json holds the FrameOfReferenceUID" in leak for leak in leaks)
    sidecar = json.loads((tmp_path / "plain" / "labels.json").read_text())
    assert sidecar == {"version": 1, "coordinate_system": "LPS", "overlap_voxels": 0, "labels": [
        {"value": n, "name": s.name, "colour": list(s.colour), "source": "manual"}
        for n, s in enumerate(segmentation.segments.values(), start=1)]}


# --- medseg convert --anonymise -----------------------------------------------------------------------------------
def _convert(*args) -> int:
    return main(["convert", "--image", str(SAMPLE_CT), "--seg", str(SAMPLE_RTSTRUCT), *map(str, args)])


@pytest.mark.parametrize("name", ["gtv.nii.gz", "gtv.nrrd", "gtv.stl", "gtv.obj", "gtv.ply"])
def test_convert_anonymise_writes_no_identifiers(tmp_path, name):
    assert _convert("--out", tmp_path / name, "--anonymise") == 0
    volume = load_volume(SAMPLE_CT)
    files = list(tmp_path.iterdir())
    assert len(files) == 2 and not _leaks(files, _identifiers(volume))


def test_convert_anonymise_refuses_dicom_output_and_identifying_names(tmp_path, capsys):
    assert _convert("--out", tmp_path / "rs.dcm", "--format", "rtstruct", "--anonymise") == 2
    assert "cannot be used with RTSTRUCT output" in capsys.readouterr().err
    assert _convert("--out", tmp_path / "STS_001_gtv.stl", "--anonymise") == 2
    assert "file name holds the patient's name or ID" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
