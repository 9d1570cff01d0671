"""Segments to and from DICOM Segmentation (SEG) objects, written with highdicom.

Writing: one binary SEG per call, one DICOM segment per MedSeg segment, referencing the loaded series' images
(read again from ``volume.source_path`` by SOPInstanceUID, in slice order). Coded terms:

- names that read as a target or lesion (GTV, CTV, ITV, PTV, tumour, tumor, mass, lesion, nodule, metastasis)
  get category SCT 49755003 "Morphologically Abnormal Structure" and type SCT 4147007 "Mass" (the pair 3D Slicer
  and DCMQI use for tumours; "Mass" belongs to that category in CID 7151);
- everything else gets category SCT 91723000 "Anatomical Structure" and type SCT 91772007 "Organ".
- algorithm type: MANUAL for ``source == "manual"`` and for structures read from a file (RTSTRUCT, SEG, label
  map: drawn elsewhere), otherwise SEMIAUTOMATIC (threshold, region growing and AI proposals are reviewed and
  edited by a person), with the algorithm named after the source.

Reading (:func:`read_seg`): frames are placed on the volume's grid by Frame of Reference and each frame's
ImagePositionPatient, so a SEG with omitted empty frames or frames in any order maps correctly; a SEG in another
Frame of Reference, plane orientation or in-plane grid is refused with one sentence.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from .dicom_files import read_dicom
from ..core.errors import LoadError, MedSegError, damaged_content_is_corrupt
from ..core.privacy import get_logger
from ..core.segmentation import Segmentation
from ..core.volume import Volume

_log = get_logger("export")
SEG_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4"
MASS_CATEGORY, MASS_TYPE = codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Mass
ORGAN_CATEGORY, ORGAN_TYPE = codes.SCT.AnatomicalStructure, codes.SCT.Organ
_LESION_WORDS = re.compile(r"(^|[^a-z])(gtv|ctv|itv|ptv)|tumou?r|mass|lesion|nodul|metasta", re.IGNORECASE)
_FAMILY = {"threshold": codes.cid7162.HistogramAnalysis, "region growing": codes.cid7162.NeighborhoodAnalysis,
           "AI model": codes.cid7162.ArtificialIntelligence}
POSITION_TOL_MM = 0.05  # a frame must lie within this of a voxel plane of the volume
ORIENTATION_TOL = 1e-3


class SegExportError(MedSegError):
    """A SEG cannot be written for these segments on this volume."""


def property_codes(name: str):
    """(category, type) codes for a segment name; see the module docstring."""
    return (MASS_CATEGORY, MASS_TYPE) if _LESION_WORDS.search(name) else (ORGAN_CATEGORY, ORGAN_TYPE)


def source_datasets(volume: Volume) -> list[pydicom.Dataset]:
    """The volume's DICOM images in slice order (k), read from ``volume.source_path`` by SOPInstanceUID."""
    uids = list(volume.identity.sop_instance_uids)
    if not uids or not volume.source_path:
        raise SegExportError("the image was not loaded from DICOM, so a SEG cannot reference it.")
    if volume.identity.frame_numbers:
        raise SegExportError("SEG export from multi-frame images is not supported yet.")
    if len(uids) != volume.geometry.size[2] or volume.warnings and any("resampled" in w for w in volume.warnings):
        raise SegExportError("the image was resampled when it was loaded, so its slices are not the DICOM files'.")
    root = Path(volume.source_path)
    wanted, found = set(uids), {}
    for path in sorted(root.rglob("*") if root.is_dir() else [root]):
        if not path.is_file():
            continue
        try:
            header = read_dicom(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
        except Exception:  # noqa: BLE001 - anything unreadable is simply not one of ours
            continue
        uid = str(header.get("SOPInstanceUID", ""))
        if uid in wanted and uid not in found:
            found[uid] = path
    missing = wanted - set(found)
    if missing:
        raise SegExportError(f"{len(missing)} of the image's DICOM files are no longer in {root}.")
    return [read_dicom(found[uid]) for uid in uids]


def _description(number: int, segment) -> hd.seg.SegmentDescription:
    category, kind = property_codes(segment.name)
    manual = segment.source in ("manual", "RTSTRUCT", "SEG", "label map")  # imported: drawn elsewhere, as before
    algorithm = None
    if not manual:
        algorithm = hd.AlgorithmIdentificationSequence(
            name=(segment.source_detail or segment.source)[:64],
            family=_FAMILY.get(segment.source, codes.cid7162.ManualProcessing), version="1")
    return hd.seg.SegmentDescription(
        segment_number=number, segment_label=segment.name[:64], segmented_property_category=category,
        segmented_property_type=kind, algorithm_type="MANUAL" if manual else "SEMIAUTOMATIC",
        algorithm_identification=algorithm, display_color=hd.color.CIELabColor.from_rgb(*segment.colour))


def write_seg(segmentation: Segmentation, volume: Volume, path, segment_ids: list[int] | None = None,
              series_description: str = "MedSeg segmentation") -> Path:
    """Write the segments (all, or ``segment_ids`` in that order) as one binary SEG at ``path``."""
    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    if not ids:
        raise SegExportError("there are no segments to write.")
    if not volume.geometry.same_grid(segmentation.geometry):
        raise SegExportError("the segments are not on the image's grid.")
    segments = [segmentation.segments[i] for i in ids]
    empty = [s.name for s in segments if s.mask.count() == 0]
    if empty:
        raise SegExportError(f"segment {empty[0]!r} is empty, and a SEG cannot hold an empty segment.")
    sources = source_datasets(volume)
    pixels = np.zeros(volume.geometry.shape + (len(segments),), dtype=np.uint8)  # (frames k, rows j, cols i, n)
    for n, segment in enumerate(segments):
        view = pixels[segment.mask.box.slices + (n,)]
        view[segment.mask.data] = 1
    with warnings.catch_warnings():  # highdicom / pydicom warn about the source's own VR slips (fixed below)
        warnings.simplefilter("ignore", UserWarning)
        seg = _build(sources, pixels, segments, series_description)
    if len(str(seg.get("StudyID", ""))) > 16:  # copied from the source; SH allows 16 (dciodvfy calls it an error)
        seg.StudyID = str(seg.StudyID)[:16]
    path = Path(path)
    seg.save_as(path)
    _log.info("DICOM SEG written: %s (%d segment(s))", path, len(segments))
    return path


def _build(sources, pixels, segments, series_description):
    return hd.seg.Segmentation(
        source_images=sources, pixel_array=pixels, segmentation_type="BINARY",
        segment_descriptions=[_description(n, s) for n, s in enumerate(segments, start=1)],
        series_instance_uid=hd.UID(), series_number=900, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="MedSeg", manufacturer_model_name="MedSeg", software_versions="1", device_serial_number="0",
        series_description=series_description[:64], omit_empty_frames=True)


def _frame_masks(seg, number_of_segments: int) -> np.ndarray:
    """Pixel data as (frames, rows, cols) booleans for binary / fractional SEG, label values for LABELMAP."""
    pixels = np.asarray(seg.pixel_array)
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    kind = str(seg.get("SegmentationType", "BINARY"))
    if kind == "FRACTIONAL":
        return pixels >= (int(seg.get("MaximumFractionalValue", 255)) / 2.0)
    if kind in ("BINARY",):
        return pixels.astype(bool)
    return pixels


def read_seg(path, volume: Volume) -> list[tuple[str, tuple[int, int, int], np.ndarray]]:
    """(name, colour RGB, mask on the volume's grid) for each segment of the SEG at ``path``."""
    with damaged_content_is_corrupt(path, "segmentation content"):
        return _read_seg(path, volume)


def _read_seg(path, volume: Volume) -> list[tuple[str, tuple[int, int, int], np.ndarray]]:
    try:
        seg = hd.seg.Segmentation.from_dataset(read_dicom(path), copy=False)
    except Exception as exc:  # noqa: BLE001 - one sentence for any unreadable file
        raise LoadError(path, f"is not a readable DICOM SEG ({str(exc).splitlines()[0][:120]}).") from None
    geometry = volume.geometry
    ours = volume.identity.frame_of_reference_uid
    if not ours or str(seg.get("FrameOfReferenceUID", "")) != ours:
        raise LoadError(path, "is in a different Frame of Reference from the image, so it cannot be placed on it.")
    if (int(seg.Rows), int(seg.Columns)) != (geometry.size[1], geometry.size[0]):
        raise LoadError(path, "has frames of a different size from the image's slices.")
    shared = seg.SharedFunctionalGroupsSequence[0]
    orientation = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, float)
    if not (np.allclose(orientation[:3], geometry.direction[:, 0], atol=ORIENTATION_TOL)
            and np.allclose(orientation[3:], geometry.direction[:, 1], atol=ORIENTATION_TOL)):
        raise LoadError(path, "has a different plane orientation from the image.")
    descriptions = {int(d.SegmentNumber): d for d in seg.SegmentSequence}
    frames = _frame_masks(seg, len(descriptions))
    labelmap = str(seg.get("SegmentationType", "")) == "LABELMAP"
    masks = {number: np.zeros(geometry.shape, bool) for number in descriptions}
    for f, group in enumerate(seg.PerFrameFunctionalGroupsSequence):
        position = np.array(group.PlanePositionSequence[0].ImagePositionPatient, float)
        index = geometry.patient_to_index(position)
        k = int(round(index[2]))
        if np.abs(index[:2]).max() * geometry.spacing[:2].max() > POSITION_TOL_MM or \
                abs(index[2] - k) * geometry.spacing[2] > POSITION_TOL_MM or not 0 <= k < geometry.size[2]:
            raise LoadError(path, f"has frame {f + 1} off the image's slice grid.")
        if labelmap:
            for number in descriptions:
                masks[number][k] |= frames[f] == number
        else:
            ident = group if "SegmentIdentificationSequence" in group else shared  # shared when one segment
            number = int(ident.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            masks[number][k] |= frames[f]
    out = []
    for number, d in sorted(descriptions.items()):
        colour = (128, 128, 128)
        if "RecommendedDisplayCIELabValue" in d:
            colour = hd.color.CIELabColor.from_dicom_value(d.RecommendedDisplayCIELabValue).to_rgb()
        out.append((str(d.SegmentLabel), tuple(int(c) for c in colour), masks[number]))
    return out


def load_seg_into(segmentation: Segmentation, path, volume: Volume) -> list[int]:
    """Add one segment per SEG segment (source "SEG", the segment and the file's name as its detail); returns the
    new segment ids (one undo step)."""
    from .structure_files import structure_origin

    ids = []
    with segmentation.gesture(f"Load {Path(path).name}"):
        for name, colour, mask in read_seg(path, volume):
            source, detail = structure_origin("seg", path, name)
            segment = segmentation.add_segment(name, colour=colour, source=source, mask=mask)
            segmentation.set_properties(segment.id, source_detail=detail)
            ids.append(segment.id)
    return ids
