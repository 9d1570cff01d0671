"""Write segments as a DICOM RT Structure Set that references the loaded image series.

Contours are traced on the voxel boundary (pixel edges: vertices at half-integer index positions, never through
voxel centres), one closed polygon per boundary loop, holes as separate contours, so that an even-odd
rasteriser at voxel centres (ours, a planning system's) gives back exactly the voxels of the mask. At a pinch
(two voxels touching only at a corner) the tracer turns towards the inside, so 4-connected pieces become
separate polygons and no polygon touches itself. Collinear vertices are merged.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from .dicom_writing import copy_patient_and_study, item, save_with_file_meta, source_header
from ..core.errors import MedSegError
from ..core.privacy import get_logger
from ..core.segmentation import Segmentation
from ..core.volume import Volume
from .rtstruct_import import RTSTRUCT_SOP_CLASS

_log = get_logger("export")
STUDY_COMPONENT_SOP_CLASS = "1.2.840.10008.3.1.2.3.1"  # what RT Referenced Study Sequence names, by convention
_TYPES = (("GTV", "GTV"), ("CTV", "CTV"), ("ITV", "CTV"), ("PTV", "PTV"), ("EXTERNAL", "EXTERNAL"),
          ("BODY", "EXTERNAL"), ("SKIN", "EXTERNAL"), ("OUTLINE", "EXTERNAL"), ("COUCH", "SUPPORT"),
          ("TABLE", "SUPPORT"), ("MARKER", "MARKER"), ("FIDUCIAL", "MARKER"), ("AVOID", "AVOIDANCE"),
          ("CAVITY", "CAVITY"))
_ALGORITHM = {"manual": "MANUAL", "threshold": "SEMIAUTOMATIC", "region growing": "SEMIAUTOMATIC",
              "AI model": "AUTOMATIC",
              # imported structures were drawn elsewhere; as before they are passed on as manual contours
              "RTSTRUCT": "MANUAL", "SEG": "MANUAL", "label map": "MANUAL"}


class RtStructExportError(MedSegError):
    """The structure set cannot be written (one sentence, fit to show a user)."""


def interpreted_type(name: str) -> str:
    """RT ROI Interpreted Type for a structure name: GTV / CTV / PTV / EXTERNAL / ... by word, else ORGAN."""
    words = re.split(r"[^A-Z]+", name.upper())
    for key, kind in _TYPES:
        if any(w.startswith(key) for w in words if w):
            return kind
    return "ORGAN"


# --- boundary tracing ---------------------------------------------------------------------------------------
def trace_boundaries(plane: np.ndarray) -> list[np.ndarray]:
    """Closed loops along the pixel edges of a 2-D mask ``plane[j, i]``, as (n, 2) arrays of corner (x, y).

    Corner (x, y) is the pixel corner at index position (x - 0.5, y - 0.5). Every loop keeps the inside on the
    same side (outer boundaries and holes run opposite ways); collinear vertices are dropped.
    """
    padded = np.pad(plane.astype(bool), 1)
    inside = padded[1:-1, 1:-1]
    jj, ii = np.nonzero(inside & ~padded[:-2, 1:-1])  # top edges, going +x
    starts = [np.stack([ii, jj], 1)]
    dirs = [np.tile([1, 0], (len(ii), 1))]
    jj, ii = np.nonzero(inside & ~padded[2:, 1:-1])  # bottom edges, going -x
    starts.append(np.stack([ii + 1, jj + 1], 1))
    dirs.append(np.tile([-1, 0], (len(ii), 1)))
    jj, ii = np.nonzero(inside & ~padded[1:-1, :-2])  # left edges, going -y
    starts.append(np.stack([ii, jj + 1], 1))
    dirs.append(np.tile([0, -1], (len(ii), 1)))
    jj, ii = np.nonzero(inside & ~padded[1:-1, 2:])  # right edges, going +y
    starts.append(np.stack([ii + 1, jj], 1))
    dirs.append(np.tile([0, 1], (len(ii), 1)))
    start, direction = np.concatenate(starts).tolist(), np.concatenate(dirs).tolist()
    outgoing: dict[tuple[int, int], list[int]] = {}
    for e, (x, y) in enumerate(start):
        outgoing.setdefault((x, y), []).append(e)
    used = [False] * len(start)
    loops = []
    for first in range(len(start)):
        if used[first]:
            continue
        vertices, turns, e = [], [], first
        while True:
            used[e] = True
            (x, y), (dx, dy) = start[e], direction[e]
            vertices.append((x, y))
            turns.append((dx, dy))
            options = outgoing[(x + dx, y + dy)]
            if len(options) == 1:
                e = options[0]
            else:  # a pinch: turn towards the inside, which lies at (-dy, dx) of the way we go
                e = next(o for o in options if direction[o] == [-dy, dx])
            if e == first:
                break
        keep = [n for n in range(len(vertices)) if turns[n] != turns[n - 1]]
        loops.append(np.asarray([vertices[n] for n in keep], dtype=float))
    return loops


def format_ds(value: float) -> str:
    """A coordinate as a DICOM DS string (at most 16 characters; 0.1 µm resolution)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- the dataset ---------------------------------------------------------------------------------------------
