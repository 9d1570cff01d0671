"""MedSeg session files (``.medseg``): the segments, their provenance and the view, with the image by reference
and, when the user asks for it, a copy of the image itself.

A session file is a zip archive (entries stored, not deflated) holding

- ``manifest.json``: ``{"format": "medseg-session", "format_version": 1 or 2,
  "image": {path, series_uid, frame_of_reference_uid, size [i,j,k], spacing [3], origin [3], direction [9],
  modality, units, copy_in (optional), copy (version 2 only)},
  "segments": [{id, name, colour, visible, opacity, locked, source, source_detail, box, file,
  proposal_box, proposal_file}], "active_id", "view": {crosshair [i,j,k], window, level, colour_map,
  measurements (optional: rulers and ellipse ROIs in LPS mm, :meth:`core.measurements.Measurements.to_json`)},
  "layers": [...]}`` (the study's image layers over the reference, their display and transforms: see
  :mod:`.session_layers`; absent in sessions written before layers, which hold the reference alone);
- one payload per mask (``masks/<id>.bin``, ``masks/<id>.proposal.bin``): the mask's bounding box contents
  (numpy order k, j, i; ``box`` = ``[[k0, j0, i0], [k1, j1, i1]]``, half-open) as ``np.packbits`` of the C-order
  bool array, then zlib;
- with a copy of the image (format version 2): ``image/image.nrrd``, the voxels exactly as loaded (same dtype,
  values after rescaling: HU, SUV ...) in an NRRD file (gzip encoding, ``space: left-posterior-superior``,
  ``space directions`` = spacing × the direction's columns, ``space origin``), which any NRRD reader (3D Slicer,
  SimpleITK, pynrrd) opens where the image lies in the patient; and ``image.copy`` in the manifest:
  ``{file, dtype, identity: {patient_id, patient_name, study_instance_uid, series_instance_uid,
  frame_of_reference_uid, series_description, sop_class_uid, sop_instance_uids [...], frame_numbers [...]},
  warnings [...]}`` (what is needed to rebuild the Volume and, later, to export RTSTRUCT / SEG that reference
  the original series). The geometry of the copy is the manifest's (JSON keeps every double exactly), checked
  against the NRRD header when it is read.

Format version 2 is written only for sessions that hold a copy; a reference-only session is still version 1 (the
keys ``modality``, ``units`` and ``copy_in`` are additions a version-1 reader ignores), and version-1 files open as
before. A session with a copy opens its copy, wherever it is, unless that image is open already (the original files
need not exist, and a study opened from its copy is exactly the image the segments were drawn on); a reference-only
session opens ``image.path``, or, when that is gone and ``copy_in`` names a session file holding a copy of the same
image (the study was opened from that copy: recovery files and sessions saved since say so), that copy. Without a
copy, loading checks that the open image has the recorded geometry (and series UID, when both have one) and
otherwise raises :class:`SessionError` with one sentence. Writes are atomic (a temporary file in the same folder,
flushed and fsynced, then ``os.replace`` and an fsync of the folder): an interrupted save leaves the previous file
as it was.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.box import Box
from ..core.errors import LoadCancelled
from ..core.geometry import ImageGeometry
from ..core.privacy import register_identity
from ..core.segmentation import EditOptions
from ..core.sparse_mask import SparseMask
from ..core.volume import SourceIdentity, Volume
from .session_image_copy import (  # noqa: F401 - IMAGE_COPY_FILE and SessionError are part of this module's API
    IMAGE_COPY_FILE, ImageCopy, SessionError, _read_nrrd, image_copy_entry)
from .session_layers import layer_copy_payloads, layer_entries

FORMAT = "medseg-session"
FORMAT_VERSION = 2  # the newest this module reads and writes
REFERENCE_FORMAT_VERSION = 1  # what a session without a copy of the image is written as
SUFFIX = ".medseg"


# --- mask payloads -------------------------------------------------------------------------------
def encode_mask(box: Box, data: np.ndarray) -> bytes:
    """A mask's box contents as zlib-compressed packed bits."""
    return zlib.compress(np.packbits(np.ascontiguousarray(data, dtype=bool).ravel()).tobytes(), 1)


def decode_mask(shape, box: Box, payload: bytes) -> SparseMask:
    mask = SparseMask(shape)
    if not box.empty:
        bits = np.unpackbits(np.frombuffer(zlib.decompress(payload), np.uint8), count=box.size)
        mask.box, mask.data = box, bits.astype(bool).reshape(box.shape)
    return mask


