"""Read a DICOM RT Structure Set onto a volume's grid: one mask per ROI, rasterised at voxel centres.

Each CLOSED_PLANAR contour is mapped from LPS millimetres to continuous voxel index with the volume's
geometry (so any orientation, flipped or oblique, is handled by the one matrix), assigned to the slice k its
points lie on, and all contours of one ROI on one slice are filled together with the even-odd rule: a voxel is
inside when a ray from its centre crosses the contours an odd number of times, so holes (a contour inside
another) and several islands come out right. ContourImageSequence is not required: contours are matched to
slices by position, and the structure set to the volume by Frame of Reference UID alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement

from .dicom_files import read_dicom
from ..core.box import Box
from ..core.errors import LoadError, damaged_content_is_corrupt
from ..core.geometry import ImageGeometry
from ..core.segmentation import Segmentation
from ..core.sparse_mask import SparseMask
from ..core.volume import Volume

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
PLANE_TOLERANCE = 0.25  # in slices: how far a contour point may sit from its slice's centre plane
_SNAP = 1e-6  # index coordinates are rounded to this so that exported half-integer vertices stay exact
_CONTOUR_DATA = 0x30060050


@dataclass
class RoiMask:
    number: int
    name: str
    colour: tuple[int, int, int]
    interpreted_type: str
    mask: SparseMask
    contours: int = 0  # contours rasterised
    skipped: list[str] = field(default_factory=list)  # one sentence per contour left out, and why

    def to_dense(self) -> np.ndarray:
        return self.mask.to_dense()

    @property
    def voxel_count(self) -> int:
        return self.mask.count()


def fill_polygons_even_odd(polygons: list[np.ndarray], shape_ji: tuple[int, int]) -> tuple[np.ndarray, int, int] | None:
    """Even-odd fill of polygons given as (n, 2) arrays of continuous (i, j), sampled at integer (i, j).

    Returns (mask cropped to the polygons' bounding rows/columns, j0, i0) or None when no voxel centre is inside.
    Half-open rule on rows (an edge counts for y0 <= j < y1) so that vertices on a row are counted once.
    """
    nj, ni = shape_ji
    starts, ends = [], []
    for poly in polygons:
        if len(poly) < 3:
            continue
        starts.append(poly)
        ends.append(np.roll(poly, -1, axis=0))
    if not starts:
        return None
    a, b = np.concatenate(starts), np.concatenate(ends)
    ys = np.concatenate([a[:, 1], b[:, 1]])
    j0, j1 = max(int(np.ceil(ys.min())), 0), min(int(np.floor(ys.max())), nj - 1)
    xs = np.concatenate([a[:, 0], b[:, 0]])
    i0, i1 = max(int(np.ceil(xs.min())), 0), min(int(np.floor(xs.max())), ni - 1)
    if j1 < j0 or i1 < i0:
        return None
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    rows = np.arange(j0, j1 + 1, dtype=float)
    # crosses[e, r]: edge e crosses row r (half-open, horizontal edges never cross)
    crosses = (lo[:, None] <= rows[None, :]) & (rows[None, :] < hi[:, None])
    edge_idx, row_idx = np.nonzero(crosses)
    if edge_idx.size == 0:
        return None
    ea, eb = a[edge_idx], b[edge_idx]
    y = rows[row_idx]
    x = ea[:, 0] + (y - ea[:, 1]) * (eb[:, 0] - ea[:, 0]) / (eb[:, 1] - ea[:, 1])
    # Every voxel centre i >= x on that row is toggled; parity of the toggles is the even-odd rule.
    first = np.clip(np.ceil(x - _SNAP).astype(np.int64) - i0, 0, i1 - i0 + 1)
    toggles = np.zeros((j1 - j0 + 1, i1 - i0 + 2), dtype=np.int32)
    np.add.at(toggles, (row_idx, first), 1)
    mask = (np.cumsum(toggles, axis=1)[:, :-1] % 2).astype(bool)
    if not mask.any():
        return None
    return mask, j0, i0


def _slice_of(points_ijk: np.ndarray, nk: int) -> tuple[int | None, str]:
    k = points_ijk[:, 2]
    kk = int(np.floor(float(np.median(k)) + 0.5))
    if np.max(np.abs(k - kk)) > PLANE_TOLERANCE:
        if np.ptp(k) > 2 * PLANE_TOLERANCE:
            return None, "does not lie in one slice plane (the series' slices are not its planes)"
        return None, f"lies between slices (index k = {float(np.median(k)):.2f})"
    if not 0 <= kk < nk:
        return None, f"lies outside the image (slice {kk} of 0–{nk - 1})"
    return kk, ""


def _colour(item) -> tuple[int, int, int]:
    colour = item.get("ROIDisplayColor")
    if colour is None or len(colour) != 3:
        return (255, 0, 0)
    return tuple(int(max(0, min(255, int(float(c))))) for c in colour)


def _read_dataset(path: Path):
    try:
        ds = read_dicom(path)
    except Exception as exc:
        raise LoadError(path, f"cannot be read as DICOM ({exc}).") from exc
    if str(ds.get("SOPClassUID", "")) != RTSTRUCT_SOP_CLASS and ds.get("Modality") != "RTSTRUCT":
        raise LoadError(path, "is not an RT Structure Set.")
    return ds


def _frame_of_reference_uids(ds) -> set[str]:
    uids = {str(item.FrameOfReferenceUID) for item in ds.get("ReferencedFrameOfReferenceSequence", [])
            if "FrameOfReferenceUID" in item}
    uids |= {str(item.ReferencedFrameOfReferenceUID) for item in ds.get("StructureSetROISequence", [])
             if "ReferencedFrameOfReferenceUID" in item}
    return uids


def _contour_data(contour) -> np.ndarray:
    """A contour's ContourData as floats. Where pydicom has not converted it yet, its text is parsed in one go:
    pydicom would make (and validate) one DSfloat per number, most of the time a structure set takes to read
    (0.2 s for the sample's). The same decimal strings give the same doubles either way."""
    element = contour.get_item(_CONTOUR_DATA) if _CONTOUR_DATA in contour else None
    if isinstance(element, RawDataElement) and isinstance(element.value, bytes) and element.value.strip():
        try:
            return np.array(element.value.split(b"\\")).astype(np.float64)
        except ValueError:  # not plain decimal strings: pydicom says what they are
            pass
    return np.asarray([float(v) for v in contour.get("ContourData", [])], dtype=float)


def _rasterise_roi(contour_items, geometry: ImageGeometry) -> tuple[SparseMask, int, list[str]]:
    ni, nj, nk = geometry.size
    by_slice: dict[int, list[np.ndarray]] = {}
    skipped: list[str] = []
    used = 0
    for n, contour in enumerate(contour_items, start=1):
        kind = str(contour.get("ContourGeometricType", "")).upper()
        if kind != "CLOSED_PLANAR":
            skipped.append(f"contour {n} is {kind or 'untyped'}, not CLOSED_PLANAR.")
            continue
        data = _contour_data(contour)
        if data.size < 9 or data.size % 3:
            skipped.append(f"contour {n} has fewer than three points.")
            continue
        ijk = np.round(geometry.patient_to_index(data.reshape(-1, 3)) / _SNAP) * _SNAP
        k, why = _slice_of(ijk, nk)
        if k is None:
            skipped.append(f"contour {n} {why}.")
            continue
        by_slice.setdefault(k, []).append(ijk[:, :2])
        used += 1
    mask = SparseMask(geometry.shape)
    for k, polygons in sorted(by_slice.items()):
        filled = fill_polygons_even_odd(polygons, (nj, ni))
        if filled is None:
            continue
        plane, j0, i0 = filled
        box = Box((k, j0, i0), (k + 1, j0 + plane.shape[0], i0 + plane.shape[1]))
        mask.write(box, plane[np.newaxis])
    mask.compact()
    return mask, used, skipped


def read_rtstruct(path: str | Path, volume: Volume) -> list[RoiMask]:
    """Every ROI of the structure set at ``path`` as a mask on ``volume``'s grid (ROIs without contours: empty)."""
    with damaged_content_is_corrupt(path, "structure set content"):
        return _read_rtstruct(path, volume)


def _read_rtstruct(path: str | Path, volume: Volume) -> list[RoiMask]:
    path = Path(path)
    ds = _read_dataset(path)
    volume_for = volume.identity.frame_of_reference_uid
    struct_for = _frame_of_reference_uids(ds)
    if not volume_for:
        raise LoadError(path, "cannot be matched to the image because the image has no Frame of Reference UID.")
    if volume_for not in struct_for:
        found = ", ".join(sorted(struct_for)) or "none"
        raise LoadError(path, f"belongs to Frame of Reference {found}, not to the image's {volume_for}.")
    contours = {int(item.ReferencedROINumber): item for item in ds.get("ROIContourSequence", [])
                if "ReferencedROINumber" in item}
    types = {int(item.ReferencedROINumber): str(item.get("RTROIInterpretedType", "") or "")
             for item in ds.get("RTROIObservationsSequence", []) if "ReferencedROINumber" in item}
    rois = []
    for item in ds.get("StructureSetROISequence", []):
        number = int(item.ROINumber)
        roi_for = str(item.get("ReferencedFrameOfReferenceUID", volume_for) or volume_for)
        if roi_for != volume_for:
            continue  # an ROI drawn on another frame of reference in a multi-frame-of-reference set
        contour_item = contours.get(number)
        items = contour_item.get("ContourSequence", []) if contour_item is not None else []
        mask, used, skipped = _rasterise_roi(items, volume.geometry)
        rois.append(RoiMask(number=number, name=str(item.get("ROIName", "") or f"ROI_{number}"),
                            colour=_colour(contour_item) if contour_item is not None else (255, 0, 0),
                            interpreted_type=types.get(number, ""), mask=mask, contours=used, skipped=skipped))
    return rois


def load_rtstruct_into(segmentation: Segmentation, path: str | Path, volume: Volume) -> list[int]:
    """Add one segment per ROI of the structure set to ``segmentation`` (source "RTSTRUCT", the ROI and the file's
    name as its detail); returns the new segment ids."""
    from .structure_files import structure_origin

    if not segmentation.geometry.same_grid(volume.geometry):
        raise LoadError(path, "cannot be added because the segmentation is not on the image's grid.")
    ids = []
    for roi in read_rtstruct(path, volume):
        source, detail = structure_origin("rtstruct", path, roi.name)
        segment = segmentation.add_segment(roi.name, roi.colour, source, roi.mask.to_dense())
        segmentation.set_properties(segment.id, source_detail=detail)
        ids.append(segment.id)
    return ids
