"""Find DICOM files under a path (folder, file or DICOMDIR), read their headers once, group them into series.

Only headers are parsed here (``stop_before_pixels``); the file offset of the pixel data is remembered
so the loader can read raw pixel bytes without parsing the header a second time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import DeflatedExplicitVRLittleEndian

from .dicom_files import read_dicom
from ..core.errors import (CorruptFileError, EmptyInputError, LoadCancelled, LoadError, NotDicomError,
                           damaged_content_is_corrupt, exception_clause)
from .dicom_classes import MEDIA_STORAGE_DIRECTORY, non_image_kind
from .patient_identity import register_header

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


@dataclass
class DicomFile:
    path: Path
    header: Dataset  # everything before the pixel data
    pixel_offset: int  # file offset of the (7FE0,0010) element's tag, -1 when there is none

    @property
    def sop_class_uid(self) -> str:
        return str(self.header.get("SOPClassUID", ""))

    @property
    def modality(self) -> str:
        return str(self.header.get("Modality", ""))


@dataclass
class SeriesEntry:
    """One loadable stack of images, or one group of non-image objects, as shown in a series picker."""

    key: str  # what --series takes: the SeriesInstanceUID, suffixed "#n" when a series splits into stacks
    series_uid: str
    kind: str  # "image" or the object kind (RTSTRUCT, RTDOSE, SEG, ...)
    modality: str
    description: str
    files: list[DicomFile] = field(default_factory=list)
    slices: int = 0
    size: tuple[int, int, int] | None = None  # (columns, rows, slices) for images
    study_uid: str = ""
    patient_id: str = ""

    def summary(self) -> dict:
        out = {
            "uid": self.key,
            "kind": self.kind,
            "modality": self.modality,
            "description": self.description,
            "files": len(self.files),
        }
        if self.kind == "image":
            out["slices"] = self.slices
            out["size"] = list(self.size) if self.size else None
        return out


@dataclass
class ScanResult:
    root: Path
    series: list[SeriesEntry]
    skipped: list[str] = field(default_factory=list)  # one sentence per file that was not DICOM

    @property
    def images(self) -> list[SeriesEntry]:
        return [s for s in self.series if s.kind == "image"]

    @property
    def objects(self) -> list[SeriesEntry]:
        return [s for s in self.series if s.kind != "image"]


def read_header(path: Path) -> DicomFile:
    """Parse one file's header; raise NotDicomError / CorruptFileError / LoadError with the file named."""
    try:
        with open(path, "rb") as fp:
            header = read_dicom(fp, stop_before_pixels=True)
            position = fp.tell()
            tag = fp.read(4)
    except PermissionError:
        raise LoadError(path, "cannot be read: permission denied.") from None
    except IsADirectoryError:
        raise LoadError(path, "is a folder, not a file.") from None
    except InvalidDicomError:
        raise NotDicomError(path, "is not a DICOM file (no DICM marker after the 128-byte preamble, and no dataset at its start).") from None
    except Exception as exc:  # EOFError, struct.error, BytesLengthException...: whatever a damaged header throws
        raise CorruptFileError(path, f"is truncated or corrupt ({exception_clause(exc, 160)}).") from None
    if tag in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"):  # (7FE0,0010), little or big endian
        pixel_offset = position
    elif _is_deflated(header):
        # pydicom parsed an inflated copy, so ``fp`` says nothing: look for the pixel data in it.
        # 0 only says "present": deflated files are never read raw (see dicom_pixels.RAW_SYNTAXES).
        pixel_offset = 0 if _deflated_has_pixels(path) else -1
    else:
        pixel_offset = -1
    # Looking at the elements converts them: a damaged one (an unknown VR, say) raises only now.
    with damaged_content_is_corrupt(path, "DICOM header"):
        problem = _header_problem(header, pixel_offset, at_end=tag == b"")
    if problem is not None:
        raise CorruptFileError(path, problem)
    return DicomFile(path=path, header=header, pixel_offset=pixel_offset)


def _is_deflated(header: Dataset) -> bool:
    meta = getattr(header, "file_meta", None)
    return meta is not None and str(meta.get("TransferSyntaxUID", "")) == DeflatedExplicitVRLittleEndian