def _check_volume(volume: Volume) -> None:
    ident = volume.identity
    if not ident.sop_instance_uids or not volume.source_path:
        raise RtStructExportError("the image was not loaded from DICOM, so an RT Structure Set cannot reference it.")
    if ident.frame_numbers or len(ident.sop_instance_uids) != volume.geometry.size[2]:
        raise RtStructExportError("RT Structure Set export needs a single-frame image series (one file per slice); "
                                  "this image is a multi-frame object.")
    if not ident.frame_of_reference_uid:
        raise RtStructExportError("the image has no Frame of Reference UID, so contours cannot be placed on it.")


def _contours(mask: np.ndarray, volume: Volume) -> list[Dataset]:
    ident = volume.identity
    items = []
    for k in np.nonzero(mask.reshape(mask.shape[0], -1).any(axis=1))[0]:
        for loop in trace_boundaries(mask[k]):
            index = np.column_stack([loop - 0.5, np.full(len(loop), float(k))])
            points = volume.geometry.index_to_patient(index).reshape(-1)
            image = item(ReferencedSOPClassUID=ident.sop_class_uid, ReferencedSOPInstanceUID=ident.sop_instance_uids[k])
            items.append(item(ContourImageSequence=Sequence([image]), ContourGeometricType="CLOSED_PLANAR",
                               NumberOfContourPoints=len(loop), ContourNumber=len(items) + 1,
                               ContourData=[format_ds(v) for v in points]))
    return items


def write_rtstruct(segmentation: Segmentation, volume: Volume, path: str | Path, segment_ids=None,
                   series_description: str = "MedSeg structures") -> Dataset:
    """Write the segments (all, or ``segment_ids`` in that order) to ``path``; returns the dataset written.

    Empty segments are left out. Raises RtStructExportError when the volume is not a single-frame DICOM series.
    """
    _check_volume(volume)
    if not segmentation.geometry.same_grid(volume.geometry):
        raise RtStructExportError("the segmentation is not on the image's grid.")
    ident = volume.identity
    source = source_header(volume, RtStructExportError, "the structure set")
    now = datetime.datetime.now()
    ds = Dataset()
    copy_patient_and_study(ds, source, ident.study_instance_uid)
    ds.FrameOfReferenceUID = ident.frame_of_reference_uid
    ds.PositionReferenceIndicator = source.get("PositionReferenceIndicator", "")
    if not ds.StudyDescription:
        del ds.StudyDescription
    ds.SOPClassUID, ds.SOPInstanceUID = RTSTRUCT_SOP_CLASS, generate_uid()
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber = "RTSTRUCT", generate_uid(), 9001
    ds.SeriesDescription, ds.OperatorsName = series_description[:64], ""
    ds.SeriesDate = ds.StructureSetDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.StructureSetTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.Manufacturer, ds.ManufacturerModelName, ds.SoftwareVersions = "MedSeg", "MedSeg", "1"
    ds.InstanceNumber, ds.StructureSetLabel = 1, (series_description or "MedSeg")[:16]
    ds.StructureSetName = series_description[:64]
    contour_images = [item(ReferencedSOPClassUID=ident.sop_class_uid, ReferencedSOPInstanceUID=uid)
                      for uid in ident.sop_instance_uids]
    series = item(SeriesInstanceUID=ident.series_instance_uid, ContourImageSequence=Sequence(contour_images))
    study = item(ReferencedSOPClassUID=STUDY_COMPONENT_SOP_CLASS, ReferencedSOPInstanceUID=ident.study_instance_uid,
                  RTReferencedSeriesSequence=Sequence([series]))
    ds.ReferencedFrameOfReferenceSequence = Sequence([item(FrameOfReferenceUID=ident.frame_of_reference_uid,
                                                            RTReferencedStudySequence=Sequence([study]))])
    rois, contours, observations = [], [], []
    for segment_id in (list(segmentation.segments) if segment_ids is None else list(segment_ids)):
        segment = segmentation.segments[segment_id]
        if segment.mask.empty:
            continue
        number = len(rois) + 1
        rois.append(item(ROINumber=number, ReferencedFrameOfReferenceUID=ident.frame_of_reference_uid,
                          ROIName=segment.name[:64], ROIGenerationAlgorithm=_ALGORITHM.get(segment.source, "")))
        contours.append(item(ROIDisplayColor=[int(c) for c in segment.colour], ReferencedROINumber=number,
                              ContourSequence=Sequence(_contours(segment.mask.to_dense(), volume))))
        observations.append(item(ObservationNumber=number, ReferencedROINumber=number,
                                  RTROIInterpretedType=interpreted_type(segment.name), ROIInterpreter=""))
    if not rois:
        raise RtStructExportError("there is nothing to export: every chosen segment is empty.")
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    ds.RTROIObservationsSequence = Sequence(observations)
    path = save_with_file_meta(ds, path)
    _log.info("DICOM RTSTRUCT written: %s (%d structure(s))", path, len(ds.StructureSetROISequence))
    return ds
