"""What every DICOM object MedSeg writes (RTSTRUCT, REG) shares: the patient and study copied from the image it
references, sequence items, and the file meta header."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from ..core.volume import Volume
from .dicom_files import read_dicom

COPIED_FROM_SOURCE = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                      "StudyTime", "AccessionNumber", "ReferringPhysicianName", "StudyID", "StudyDescription",
                      "SpecificCharacterSet")
_SHORT_STRINGS = ("StudyID", "AccessionNumber")


def item(**values) -> Dataset:
    """A sequence item with these attributes."""
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


def source_header(volume: Volume, error: Callable[[str], Exception], what: str) -> Dataset:
    """The header of the series' first image (patient and study identity), found by SOPInstanceUID; ``error`` with
    (made from one sentence) when it is gone (``what``: the object being written, e.g. "the structure set")."""
    wanted = volume.identity.sop_instance_uids[0]
    root = Path(volume.source_path)
    candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in candidates:
        try:
            header = read_dicom(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - anything unreadable is simply not the file we look for
            continue
        if str(header.get("SOPInstanceUID", "")) == wanted:
            return header
    raise error(f"the image's first DICOM file is no longer in {root}, so its patient and study cannot be copied "
                f"into {what}.")


def copy_patient_and_study(ds: Dataset, source: Dataset, study_instance_uid: str) -> None:
    """The patient and study modules of ``source`` into ``ds`` (empty optional ones left out)."""
    for key in COPIED_FROM_SOURCE:
        value = source.get(key, "") if key != "StudyInstanceUID" else study_instance_uid
        if key in _SHORT_STRINGS:  # a source that breaks the 16-character SH limit would make ours invalid too
            value = str(value or "")[:16]
        setattr(ds, key, value)
    if not ds.SpecificCharacterSet:
        del ds.SpecificCharacterSet


def save_with_file_meta(ds: Dataset, path: str | Path) -> Path:
    """Write ``ds`` as a Part 10 file (explicit VR little endian), making the folder; returns the path."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    meta.TransferSyntaxUID, meta.ImplementationClassUID = ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