def _deflated_has_pixels(path: Path) -> bool:
    try:
        return "PixelData" in read_dicom(path, specific_tags=["PixelData"])
    except Exception as exc:  # the header inflated fine, so the rest of the stream is damaged
        raise CorruptFileError(path, f"is truncated or corrupt ({exception_clause(exc, 160)}).") from None


# Image storage classes whose objects must carry Pixel Data: CT, MR, PET (classic, enhanced, legacy
# converted), NM and secondary capture.
_PIXEL_BEARING_CLASSES = {
    "1.2.840.10008.5.1.4.1.1." + suffix
    for suffix in ("2", "2.1", "2.2", "4", "4.1", "4.4", "128", "128.1", "130", "20", "7")
}


def _header_problem(header: Dataset, pixel_offset: int, at_end: bool) -> str | None:
    """Why a header that pydicom parsed without complaint is still broken, or None.

    pydicom stops quietly at the end of a file, keeping a shortened last value, so a truncated
    file or random bytes after a DICM marker would otherwise pass for a valid non-image object.
    """
    meta = getattr(header, "file_meta", None)
    for ds in (meta, header):
        for elem in ds.elements() if ds is not None else ():
            value, length = getattr(elem, "value", None), getattr(elem, "length", 0)
            if isinstance(value, bytes) and length != 0xFFFFFFFF and len(value) < length:
                return f"is truncated or corrupt: it ends inside element {elem.tag}."
    sop_class = str(header.get("SOPClassUID", "") or (meta.get("MediaStorageSOPClassUID", "") if meta else ""))
    if not sop_class and (meta is None or "TransferSyntaxUID" not in meta):
        return "is corrupt: no readable DICOM header follows its DICM marker."
    if pixel_offset < 0 and at_end and non_image_kind(sop_class, str(header.get("Modality", ""))) is None and (
            sop_class in _PIXEL_BEARING_CLASSES or ("Rows" in header and "Columns" in header)):
        return "is truncated: it is an image but the file ends before its pixel data."
    return None


def _dicomdir_files(dicomdir: Path) -> list[Path]:
    try:
        ds = pydicom.dcmread(dicomdir)
    except InvalidDicomError:
        raise NotDicomError(dicomdir, "is not a DICOMDIR file.") from None
    except PermissionError:
        raise LoadError(dicomdir, "cannot be read: permission denied.") from None
    except Exception as exc:  # whatever a damaged file throws, as in read_header
        raise CorruptFileError(dicomdir, f"is truncated or corrupt ({exception_clause(exc, 160)}).") from None
    base = dicomdir.parent
    files = []
    with damaged_content_is_corrupt(dicomdir, "directory records"):
        for record in ds.get("DirectoryRecordSequence", []):
            file_id = record.get("ReferencedFileID")
            if file_id is None:
                continue
            parts = [file_id] if isinstance(file_id, str) else list(file_id)
            files.append(base.joinpath(*parts))
    return files


def _is_dicomdir(path: Path) -> bool:
    return path.name.upper() == "DICOMDIR"


def find_candidate_files(path: Path) -> list[Path]:
    """Every file that may be DICOM under ``path``: a DICOMDIR's references, a folder's files (recursive)."""
    try:
        os.stat(path)
    except PermissionError:  # os.path.exists would say False: a folder above it cannot be searched
        raise LoadError(path, "cannot be read: permission denied.") from None
    except (OSError, ValueError):
        raise LoadError(path, "does not exist.") from None
    if path.is_file():
        return _dicomdir_files(path) if _is_dicomdir(path) else [path]
    if not os.access(path, os.R_OK | os.X_OK):
        raise LoadError(path, "cannot be read: permission denied.")
    dicomdir = path / "DICOMDIR"
    if dicomdir.is_file():
        return _dicomdir_files(dicomdir)
    errors: list[OSError] = []
    files = []
    for folder, dirs, names in os.walk(path, onerror=errors.append):
        dirs.sort()
        files.extend(Path(folder) / n for n in sorted(names) if not n.startswith("."))
    if errors:
        raise LoadError(errors[0].filename, "cannot be read: permission denied.")
    if not files:
        raise EmptyInputError(path, "is an empty folder: it holds no files.")
    return files


