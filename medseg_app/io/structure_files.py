"""Structures in files, shared by ``medseg convert`` and the window's Import / Export segmentation.

:func:`input_kind` tells an RTSTRUCT, a SEG and a label map apart by contents (SOP Class / Modality), not name;
:func:`read_structures` returns every structure of such a file on a volume's grid as (name, colour, mask);
:func:`reread_dicom` reads a written RTSTRUCT or SEG back and rasterises it ({name: mask}), and
:func:`verify_written` compares that with what was written (core/export_verification.py rows).
"""

from __future__ import annotations

import json
from pathlib import Path

from .dicom_files import read_dicom
from ..core.errors import LoadError

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
LABEL_MAP_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


def input_kind(path: Path) -> str:
    """'rtstruct', 'seg' or 'labelmap', from the file's contents (DICOM header) or, failing that, its extension."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(path, "does not exist or is not a file.")

    try:
        header = read_dicom(path, stop_before_pixels=True, specific_tags=["SOPClassUID", "Modality"])
    except Exception:  # noqa: BLE001 - not DICOM: maybe an image file
        header = None
    if header is not None and ("SOPClassUID" in header or "Modality" in header):
        sop, modality = str(header.get("SOPClassUID", "")), str(header.get("Modality", ""))
        if sop == RTSTRUCT_SOP_CLASS or modality == "RTSTRUCT":
            return "rtstruct"
        if sop == SEG_SOP_CLASS or modality == "SEG":
            return "seg"
        raise LoadError(path, f"is a DICOM {modality or sop} object, not an RTSTRUCT, SEG or label map.")
    if any(path.name.lower().endswith(s) for s in LABEL_MAP_SUFFIXES):
        return "labelmap"
    raise LoadError(path, "is not a label map, RTSTRUCT or SEG that MedSeg can read.")


SOURCE_OF_KIND = {"rtstruct": "RTSTRUCT", "seg": "SEG", "labelmap": "label map"}


def structure_origin(kind: str, path, name: str) -> tuple[str, str]:
    """(source, source detail) of a structure read from ``path`` (kind as :func:`input_kind` says): e.g.
    ("RTSTRUCT", "RTSTRUCT ROI 'GTV_Mass' from RS.dcm"). Only the file's name, never its folder."""
    what = {"rtstruct": "RTSTRUCT ROI", "seg": "SEG segment", "labelmap": "label map structure"}[kind]
    return SOURCE_OF_KIND[kind], f"{what} {name!r} from {Path(path).name}"


def structure_origins(path, structures) -> list[tuple[str, str]]:
    """:func:`structure_origin` of each (name, colour, mask) that :func:`read_structures` read from ``path``."""
    kind = input_kind(Path(path))
    return [structure_origin(kind, path, name) for name, _colour, _mask in structures]


def read_structures(path: Path, volume, drop_empty: bool = False,
                    method: str = "distance") -> list[tuple[str, tuple | None, object]]:
    """(name, colour, mask) of every structure in the file on the volume's grid; an empty one is refused
    (left out with ``drop_empty``). A label map on another grid is carried over by ``method`` (io/label_resampling)."""
    path = Path(path)
    kind = input_kind(path)
    if kind == "labelmap":
        from .label_map import sidecar_path
        from .label_resampling import label_masks_on_grid, label_names

        found = label_masks_on_grid(path, volume.geometry, method)
        present = {value for value, _, _ in found}
        for value, name in label_names(path).items():
            if value not in present:
                raise LoadError(path, f"has no voxels of structure {name!r} (label {value}) on the image.")
        colours = {}
        if sidecar_path(path).is_file():
            colours = {int(e["value"]): tuple(e["colour"]) for e in json.loads(sidecar_path(path).read_text())
                       .get("labels", []) if "colour" in e}
        structures = [(name, colours.get(value), mask) for value, name, mask in found]
    elif kind == "seg":
        from .seg_io import read_seg

        structures = read_seg(path, volume)
    else:
        from .rtstruct_import import read_rtstruct

        structures = [(roi.name, roi.colour, roi.mask) for roi in read_rtstruct(path, volume)]
    if drop_empty:
        structures = [s for s in structures if not _empty(s[2])]
    if not structures:
        raise LoadError(path, "holds no structures.")
    for name, _, mask in structures:
        if not mask.any() if hasattr(mask, "any") else mask.count() == 0:
            raise LoadError(path, f"has an empty structure {name!r}.")
    return structures


def _empty(mask) -> bool:
    return not mask.any() if hasattr(mask, "any") else mask.count() == 0


def frame_of_reference_uids(header) -> set[str]:
    """Every Frame of Reference UID a DICOM object's header names (its own and an RTSTRUCT's referenced ones)."""
    uids = {str(header.get("FrameOfReferenceUID", "") or "")}
    for item in header.get("ReferencedFrameOfReferenceSequence", []):
        uids.add(str(item.get("FrameOfReferenceUID", "") or ""))
    for item in header.get("StructureSetROISequence", []):
        uids.add(str(item.get("ReferencedFrameOfReferenceUID", "") or ""))
    return uids - {""}


def dense(mask):
    """A structure's mask as a dense numpy array (SparseMask or ndarray)."""
    return mask if hasattr(mask, "any") else mask.to_dense()


def reread_dicom(path: Path, fmt: str, volume) -> dict:
    """{name: mask} of a written RTSTRUCT (``fmt`` 'rtstruct') or SEG ('seg'), rasterised on the volume's grid."""
    if fmt == "seg":
        from .seg_io import read_seg

        return {name: mask for name, _, mask in read_seg(path, volume)}
    from .rtstruct_import import read_rtstruct

    return {roi.name: roi.mask for roi in read_rtstruct(path, volume)}


def verify_written(path: Path, fmt: str, segmentation, volume, segment_ids=None) -> list[dict]:
    """Verification rows (core/export_verification.py) of the written file against the segments written."""
    from ..core.export_verification import verify

    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    original = {segmentation.segments[i].name: segmentation.segments[i].mask for i in ids}
    return verify(original, reread_dicom(path, fmt, volume), volume.geometry)