def _box_json(box: Box) -> list[list[int]]:
    return [list(map(int, box.start)), list(map(int, box.stop))]


# --- what a session holds ------------------------------------------------------------------------
@dataclass
class SegmentSnapshot:
    """One segment as the GUI thread copies it: properties plus copies of its (small) box arrays."""

    id: int
    properties: dict
    box: Box
    data: np.ndarray | None  # None: unchanged since the payload the writer already holds
    proposal_box: Box | None = None
    proposal_data: np.ndarray | None = None


@dataclass
class SessionData:
    image: dict
    segments: list[dict] = field(default_factory=list)  # manifest entries + "mask", "proposal" (SparseMask|None)
    view: dict = field(default_factory=dict)
    active_id: int | None = None
    path: str = ""  # the session file it was read from
    layers: list[dict] | None = None  # the overlays (io.session_layers); None: a session from before layers

    @property
    def has_image_copy(self) -> bool:
        return bool(self.image.get("copy"))


def image_reference(volume, path: str = "", copy_in: str = "") -> dict:
    """The manifest's ``image``: where the image is and its grid; ``copy_in``: a session file with a copy of it."""
    g = volume.geometry
    reference = {"path": str(path or volume.source_path), "series_uid": volume.identity.series_instance_uid,
                 "frame_of_reference_uid": volume.identity.frame_of_reference_uid, "size": list(g.size),
                 "spacing": [float(v) for v in g.spacing], "origin": [float(v) for v in g.origin],
                 "direction": g.direction_row_major(), "modality": volume.modality, "units": volume.units}
    if copy_in:
        reference["copy_in"] = str(copy_in)
    return reference


def view_state(state) -> dict:
    view = {"crosshair": [int(v) for v in state.crosshair], "window": float(state.window.window),
            "level": float(state.window.level), "colour_map": state.colour_map}
    measurements = getattr(state, "measurements", None)
    if measurements is not None and measurements.items:  # rulers, ellipse ROIs: core.measurements.to_json
        view["measurements"] = measurements.to_json()
    return view


def snapshot_segments(segmentation, changed: set[int] | None = None) -> list[SegmentSnapshot]:
    """Copy what must be written; segments not in ``changed`` (when given) carry no arrays (GUI thread, fast)."""
    out = []
    for seg in segmentation.segments.values():
        props = {"name": seg.name, "colour": list(seg.colour), "visible": bool(seg.visible),
                 "opacity": float(seg.opacity), "locked": bool(seg.locked), "source": seg.source,
                 "source_detail": seg.source_detail}
        fresh = changed is None or seg.id in changed
        proposal = seg.proposal
        out.append(SegmentSnapshot(
            seg.id, props, seg.mask.box, seg.mask.data.copy() if fresh else None,
            proposal.box if proposal is not None else None,
            proposal.data.copy() if fresh and proposal is not None else None))
    return out


def build_manifest(image: dict, snapshots: list[SegmentSnapshot], view: dict, active_id=None,
                   layers: list[dict] | None = None) -> dict:
    segments = []
    for snap in snapshots:
        entry = {"id": snap.id, **snap.properties, "box": _box_json(snap.box), "file": f"masks/{snap.id}.bin",
                 "proposal_box": None, "proposal_file": None}
        if snap.proposal_box is not None:
            entry["proposal_box"] = _box_json(snap.proposal_box)
            entry["proposal_file"] = f"masks/{snap.id}.proposal.bin"
        segments.append(entry)
    version = FORMAT_VERSION if image.get("copy") else REFERENCE_FORMAT_VERSION
    manifest = {"format": FORMAT, "format_version": version, "image": image, "segments": segments,
                "active_id": active_id, "view": view}
    if layers is not None:
        manifest["layers"] = layers
    return manifest


def encode_payloads(snapshots: list[SegmentSnapshot], cache: dict[str, bytes] | None = None) -> tuple[dict, list]:
    """Payloads by file name; snapshots without arrays reuse ``cache``. Returns (payloads, ids encoded now)."""
    cache = cache if cache is not None else {}
    payloads, encoded = {}, []
    for snap in snapshots:
        names = [(f"masks/{snap.id}.bin", snap.box, snap.data)]
        if snap.proposal_box is not None:
            names.append((f"masks/{snap.id}.proposal.bin", snap.proposal_box, snap.proposal_data))
        for name, box, data in names:
            if data is not None:
                cache[name] = encode_mask(box, data)
            elif name not in cache:
                raise KeyError(f"no encoded payload for {name}")
            payloads[name] = cache[name]
        if snap.data is not None:
            encoded.append(snap.id)
    return payloads, encoded


