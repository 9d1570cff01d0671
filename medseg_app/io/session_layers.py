"""The image layers of a study in a session file: each overlay's image by reference (or as a copy), its display
settings and its transform to the reference, so that reopening the session restores the fused study exactly.

The manifest's ``layers`` lists the overlays in drawing order (bottom → top; the reference is the manifest's
``image``), each ``{name, path, series_uid, frame_of_reference_uid, size, spacing, origin, direction, modality,
units, window, level, colour_map, opacity, visible, fusion_mode, transform [16, row-major reference → layer],
registered, registration_note, copy (optional)}``. With a copy of the images, each layer's voxels are
``layers/<n>.nrrd`` (the format of ``image/image.nrrd``, see :mod:`.session_image_copy`) and ``copy`` is that
entry's ``{file, dtype, identity, warnings}``. A session without ``layers`` (written before layers existed) holds
the reference alone.
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..core.errors import LoadCancelled, LoadError
from ..core.geometry import ImageGeometry
from ..core.layer_transform import LayerTransform
from ..core.privacy import register_identity
from ..core.study import Study
from ..core.volume import SourceIdentity, Volume
from ..core.window_level import WindowLevel
from .load import load_volume
from .session_image_copy import ImageCopy, SessionError, _read_nrrd, image_copy_entry


def layer_copy_file(position: int) -> str:
    return f"layers/{position}.nrrd"


def layer_entries(study: Study | None, include_copies: bool = False) -> list[dict]:
    """The manifest's ``layers`` for ``study``'s overlays (GUI thread: reads settings, copies no voxels)."""
    entries = []
    for position, layer in enumerate(study.overlays if study is not None else [], start=1):
        volume, g = layer.volume, layer.volume.geometry
        entry = {"name": layer.name, "path": str(volume.source_path),
                 "series_uid": volume.identity.series_instance_uid,
                 "frame_of_reference_uid": volume.identity.frame_of_reference_uid, "size": list(g.size),
                 "spacing": [float(v) for v in g.spacing], "origin": [float(v) for v in g.origin],
                 "direction": g.direction_row_major(), "modality": volume.modality, "units": volume.units,
                 "window": float(layer.window.window), "level": float(layer.window.level),
                 "colour_map": layer.colour_map, "opacity": float(layer.opacity), "visible": bool(layer.visible),
                 "fusion_mode": layer.fusion_mode, "transform": layer.transform.to_list(),
                 "registered": bool(layer.registered), "registration_note": layer.registration_note}
        if include_copies:
            entry["copy"] = {**image_copy_entry(volume), "file": layer_copy_file(position)}
        entries.append(entry)
    return entries


def layer_copy_payloads(study: Study | None, entries: list[dict]) -> dict[str, ImageCopy]:
    """The streamed copies that ``entries`` (from :func:`layer_entries` with copies) name."""
    overlays = study.overlays if study is not None else []
    return {entry["copy"]["file"]: ImageCopy(layer.volume)
            for layer, entry in zip(overlays, entries) if entry.get("copy")}


def recorded_layer_geometry(entry: dict) -> ImageGeometry:
    return ImageGeometry(size=entry["size"], spacing=entry["spacing"], origin=entry["origin"],
                         direction=np.asarray(entry["direction"], float).reshape(3, 3))


def _copied_layer(session_path: Path, entry: dict, progress, cancelled) -> Volume:
    copy = entry["copy"]
    geometry = recorded_layer_geometry(entry)
    try:
        with zipfile.ZipFile(session_path) as archive, archive.open(copy["file"]) as stream:
            array, header_geometry = _read_nrrd(stream, geometry.shape, np.dtype(copy["dtype"]), progress, cancelled)
    except LoadCancelled:
        raise
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise SessionError(f"The copy of the layer {entry.get('name', '')!r} in {session_path} could not be read "
                           f"({type(exc).__name__}: {exc}).") from exc
    if not header_geometry.same_grid(geometry, tol_mm=1e-3):
        raise SessionError(f"The copy of the layer {entry.get('name', '')!r} in {session_path} does not lie on "
                           f"the recorded grid.")
    fields = {f.name for f in dataclasses.fields(SourceIdentity)}
    identity = SourceIdentity(**{key: tuple(value) if isinstance(value, list) else value
                                 for key, value in copy.get("identity", {}).items() if key in fields})
    register_identity(identity)
    return Volume(array, geometry, modality=entry.get("modality", ""), units=entry.get("units", ""),
                  identity=identity, source_path=str(entry.get("path", "")), warnings=list(copy.get("warnings", [])))


def load_layer_volume(session_path: str | Path, entry: dict, progress=None, cancelled=None) -> Volume:
    """The layer's image: its copy in the session file when it has one, else ``path`` (the series ``series_uid``
    of a folder), which must still have the recorded grid (else :class:`SessionError`, one sentence)."""
    if entry.get("copy"):
        return _copied_layer(Path(session_path), entry, progress, cancelled)
    if not entry.get("path"):
        raise SessionError(f"The layer {entry.get('name', '')!r} was computed in MedSeg and has no file; save the "
                           f"session with a copy of the images to keep such layers.")
    path = Path(entry["path"])
    if not path.exists():
        raise SessionError(f"The layer {entry.get('name', '')!r} was opened from {path}, which is no longer there.")
    series = (entry.get("series_uid") or None) if path.is_dir() else None
    try:
        volume = load_volume(path, series=series, progress=progress, cancelled=cancelled)
    except LoadCancelled:
        raise
    except LoadError as exc:
        raise SessionError(f"The layer {entry.get('name', '')!r} could not be opened: {exc}") from exc
    if not recorded_layer_geometry(entry).same_grid(volume.geometry, tol_mm=1e-3):
        raise SessionError(f"The layer {entry.get('name', '')!r} was drawn from {path} (size {entry['size']}), "
                           f"whose geometry differs now.")
    return volume


def restore_layer(study: Study, volume: Volume, entry: dict):
    """Add ``volume`` to ``study`` with the entry's name, transform, display and registration state; returns the
    layer. The user accepted its patient when it was first added, so another PatientID is allowed here."""
    transform = LayerTransform.from_list(entry["transform"]) if entry.get("transform") else None
    layer = study.add_layer(volume, entry.get("name") or None, transform=transform, allow_other_patient=True,
                            opacity=float(entry.get("opacity", 0.5)))
    layer.registered = bool(entry.get("registered", layer.registered))
    layer.registration_note = str(entry.get("registration_note", layer.registration_note))
    window = WindowLevel(float(entry["window"]), float(entry["level"])) if "window" in entry else None
    study.set_display(layer.id, window=window, colour_map=entry.get("colour_map"),
                      visible=bool(entry.get("visible", True)), fusion_mode=entry.get("fusion_mode"))
    return layer