def scan(path: str | Path, progress: ProgressFn | None = None, cancelled: CancelFn | None = None) -> ScanResult:
    """Read the header of every DICOM file under ``path`` and group them into series."""
    root = Path(path)
    candidates = find_candidate_files(root)
    dicom_files: list[DicomFile] = []
    skipped: list[str] = []
    for n, file_path in enumerate(candidates):
        if cancelled is not None and cancelled():
            raise LoadCancelled("loading was cancelled")
        try:
            dicom_files.append(read_header(file_path))
        except NotDicomError as exc:
            if len(candidates) == 1:
                raise
            skipped.append(str(exc))
        if progress is not None and n % 16 == 0:
            progress(n / len(candidates), f"reading headers ({n}/{len(candidates)})")
    if not dicom_files:
        detail = f" ({skipped[0].rstrip('.')})" if skipped else ""
        raise EmptyInputError(root, f"holds no DICOM files{detail}.")
    try:
        series = group_series(dicom_files)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, NotImplementedError) as exc:
        # A header value that parsed but is not what it claims (found by tests/test_fuzz_loaders.py).
        raise CorruptFileError(root, f"has a damaged DICOM header ({exception_clause(exc, 160)}).") from None
    return ScanResult(root=root, series=series, skipped=skipped)


def _stack_key(f: DicomFile) -> tuple:
    h = f.header
    if int(h.get("NumberOfFrames", 1) or 1) > 1 or "PerFrameFunctionalGroupsSequence" in h:
        return ("multiframe", str(h.get("SOPInstanceUID", f.path)))
    iop = h.get("ImageOrientationPatient")
    orientation = tuple(round(float(v), 3) for v in iop) if iop is not None else None
    return ("single", orientation, int(h.get("Rows", 0)), int(h.get("Columns", 0)))


def _frames_in(f: DicomFile) -> int:
    return int(f.header.get("NumberOfFrames", 1) or 1)


def group_series(files: list[DicomFile]) -> list[SeriesEntry]:
    """Group by SeriesInstanceUID, then (for images) by orientation and size: each group is one stack."""
    by_series: dict[str, list[DicomFile]] = {}
    for f in files:
        if f.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
            continue
        by_series.setdefault(str(f.header.get("SeriesInstanceUID", "")), []).append(f)

    entries: list[SeriesEntry] = []
    for uid, members in by_series.items():
        images, others = [], {}
        for f in members:
            kind = non_image_kind(f.sop_class_uid, f.modality)
            if kind is None and ("Rows" not in f.header or f.pixel_offset < 0):
                kind = "OTHER"
            if kind is None:
                images.append(f)
            else:
                others.setdefault(kind, []).append(f)
        first = members[0].header
        register_header(first)  # logs and crash reports redact this patient from now on
        common = dict(
            series_uid=uid,
            modality=str(first.get("Modality", "")),
            description=str(first.get("SeriesDescription", "")),
            study_uid=str(first.get("StudyInstanceUID", "")),
            patient_id=str(first.get("PatientID", "")),
        )
        stacks: dict[tuple, list[DicomFile]] = {}
        for f in images:
            stacks.setdefault(_stack_key(f), []).append(f)
        # Largest stack first, so "#1" is the main volume and a localiser is "#2".
        ordered = sorted(stacks.values(), key=lambda s: -sum(_frames_in(f) for f in s))
        for n, stack in enumerate(ordered, start=1):
            h = stack[0].header
            slices = sum(_frames_in(f) for f in stack)
            key = uid if len(ordered) == 1 else f"{uid}#{n}"
            entries.append(SeriesEntry(key=key, kind="image", files=stack, slices=slices,
                                       size=(int(h.Columns), int(h.Rows), slices), **common))
        for kind, group in others.items():
            key = uid if not stacks and len(others) == 1 else f"{uid}:{kind}"
            entries.append(SeriesEntry(key=key, kind=kind, files=group, **common))
    return entries