# --- writing ------------------------------------------------------------------------------------
def _write_archive(stream, manifest: dict, payloads: dict) -> None:
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, payload in payloads.items():
            if isinstance(payload, ImageCopy):
                payload.write_into(archive, name)
            else:
                archive.writestr(name, payload)


def write_atomic(path: str | Path, manifest: dict, payloads: dict) -> None:
    """Write the archive next to ``path``, fsync it, replace ``path`` and fsync the folder.

    ``payloads`` maps entry names to bytes, or to an :class:`ImageCopy` that streams itself."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            _write_archive(stream, manifest, payloads)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass
class SessionJob:
    """Everything a save needs, taken on the GUI thread (copies of the masks' small box arrays; the image
    itself is never edited in place, so it is shared); :meth:`write` runs anywhere."""

    path: Path
    manifest: dict
    snapshots: list[SegmentSnapshot]
    volume: Volume | None = None  # set: the session holds a copy of this image
    layer_copies: dict = field(default_factory=dict)  # entry name -> ImageCopy of an image layer

    def write(self) -> None:
        payloads, _ = encode_payloads(self.snapshots)
        if self.volume is not None:
            payloads[IMAGE_COPY_FILE] = ImageCopy(self.volume)
        payloads.update(self.layer_copies)
        write_atomic(self.path, self.manifest, payloads)


def session_job(path: str | Path, state, image_path: str = "", include_image: bool = False,
                copy_in: str = "") -> SessionJob:
    """Snapshot ``state`` (a ViewerState) for a save to ``path``: fast, for the GUI thread."""
    if state.volume is None or state.segmentation is None:
        raise SessionError("There is no open image to save a session for.")
    volume = state.volume
    snapshots = snapshot_segments(state.segmentation)
    image = image_reference(volume, image_path, copy_in)
    if include_image:
        image["copy"] = image_copy_entry(volume)
    layers = layer_entries(state.study, include_image)
    manifest = build_manifest(image, snapshots, view_state(state), state.segmentation.active_id, layers)
    return SessionJob(Path(path), manifest, snapshots, volume if include_image else None,
                      layer_copies=layer_copy_payloads(state.study, layers))


def save_session(path: str | Path, state, image_path: str = "", include_image: bool = False,
                 copy_in: str = "") -> None:
    """Write ``state``'s (a ViewerState) segments and view to ``path`` atomically, referencing its volume and,
    with ``include_image``, holding a copy of it."""
    session_job(path, state, image_path, include_image, copy_in).write()


# --- reading ------------------------------------------------------------------------------------
def _box(value) -> Box:
    return Box(tuple(int(v) for v in value[0]), tuple(int(v) for v in value[1]))


def _read_manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    manifest = json.loads(archive.read("manifest.json"))
    if manifest.get("format") != FORMAT:
        raise SessionError(f"{path} is not a MedSeg session file.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise SessionError(f"{path} was written by a newer MedSeg (session format "
                           f"{manifest['format_version']}).")
    return manifest


def load_session(path: str | Path) -> SessionData:
    """The session's manifest and masks (not the image copy: :func:`load_image_copy` reads that)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _read_manifest(archive, path)
            image = manifest["image"]
            shape = tuple(int(v) for v in reversed(image["size"]))
            segments = []
            for entry in manifest["segments"]:
                entry = dict(entry)
                entry["mask"] = decode_mask(shape, _box(entry["box"]), archive.read(entry["file"]))
                entry["proposal"] = (decode_mask(shape, _box(entry["proposal_box"]), archive.read(entry["proposal_file"]))
                                     if entry.get("proposal_file") else None)
                segments.append(entry)
            layers = manifest.get("layers")
            for copy in [image.get("copy")] + [entry.get("copy") for entry in layers or []]:
                if copy and copy.get("file") not in archive.namelist():
                    raise SessionError(f"{path} should hold a copy of an image ({copy.get('file')}), but does not.")
    except SessionError:
        raise
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise SessionError(f"{path} could not be read as a MedSeg session ({type(exc).__name__}: {exc}).") from exc
    return SessionData(image, segments, manifest.get("view", {}), manifest.get("active_id"), str(path),
                       [dict(entry) for entry in layers] if layers is not None else None)


