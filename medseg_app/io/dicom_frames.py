"""Per-frame geometry and value mapping from single-frame files and enhanced (multi-frame) objects alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from ..core.errors import GeometryError
from .dicom_scan import DicomFile


@dataclass
class FrameRecord:
    file: DicomFile
    frame_index: int  # 0-based frame within the file; 0 for single-frame files
    position: np.ndarray  # ImagePositionPatient, LPS mm: centre of the first transmitted pixel
    row_direction: np.ndarray  # direction of increasing column index (i)
    column_direction: np.ndarray  # direction of increasing row index (j)
    pixel_spacing: tuple[float, float]  # (between columns = along i, between rows = along j)
    slope: float
    intercept: float


def _first_item(ds: Dataset, keyword: str) -> Dataset | None:
    seq = ds.get(keyword)
    return seq[0] if seq else None


def _functional(frame_group: Dataset | None, shared: Dataset | None, sequence: str) -> Dataset | None:
    """An item of a functional group macro: per-frame wins over shared, as PS3.3 C.7.6.16 says."""
    for group in (frame_group, shared):
        if group is not None:
            item = _first_item(group, sequence)
            if item is not None:
                return item
    return None


def _orientation(path, iop) -> tuple[np.ndarray, np.ndarray]:
    if iop is None or len(iop) != 6:
        raise GeometryError(path, "has no Image Orientation (Patient), so its slices cannot be placed in space.")
    values = np.asarray([float(v) for v in iop])
    row, col = values[:3], values[3:]
    if np.all(np.isfinite(values)) and np.linalg.norm(row) > 1e-6:
        row = row / np.linalg.norm(row)
        col = col - row * np.dot(row, col)
        if np.linalg.norm(col) > 1e-6:
            return row, col / np.linalg.norm(col)
    raise GeometryError(path, "has an Image Orientation (Patient) that is not two independent directions, so its "
                              "slices cannot be placed in space.")


def _spacing(path, pixel_spacing) -> tuple[float, float] | None:
    if pixel_spacing is None or len(pixel_spacing) != 2:
        return None
    # PixelSpacing is (row spacing, column spacing): adjacent rows are apart along j.
    return float(pixel_spacing[1]), float(pixel_spacing[0])


def _slope_intercept(item: Dataset | None) -> tuple[float, float]:
    if item is None:
        return 1.0, 0.0
    slope = item.get("RescaleSlope")
    intercept = item.get("RescaleIntercept")
    return (1.0 if slope in (None, "") else float(slope)), (0.0 if intercept in (None, "") else float(intercept))


def single_frame_record(f: DicomFile) -> FrameRecord:
    h = f.header
    if h.get("ImagePositionPatient") is None:
        raise GeometryError(f.path, "has no Image Position (Patient), so it cannot be placed in a volume.")
    row, col = _orientation(f.path, h.get("ImageOrientationPatient"))
    slope, intercept = _slope_intercept(h)
    return FrameRecord(
        file=f,
        frame_index=0,
        position=np.asarray([float(v) for v in h.ImagePositionPatient]),
        row_direction=row,
        column_direction=col,
        pixel_spacing=_spacing(f.path, h.get("PixelSpacing")),
        slope=slope,
        intercept=intercept,
    )


def multi_frame_records(f: DicomFile) -> list[FrameRecord]:
    """Frames of an enhanced CT / MR / PET (or legacy-converted enhanced) object."""
    h = f.header
    shared = _first_item(h, "SharedFunctionalGroupsSequence")
    per_frame = h.get("PerFrameFunctionalGroupsSequence")
    n_frames = int(h.get("NumberOfFrames", 1) or 1)
    if per_frame is None or len(per_frame) != n_frames:
        raise GeometryError(f.path, "is a multi-frame image without per-frame positions, so it cannot be placed in space.")
    records = []
    for index, group in enumerate(per_frame):
        position_item = _functional(group, shared, "PlanePositionSequence")
        orientation_item = _functional(group, shared, "PlaneOrientationSequence")
        measures = _functional(group, shared, "PixelMeasuresSequence")
        if position_item is None or position_item.get("ImagePositionPatient") is None:
            raise GeometryError(f.path, f"frame {index + 1} has no Image Position (Patient).")
        row, col = _orientation(f.path, None if orientation_item is None
                                else orientation_item.get("ImageOrientationPatient"))
        slope, intercept = _slope_intercept(_functional(group, shared, "PixelValueTransformationSequence"))
        records.append(FrameRecord(
            file=f,
            frame_index=index,
            position=np.asarray([float(v) for v in position_item.ImagePositionPatient]),
            row_direction=row,
            column_direction=col,
            pixel_spacing=_spacing(f.path, None if measures is None else measures.get("PixelSpacing")),
            slope=slope,
            intercept=intercept,
        ))
    return records


def frame_records(files: list[DicomFile]) -> list[FrameRecord]:
    records: list[FrameRecord] = []
    for f in files:
        if "PerFrameFunctionalGroupsSequence" in f.header:
            records.extend(multi_frame_records(f))
        else:
            records.append(single_frame_record(f))
    return records
