"""Segment surfaces to STL, OBJ or PLY files in patient coordinates (LPS, millimetres), for 3-D printing and
planning tools.

Files: one per structure, ``<stem>_<name><ext>`` next to ``path`` (the name with anything but letters, digits,
``-`` and ``_`` replaced by ``_``), or with ``combined=True`` one file at ``path`` holding every structure.
Points are LPS millimetres exactly as the DICOM patient coordinate system (x to the patient's left, y posterior,
z superior) — not RAS as many mesh viewers assume. That is said in each file (STL header text, an OBJ comment
line, PLY comments) and in the JSON sidecar ``<stem>.json``, which lists each file, structure name, colour,
point and triangle counts and the coordinate system.

Surfaces are SurfaceNets3D meshes of the masks (``smoothing`` relaxation iterations, 0 for the voxel-faithful
surface) and are never decimated.

With ``anonymise=True`` (files meant to leave the hospital) the structure names written in the files, their
names and the sidecar lose any patient identifier (:func:`medseg_app.core.privacy.anonymised_name`; repeated
names get ``_2``, ``_3``...), the sidecar's Frame of Reference UID is replaced by a fresh one (the same for every
export of this process, so meshes and label maps exported together still agree) and says ``"anonymised": true``.
No other patient, study or source-file information is written either way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from vtkmodules.vtkFiltersCore import vtkAppendPolyData
from vtkmodules.vtkIOGeometry import vtkOBJWriter, vtkSTLWriter
from vtkmodules.vtkIOPLY import vtkPLYWriter

from ..core.errors import MedSegError
from ..core.privacy import anonymised_name, get_logger, replacement_uid
from ..core.segmentation import Segmentation
from ..core.volume import Volume
from .segment_surfaces import SMOOTHING_ITERATIONS, polydata, surface_arrays

FORMATS = {".stl": "stl", ".obj": "obj", ".ply": "ply"}
COORDINATES = "LPS"
COORDINATE_NOTE = "MedSeg mesh; coordinates: DICOM patient LPS (x left, y posterior, z superior), mm"


_log = get_logger("export")


class MeshExportError(MedSegError):
    """A mesh cannot be written."""


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "segment"


def structure_names(names: list[str], anonymise: bool = False) -> list[str]:
    """The names written for ``names``: as they are, or anonymised (and made unique again)."""
    if not anonymise:
        return list(names)
    out: list[str] = []
    for n, name in enumerate(names, start=1):
        clean = anonymised_name(name, f"Structure_{n}")
        unique, k = clean, 2
        while unique in out:
            unique, k = f"{clean}_{k}", k + 1
        out.append(unique)
    return out


def export_targets(path: Path, fmt: str, names: list[str], anonymise: bool = False) -> list[Path]:
    """Every file an export of structures ``names`` to ``path`` in ``fmt`` writes (for the overwrite check)."""
    path = Path(path)
    if fmt in ("stl", "obj", "ply"):
        return [path.with_name(path.stem + ".json")] + [path.with_name(f"{path.stem}_{safe_name(n)}{path.suffix}")
                                                        for n in structure_names(names, anonymise)]
    if fmt in ("nifti", "nrrd"):
        from ..io.label_map import sidecar_path

        return [path, sidecar_path(path)]
    return [path]


def _write_one(mesh, path: Path, fmt: str, name: str) -> None:
    if fmt == "stl":
        writer = vtkSTLWriter()
        writer.SetFileTypeToBinary()
        writer.SetHeader(f"{COORDINATE_NOTE}; {name}"[:79])
    elif fmt == "ply":
        writer = vtkPLYWriter()
        writer.SetFileTypeToBinary()
        writer.AddComment(COORDINATE_NOTE)
        writer.AddComment(f"structure: {name}")
    else:
        writer = vtkOBJWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(mesh)
    if not writer.Write():
        raise MeshExportError(f"{path}: the mesh could not be written.")
    if fmt == "obj":  # vtkOBJWriter has no comment API: put ours first
        text = path.read_text()
        path.write_text(f"# {COORDINATE_NOTE}\n# structure: {name}\n{text}")


def write_mesh(segmentation: Segmentation, volume: Volume, path, segment_ids: list[int] | None = None,
               fmt: str | None = None, combined: bool = False, smoothing: int = SMOOTHING_ITERATIONS,
               anonymise: bool = False) -> list[Path]:
    """Write the segments' surfaces; returns the files written (the sidecar not included)."""
    path = Path(path)
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in FORMATS.values():
        raise MeshExportError(f"{path}: mesh files must end in .stl, .obj or .ply.")
    ids = list(segmentation.segments) if segment_ids is None else list(segment_ids)
    if not ids:
        raise MeshExportError("there are no segments to write.")
    geometry = volume.geometry
    names = structure_names([segmentation.segments[i].name for i in ids], anonymise)
    meshes = []
    for segment_id, name in zip(ids, names):
        segment = segmentation.segments[segment_id]
        points, triangles = surface_arrays(segment.mask, geometry, smoothing=smoothing, decimate_above=None)
        if len(triangles) == 0:
            raise MeshExportError(f"segment {name!r} is empty, so it has no surface to write.")
        meshes.append((segment, name, polydata(points, triangles), len(points), len(triangles)))
    entries, written = [], []
    if combined:
        append = vtkAppendPolyData()
        for _, _, mesh, _, _ in meshes:
            append.AddInputData(mesh)
        append.Update()
        _write_one(append.GetOutput(), path, fmt, ", ".join(name for _, name, *_ in meshes))
        written.append(path)
    for segment, name, mesh, n_points, n_triangles in meshes:
        target = path if combined else path.with_name(f"{path.stem}_{safe_name(name)}{path.suffix}")
        if not combined:
            _write_one(mesh, target, fmt, name)
            written.append(target)
        entries.append({"file": target.name, "name": name, "colour": list(segment.colour),
                        "points": n_points, "triangles": n_triangles})
    frame_of_reference = volume.identity.frame_of_reference_uid
    sidecar = {"coordinate_system": COORDINATES, "units": "mm", "note": COORDINATE_NOTE, "format": fmt,
               "frame_of_reference_uid": replacement_uid(frame_of_reference) if anonymise else frame_of_reference,
               "smoothing_iterations": smoothing, "structures": entries}
    if anonymise:
        sidecar["anonymised"] = True
    sidecar_file = path.with_name(path.stem + ".json")
    sidecar_file.write_text(json.dumps(sidecar, indent=2))
    _log.info("meshes written: %s and %s (%d structure(s), %s%s)", ", ".join(str(p) for p in written),
              sidecar_file.name, len(ids), fmt.upper(), ", anonymised" if anonymise else "")
    return written