def recorded_geometry(image: dict) -> ImageGeometry:
    return ImageGeometry(size=image["size"], spacing=image["spacing"], origin=image["origin"],
                         direction=np.asarray(image["direction"], float).reshape(3, 3))


def image_copy_source(session: SessionData) -> Path | None:
    """The session file whose copy of the image opening ``session`` should load, or None to open ``image.path``.

    A session with a copy uses its own; a reference-only one uses ``copy_in`` when ``image.path`` is gone and
    that file exists (its copy is checked against the recorded geometry when the study is applied)."""
    if session.has_image_copy:
        return Path(session.path)
    copy_in = session.image.get("copy_in")
    path = session.image.get("path")
    if copy_in and not (path and Path(path).exists()) and Path(copy_in).is_file():
        return Path(copy_in)
    return None


def load_image_copy(path: str | Path, progress=None, cancelled=None) -> Volume:
    """The image copied into the session file ``path``, with the manifest's exact geometry and metadata."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _read_manifest(archive, path)
            image = manifest["image"]
            copy = image.get("copy")
            if not copy:
                raise SessionError(f"{path} holds no copy of the image.")
            geometry = recorded_geometry(image)
            dtype = np.dtype(copy["dtype"])
            with archive.open(copy["file"]) as stream:
                array, header_geometry = _read_nrrd(stream, geometry.shape, dtype, progress, cancelled)
    except (SessionError, LoadCancelled):
        raise
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise SessionError(f"The copy of the image in {path} could not be read ({type(exc).__name__}: {exc}).") \
            from exc
    if not header_geometry.same_grid(geometry, tol_mm=1e-3):
        raise SessionError(f"The copy of the image in {path} does not lie on the recorded grid.")
    fields = {f.name for f in dataclasses.fields(SourceIdentity)}
    identity = SourceIdentity(**{key: tuple(value) if isinstance(value, list) else value
                                 for key, value in copy.get("identity", {}).items() if key in fields})
    register_identity(identity)  # as the DICOM loaders do: logs and crash reports redact this patient
    return Volume(array, geometry, modality=image.get("modality", ""), units=image.get("units", ""),
                  identity=identity, source_path=str(image.get("path", "")), warnings=list(copy.get("warnings", [])))


def check_image(session: SessionData, volume, tol_mm: float = 1e-3) -> None:
    """Raise SessionError (one sentence) unless ``volume`` is the image the session was drawn on."""
    image = session.image
    recorded = recorded_geometry(image)
    if not recorded.same_grid(volume.geometry, tol_mm=tol_mm):
        raise SessionError(f"The session was drawn on {image.get('path') or 'another image'} "
                           f"(size {image['size']}), whose geometry differs from the open image's.")
    ours = volume.identity.series_instance_uid
    if image.get("series_uid") and ours and image["series_uid"] != ours:
        raise SessionError(f"The session belongs to series {image['series_uid']}, not the open series {ours}.")


def apply_session(state, session: SessionData) -> dict[int, int]:
    """Replace ``state``'s segments and view by the session's (after :func:`check_image`); returns old→new ids."""
    check_image(session, state.volume)
    state.set_labels(None)
    seg = state.segmentation
    ids = {}
    options = EditOptions()
    for entry in session.segments:
        new = seg.add_segment(entry["name"], tuple(entry["colour"]), entry.get("source", "manual"))
        mask: SparseMask = entry["mask"]
        if not mask.box.empty:
            seg.modify(new.id, mask.box, mask.data, "set", options=options)
        new.proposal = entry["proposal"]
        seg.set_properties(new.id, visible=bool(entry["visible"]), opacity=float(entry["opacity"]),
                           locked=bool(entry["locked"]), source_detail=entry.get("source_detail", ""))
        ids[int(entry["id"])] = new.id
    seg.undo_stack.clear()
    if session.active_id in ids:
        seg.set_active(ids[session.active_id])
    view = session.view
    if view:
        from ..core.window_level import WindowLevel

        state.set_crosshair(view["crosshair"])
        state.set_window(WindowLevel(float(view["window"]), float(view["level"])))
        state.set_colour_map(view["colour_map"])
    state.measurements.load_json(view.get("measurements", []))  # none in sessions from before measurements
    return ids
