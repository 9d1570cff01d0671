"""What loading a study of several series does off the GUI thread: the reference (with its structures, as
:mod:`.study_loading` loads it) and every other series or image file that joins it as a layer, in one job with one
progress for the whole set.

Each part is weighted by its number of files (an image file counts as many as a typical series), so the bar moves
evenly; cancelling stops whichever part is loading. The layers are only read here: they join the study on the GUI
thread (``StudyOpening.attach_layers``), where another patient is asked about and a layer with no overlap refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...core.errors import LoadError
from ...core.volume import Volume
from ...core.window_level import prepare_display
from ...io import load_volume
from ...io.dicom_files import read_dicom
from ...io.dicom_scan import CancelFn, ProgressFn, SeriesEntry
from ...io.image_files import is_image_file
from ...io.load import load_series
from ...io.session_layers import SessionError, load_layer_volume
from .study_loading import LoadedStudy

FILE_WEIGHT = 50  # an image file's share of the bar, in DICOM files

# what joining the study does when the layer's PatientID differs from the reference's
ASK, ALLOW, REFUSE = "ask", "allow", "refuse"


@dataclass
class LayerLoad:
    """A layer read in the background, to join the study on the GUI thread."""

    volume: Volume | None  # None: it could not be read (``problem`` says why)
    name: str | None = None
    other_patient: str = ASK  # ASK (GUI), ALLOW (confirmed, or a session), REFUSE (the command line without
    # --allow-other-patient)
    settings: dict | None = None  # a session's layer entry (io.session_layers): display, transform, registration
    origin: str = ""  # what the user named (a path), for messages
    problem: str = ""


Part = tuple[int, Callable[[ProgressFn, CancelFn], object]]  # (weight, job)


def run_parts(parts: list[Part], progress: ProgressFn, cancelled: CancelFn) -> list:
    """Run each ``job(progress, cancelled)`` in turn with its progress scaled into one bar; their results."""
    total = float(sum(max(1, w) for w, _ in parts)) or 1.0
    done, results = 0.0, []
    for weight, job in parts:
        share = max(1, weight) / total
        start = done
        results.append(job(lambda f, m, s=start, w=share: progress(s + w * min(max(f, 0.0), 1.0), m), cancelled))
        done += share
    progress(1.0, "Loaded")
    return results


def dicom_file_series(path: Path) -> str:
    """The SeriesInstanceUID of one DICOM file (so adding a file adds its whole series)."""
    try:
        return str(read_dicom(path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"]).SeriesInstanceUID)
    except Exception as exc:  # not DICOM, unreadable, no UID: load_volume below says which in one sentence
        raise LoadError(path, f"is not a DICOM image with a series ({type(exc).__name__}).") from None


def read_layer(path: str | Path, series: str | None, progress: ProgressFn, cancelled: CancelFn) -> Volume:
    """A layer from a path: an image file, a DICOM folder (``series`` chooses when it holds several) or one DICOM
    file, which stands for its whole series (the files of that series in its folder)."""
    path = Path(path)
    if path.is_file() and not is_image_file(path) and path.name != "DICOMDIR":
        series = series or dicom_file_series(path)
        path = path.parent
    volume = load_volume(path, series=series, progress=progress, cancelled=cancelled)
    prepare_display(volume)
    return volume


def layer_weight(path: str | Path) -> int:
    path = Path(path)
    if path.is_dir():
        return sum(1 for p in path.rglob("*") if p.is_file())
    return FILE_WEIGHT


def entry_layer(entry: SeriesEntry, origin: str, other_patient: str = ASK) -> Part:
    def job(progress: ProgressFn, cancelled: CancelFn) -> LayerLoad:
        volume = load_series(entry, progress=progress, cancelled=cancelled)
        prepare_display(volume)
        return LayerLoad(volume, other_patient=other_patient, origin=origin)
    return len(entry.files), job


def path_layer(path: str | Path, series: str | None = None, other_patient: str = ASK) -> Part:
    def job(progress: ProgressFn, cancelled: CancelFn) -> LayerLoad:
        return LayerLoad(read_layer(path, series, progress, cancelled), other_patient=other_patient,
                         origin=str(path))
    return layer_weight(path), job


def study_with_layers(reference: Part, layers: list[Part], progress: ProgressFn, cancelled: CancelFn) -> LoadedStudy:
    """Load the reference (a job returning a LoadedStudy) and then the layers, one progress for all."""
    study, *loads = run_parts([reference, *layers], progress, cancelled)
    study.layers = list(loads)
    return study


def default_reference(entries: list[SeriesEntry]) -> SeriesEntry:
    """The series a study is drawn on by default: the first CT, else the first series."""
    return next((e for e in entries if e.modality == "CT"), entries[0])


def one_patients_series(entries: list[SeriesEntry]) -> tuple[list[SeriesEntry], int]:
    """The image series of the default reference's patient, and how many series of other patients were left out."""
    if not entries:
        return [], 0
    patient = default_reference(entries).patient_id
    ours = [e for e in entries if not patient or not e.patient_id or e.patient_id == patient]
    return ours, len(entries) - len(ours)


def session_layer(session_path: str | Path, entry: dict) -> Part:
    """A session's layer (its copy, else its path), to be restored with its settings; one that cannot be read
    comes back without a volume and with the sentence saying why (the rest of the study still opens)."""
    path = Path(entry.get("path", ""))
    weight = FILE_WEIGHT if entry.get("copy") or not entry.get("path") or not path.is_dir() else layer_weight(path)

    def job(progress: ProgressFn, cancelled: CancelFn) -> LayerLoad:
        try:
            volume = load_layer_volume(session_path, entry, progress, cancelled)
        except SessionError as exc:
            return LayerLoad(None, other_patient=ALLOW, settings=entry, origin=str(path), problem=str(exc))
        prepare_display(volume)
        return LayerLoad(volume, other_patient=ALLOW, settings=entry, origin=str(path))
    return weight, job
