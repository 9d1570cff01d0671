"""The copy of the image inside a session file: an NRRD stream (gzip, LPS) written and read a few slices at a
time, with the manifest entry that rebuilds the Volume (see :mod:`.session_file` for the format)."""

from __future__ import annotations

import dataclasses
import re
import zipfile
import zlib
from typing import Callable

import numpy as np

from ..core.errors import LoadCancelled
from ..core.geometry import ImageGeometry
from ..core.volume import SourceIdentity, Volume

IMAGE_COPY_FILE = "image/image.nrrd"
IMAGE_COPY_LEVEL = 1  # zlib level of the copy: CT compresses ~3x at level 1, little more at 9, many times slower
_CHUNK_BYTES = 1 << 24

# numpy dtype name -> NRRD type name (the NRRD standard's names, which ITK / Slicer / pynrrd read).
_NRRD_TYPES = {"int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16", "int32": "int32",
               "uint32": "uint32", "int64": "int64", "uint64": "uint64", "float32": "float", "float64": "double"}


class SessionError(ValueError):
    """A session file that cannot be read or does not belong to the open image (message: one sentence)."""


def _nrrd_vector(values) -> str:
    return "(" + ",".join(repr(float(v)) for v in values) + ")"


def nrrd_header(volume: Volume, encoding: str = "gzip") -> bytes:
    """The NRRD header of ``volume`` in LPS: space directions are spacing × the direction's columns."""
    dtype = volume.array.dtype
    if dtype.name not in _NRRD_TYPES:
        raise SessionError(f"The image's voxel type ({dtype}) cannot be copied into a session.")
    g = volume.geometry
    axes = g.direction * g.spacing[np.newaxis, :]  # column n: the step of index axis n in LPS mm
    lines = ["NRRD0004", "# MedSeg session: copy of the image, voxels as loaded, LPS millimetres",
             f"type: {_NRRD_TYPES[dtype.name]}", "dimension: 3", "space: left-posterior-superior",
             "sizes: " + " ".join(str(int(v)) for v in g.size),
             "space directions: " + " ".join(_nrrd_vector(axes[:, n]) for n in range(3)),
             "kinds: domain domain domain", "endian: little", f"encoding: {encoding}",
             "space origin: " + _nrrd_vector(g.origin)]
    return ("\n".join(lines) + "\n\n").encode("ascii")


def write_nrrd(stream, volume: Volume, level: int = IMAGE_COPY_LEVEL,
               cancelled: Callable[[], bool] | None = None) -> None:
    """Stream ``volume`` as a gzip-encoded NRRD, a few slices at a time (no second copy of a large image)."""
    stream.write(nrrd_header(volume))
    array = volume.array
    little = array.dtype.newbyteorder("<")
    per_slice = max(1, array[0].nbytes if array.shape[0] else 1)
    step = max(1, _CHUNK_BYTES // per_slice)
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: a gzip stream, as NRRD's gzip encoding is
    for k in range(0, array.shape[0], step):
        if cancelled is not None and cancelled():
            raise LoadCancelled()
        chunk = np.ascontiguousarray(array[k:k + step], dtype=little)
        stream.write(compressor.compress(memoryview(chunk).cast("B")))
    stream.write(compressor.flush())


class ImageCopy:
    """A payload written by streaming: the image as ``image/image.nrrd`` (see :func:`write_nrrd`)."""

    def __init__(self, volume: Volume):
        self.volume = volume

    def write_into(self, archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as entry:
            write_nrrd(entry, self.volume)


def image_copy_entry(volume: Volume) -> dict:
    """The manifest's ``image.copy``: where the copy lies and what the voxels are, beyond the geometry."""
    if volume.array.dtype.name not in _NRRD_TYPES:
        raise SessionError(f"The image's voxel type ({volume.array.dtype}) cannot be copied into a session.")
    identity = {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(volume.identity).items()}
    return {"file": IMAGE_COPY_FILE, "dtype": volume.array.dtype.name, "identity": identity,
            "warnings": list(volume.warnings)}


def _parse_nrrd_header(text: str) -> dict[str, str]:
    fields = {}
    lines = text.split("\n")
    if not lines or not lines[0].startswith("NRRD"):
        raise ValueError("the image copy is not an NRRD file")
    for line in lines[1:]:
        if not line or line.startswith("#") or ":=" in line:
            continue
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _nrrd_vectors(text: str) -> list[list[float]]:
    return [[float(v) for v in group.split(",")] for group in re.findall(r"\(([^)]*)\)", text)]


def _read_nrrd(stream, shape: tuple[int, int, int], dtype: np.dtype, progress=None, cancelled=None):
    """(array [k, j, i], header geometry) of a MedSeg image copy, decompressed straight into the array."""
    head = b""
    while b"\n\n" not in head:
        more = stream.read(4096)
        if not more or len(head) > 1 << 16:
            raise ValueError("the image copy's NRRD header does not end")
        head += more
    header, rest = head.split(b"\n\n", 1)
    fields = _parse_nrrd_header(header.decode("ascii", "replace"))
    sizes = tuple(int(v) for v in fields.get("sizes", "").split())
    if sizes != tuple(reversed(shape)):
        raise ValueError(f"the image copy holds {sizes}, not the recorded size {list(reversed(shape))}")
    if fields.get("type") != _NRRD_TYPES.get(dtype.name) or fields.get("endian", "little") != "little":
        raise ValueError(f"the image copy's voxel type ({fields.get('type')}) is not the recorded {dtype}")
    encoding = fields.get("encoding")
    if encoding not in ("gzip", "gz", "raw"):
        raise ValueError(f"the image copy's encoding {encoding!r} is not supported")
    directions = np.asarray(_nrrd_vectors(fields.get("space directions", "")), float).T
    origin = _nrrd_vectors(fields.get("space origin", ""))
    spacing = np.linalg.norm(directions, axis=0)
    geometry = ImageGeometry(size=sizes, spacing=spacing, origin=origin[0], direction=directions / spacing)
    array = np.empty(shape, dtype.newbyteorder("<"))
    out = array.reshape(-1).view(np.uint8)
    total, done = out.size, 0
    inflater = zlib.decompressobj(31) if encoding != "raw" else None
    chunk = rest
    while True:
        if cancelled is not None and cancelled():
            raise LoadCancelled()
        data = inflater.decompress(chunk) if inflater is not None else chunk
        if done + len(data) > total:
            raise ValueError("the image copy holds more voxels than recorded")
        out[done:done + len(data)] = np.frombuffer(data, np.uint8)
        done += len(data)
        if progress is not None and total:
            progress(done / total, "Reading the image copy")
        chunk = stream.read(_CHUNK_BYTES // 4)
        if not chunk:
            break
    if inflater is not None:
        tail = inflater.flush()
        if done + len(tail) > total:
            raise ValueError("the image copy holds more voxels than recorded")
        out[done:done + len(tail)] = np.frombuffer(tail, np.uint8)
        done += len(tail)
    if done != total:
        raise ValueError(f"the image copy is truncated ({done} of {total} bytes)")
    return array.astype(dtype, copy=False), geometry
