"""One DICOM stack (single-frame files or an enhanced multi-frame object) to a Volume on a regular grid."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from ..core.errors import GeometryError
from ..core.stack_geometry import analyse_stack, resample_stack
from ..core.volume import UNITS_HU, UNITS_NONE, SourceIdentity, Volume
from .dicom_frames import FrameRecord, frame_records
from .dicom_pixels import apply_rescale, read_frames
from .dicom_scan import CancelFn, ProgressFn, SeriesEntry
from .patient_identity import patient_fields, register_header
from .suv import pet_units

_ORIENTATION_TOL = 1e-3


def _check_same_plane_orientation(records: list[FrameRecord], where) -> None:
    ref = records[0]
    for r in records[1:]:
        if (np.abs(r.row_direction - ref.row_direction).max() > _ORIENTATION_TOL
                or np.abs(r.column_direction - ref.column_direction).max() > _ORIENTATION_TOL):
            raise GeometryError(where, f"mixes slice orientations ({r.file.path.name} differs from "
                                       f"{ref.file.path.name}), so it is not one volume.")


def _pixel_spacing(records: list[FrameRecord], warnings: list[str], where) -> tuple[float, float]:
    spacings = {r.pixel_spacing for r in records}
    if len(spacings) > 1:
        raise GeometryError(where, "mixes pixel spacings between slices, so it is not one volume.")
    spacing = spacings.pop()
    if spacing is None:
        warnings.append("the images carry no Pixel Spacing; 1 mm is assumed, so distances and volumes are not real.")
        return (1.0, 1.0)
    return spacing


def _identity(entry: SeriesEntry, ordered: list[FrameRecord]) -> SourceIdentity:
    h = ordered[0].file.header
    multi = "PerFrameFunctionalGroupsSequence" in h
    register_header(h)  # logs and crash reports redact this patient from now on
    fields = patient_fields(h)
    return SourceIdentity(
        patient_id=str(h.get("PatientID", "")),
        patient_name=str(h.get("PatientName", "")),
        study_instance_uid=str(h.get("StudyInstanceUID", "")),
        series_instance_uid=str(h.get("SeriesInstanceUID", "")),
        frame_of_reference_uid=str(h.get("FrameOfReferenceUID", "")),
        series_description=str(h.get("SeriesDescription", "")),
        sop_class_uid=str(h.get("SOPClassUID", "")),
        sop_instance_uids=(str(h.SOPInstanceUID),) if multi
        else tuple(str(r.file.header.get("SOPInstanceUID", "")) for r in ordered),
        frame_numbers=tuple(r.frame_index + 1 for r in ordered) if multi else (),
        patient_birth_date=fields["patient_birth_date"],
        other_patient_ids=fields["other_patient_ids"],
        other_patient_names=fields["other_patient_names"],
    )


def _with_converted_attributes(header: Dataset) -> Dataset:
    """A legacy-converted enhanced object keeps the source's Units, Decay Correction, radiopharmaceutical...
    in the shared Unassigned Converted Attributes: see them as if they were top-level (top level wins)."""
    shared = header.get("SharedFunctionalGroupsSequence")
    unassigned = shared[0].get("UnassignedSharedConvertedAttributesSequence") if shared else None
    if not unassigned:
        return header
    merged = Dataset()
    merged.update(unassigned[0])
    merged.update(header)
    return merged


def _units(modality: str, header, warnings: list[str]) -> tuple[str, float]:
    if modality == "CT":
        return UNITS_HU, 1.0
    if modality == "PT":
        units, factor, note = pet_units(_with_converted_attributes(header))
        if note:
            warnings.append(note)
        return units, factor
    return UNITS_NONE, 1.0


def load_series(entry: SeriesEntry, progress: ProgressFn | None = None, cancelled: CancelFn | None = None) -> Volume:
    where = entry.files[0].path.parent if len(entry.files) > 1 else entry.files[0].path
    records = frame_records(entry.files)
    _check_same_plane_orientation(records, where)
    warnings: list[str] = []
    pixel_spacing = _pixel_spacing(records, warnings, where)
    header = records[0].file.header
    rows, cols = int(header.Rows), int(header.Columns)
    nominal = header.get("SpacingBetweenSlices") or header.get("SliceThickness")
    layout = analyse_stack(
        np.array([r.position for r in records]),
        records[0].row_direction,
        records[0].column_direction,
        pixel_spacing,
        (cols, rows),
        nominal_spacing=float(nominal) if nominal else None,
        where=where,
    )
    warnings.extend(layout.warnings)
    ordered = [records[i] for i in layout.order]
    raw = read_frames(ordered, rows, cols, progress, cancelled)
    slopes = np.array([r.slope for r in ordered])
    intercepts = np.array([r.intercept for r in ordered])
    modality = str(header.get("Modality", ""))
    units, factor = _units(modality, header, warnings)
    if factor != 1.0:
        slopes, intercepts = slopes * factor, intercepts * factor
    values = apply_rescale(raw, slopes, intercepts, inplace=True)  # raw is ours: reuse its memory
    array = resample_stack(values, layout)
    if progress is not None:
        progress(1.0, "loaded")
    return Volume(
        array=np.ascontiguousarray(array),
        geometry=layout.geometry,
        modality=modality,
        units=units,
        identity=_identity(entry, ordered),
        source_path=str(entry.files[0].path.parent if len(entry.files) > 1 else entry.files[0].path),
        warnings=warnings,
    )
