"""Segments to and from a label map file (NIfTI .nii / .nii.gz, NRRD, MetaImage) with a JSON sidecar.

The sidecar ``<file>.json`` (next to the image, ``.nii.gz`` replaced by ``.json``) lists each label's value,
name, colour and source. A label map holds one label per voxel, so where segments overlap the later segment
wins; :func:`save_label_map` says how many voxels that hid, so nothing is lost silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..core.errors import LoadError
from ..core.privacy import anonymised_name, get_logger
from ..core.segmentation import Segmentation
from ..core.sitk_bridge import apply_geometry
from .image_files import read_image_file

_log = get_logger("export")
SIDECAR_VERSION = 1


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    name = path.name
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"):
        if name.lower().endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    return path.with_name(name + ".json")


def save_label_map(segmentation: Segmentation, path: str | Path, segment_ids: list[int] | None = None,
                   anonymise: bool = False) -> dict:
    """Write the segments as labels 1..n; returns the sidecar contents (with ``overlap_voxels``).

    The image file holds voxels and geometry only (no description, no patient or study fields). With
    ``anonymise`` (a file meant to leave the hospital) the sidecar's label names lose any patient identifier they
    hold (``DOE^JOHN GTV`` → ``GTV``, ``Structure_<n>`` when nothing is left) and say ``"anonymised": true``.
    """
    path = Path(path)
    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    labels = segmentation.label_map(ids)
    total = sum(segmentation.segments[i].mask.count() for i in ids)
    written = int(np.count_nonzero(labels))
    dtype = np.uint8 if len(ids) < 256 else np.uint16
    image = apply_geometry(sitk.GetImageFromArray(labels.astype(dtype, copy=False)), segmentation.geometry)
    sitk.WriteImage(image, str(path), useCompression=True)
    sidecar = {
        "version": SIDECAR_VERSION,
        "coordinate_system": "LPS",
        "labels": [
            {"value": value, "name": anonymised_name(s.name, f"Structure_{value}") if anonymise else s.name,
             "colour": list(s.colour), "source": anonymised_name(s.source, "") if anonymise else s.source}
            for value, s in enumerate((segmentation.segments[i] for i in ids), start=1)
        ],
        # Voxels in more than one segment keep only the last; this says how many were hidden that way.
        "overlap_voxels": int(total - written),
    }
    if anonymise:
        sidecar["anonymised"] = True
    sidecar_path(path).write_text(json.dumps(sidecar, indent=2))
    _log.info("label map written: %s and %s (%d label(s)%s)", path, sidecar_path(path).name,
                              len(ids), ", anonymised" if anonymise else "")
    return sidecar


def load_label_map(path: str | Path, segmentation: Segmentation, names: dict | None = None) -> list[int]:
    """Add one segment per label value found in ``path`` (on the segmentation's grid); returns their ids. Each
    keeps the source its sidecar names (what MedSeg saved), else says it was read from this label map."""
    from .structure_files import structure_origin

    volume = read_image_file(path)
    if not volume.geometry.same_grid(segmentation.geometry, tol_mm=1e-2):
        raise LoadError(path, "is not on the image's grid (size, spacing, origin or direction differ).")
    side = sidecar_path(path)
    table = {}
    if side.is_file():
        try:
            table = {int(entry["value"]): entry for entry in json.loads(side.read_text()).get("labels", [])}
        except (ValueError, KeyError, TypeError):
            raise LoadError(side, "is not a valid MedSeg label table.") from None
    table.update(names or {})
    values = np.unique(volume.array)
    ids = []
    with segmentation.gesture(f"Load {Path(path).name}"):
        for value in values[values != 0]:
            entry = table.get(int(value), {})
            name = entry.get("name", f"Label_{int(value)}") if isinstance(entry, dict) else str(entry)
            colour = entry.get("colour") if isinstance(entry, dict) else None
            segment = segmentation.add_segment(name, colour=colour, mask=volume.array == value)
            if isinstance(entry, dict) and entry.get("source"):  # where it came from before it was saved
                segment.source = entry["source"]
            else:
                segment.source, segment.source_detail = structure_origin("labelmap", path, name)
            ids.append(segment.id)
    return ids
