"""NIfTI and NRRD headers checked by MedSeg before SimpleITK sees the file.

ITK trusts these headers: damaged ones crashed it (an over-long token in an ASCII NRRD overflows a buffer in
NrrdIO) or hung it (a NIfTI sform entry near 1e38), and it sizes its buffers from them. So the fields ITK uses
are parsed here, in Python, and anything missing, contradictory or absurd is refused with a LoadError first.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

from ..core.errors import CorruptFileError, LoadError, exception_clause
from ..core.memory import check_allocation

# Positions and sizes beyond this many millimetres are not anatomy but damage (1e38 hung ITK's NIfTI reader).
MAX_MM = 1e9
_GZIP_MAGIC = b"\x1f\x8b"


def _finite_bounded(values) -> bool:
    return all(math.isfinite(float(v)) and abs(float(v)) <= MAX_MM for v in values)


def check_volume_memory(shape: list[int], itemsize: int, path: Path) -> None:
    """ITK's image and MedSeg's array of one volume exist together: refuse what cannot fit before reading."""
    total = math.prod(shape) * itemsize
    one_volume = math.prod(shape[:3]) * itemsize
    check_allocation(total + one_volume, path)


# ------------------------------------------------------------------------------------------------- NIfTI

def _read_start(path: Path, n: int) -> bytes:
    with open(path, "rb") as fp:
        start = fp.read(n)
    if start[:2] != _GZIP_MAGIC:
        return start
    try:
        with gzip.open(path, "rb") as fp:
            return fp.read(n)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(path, f"is not a readable gzip stream ({exception_clause(exc, 80)}).") from None


def _gzip_length(path: Path, start: int = 0) -> tuple[int, int] | None:
    """The gzip stream from ``start`` to the end of the file: its trailer's ISIZE (the uncompressed length
    modulo 2**32) and its own length; None when there is no gzip stream there."""
    with open(path, "rb") as fp:
        fp.seek(start)
        size = os.fstat(fp.fileno()).st_size
        if fp.read(2) != _GZIP_MAGIC or size < start + 18:
            return None
        fp.seek(-4, os.SEEK_END)
        return int.from_bytes(fp.read(4), "little"), size - start


def _check_length(path: Path, actual: int, expected: int, packed: int | None = None) -> None:
    """``actual`` bytes of data where ``expected`` are needed; with ``packed`` (the gzip stream's length),
    ``actual`` is the trailer's ISIZE."""
    if packed is not None:
        # Deflate expands at most 1032-fold: this bounds what ISIZE cannot say (lengths from 4 GiB on).
        if expected > 1032 * packed + 1024:
            raise CorruptFileError(path, f"is truncated: {packed} bytes of gzip data cannot hold the {expected} "
                                         "bytes its header declares.")
        if expected >= 2**32:
            return
    if actual < expected:
        raise CorruptFileError(path, f"is truncated: its image data ends after {actual} of {expected} bytes.")


def check_nifti_header(path: Path) -> None:
    """Refuse a NIfTI-1 / NIfTI-2 single file whose header ITK should not be trusted with."""
    import nibabel as nib

    raw = _read_start(path, 544)
    if len(raw) < 348:
        raise CorruptFileError(path, f"is truncated: it holds {len(raw)} bytes, fewer than a NIfTI header.")
    sizes = {int.from_bytes(raw[:4], order, signed=True) for order in ("little", "big")}
    if 348 in sizes:
        header_class, minimum_offset = nib.Nifti1Header, 352
    elif 540 in sizes and len(raw) >= 540:
        header_class, minimum_offset = nib.Nifti2Header, 544
    else:
        raise CorruptFileError(path, "is not a NIfTI file: its header size field is neither 348 nor 540.")
    try:
        header = header_class.from_fileobj(BytesIO(raw[:header_class.sizeof_hdr]), check=False)  # no extensions
    except Exception as exc:  # noqa: BLE001 - nibabel's parse errors on damaged bytes vary
        raise CorruptFileError(path, f"has a NIfTI header that cannot be parsed ({type(exc).__name__}).") from None
    magic = bytes(header["magic"]).rstrip(b"\x00")
    if magic not in (b"n+1", b"n+2"):
        raise CorruptFileError(path, f"is not a single-file NIfTI (its magic is {magic[:4]!r}, not 'n+1' or 'n+2').")
    dim = [int(v) for v in header["dim"]]
    if not 1 <= dim[0] <= 7:
        raise CorruptFileError(path, f"declares {dim[0]} dimensions, where NIfTI allows 1 to 7.")
    shape = dim[1: dim[0] + 1]
    if any(v < 1 for v in shape):
        raise CorruptFileError(path, f"declares an image of size {'×'.join(map(str, shape))}, which holds no voxels.")
    code = int(header["datatype"])
    try:
        dtype = header.get_data_dtype() if code not in (0, 1) else None
    except Exception:  # noqa: BLE001 - an unknown code
        dtype = None
    if dtype is None:
        raise CorruptFileError(path, f"declares the NIfTI data type code {code}, which MedSeg cannot read.")
    if int(header["bitpix"]) != dtype.itemsize * 8:
        raise CorruptFileError(path, f"declares {int(header['bitpix'])} bits per voxel for a data type of "
                                     f"{dtype.itemsize * 8} bits.")
    pixdim = [float(v) for v in header["pixdim"][1: min(dim[0], 3) + 1]]
    if not all(math.isfinite(v) and v != 0 and abs(v) <= MAX_MM for v in pixdim):
        raise CorruptFileError(path, f"declares a voxel spacing of {', '.join(f'{v:g}' for v in pixdim)}, "
                                     "which is not a finite, non-zero size.")
    if int(header["sform_code"]) > 0 and not _finite_bounded(
            np.concatenate([header["srow_x"], header["srow_y"], header["srow_z"]])):
        raise CorruptFileError(path, "declares an sform matrix with an entry that is not a finite position.")
    if int(header["qform_code"]) > 0 and not _finite_bounded(
            [header[k] for k in ("quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z")]):
        raise CorruptFileError(path, "declares a qform with a rotation or offset that is not a finite number.")
    vox_offset = float(header["vox_offset"])
    if not (math.isfinite(vox_offset) and 0 <= vox_offset < 2**63):
        raise CorruptFileError(path, f"declares an image data offset of {vox_offset:g} bytes.")
    check_volume_memory(shape, dtype.itemsize, path)
    expected = max(int(vox_offset), minimum_offset) + math.prod(shape) * dtype.itemsize
    stream = _gzip_length(path)
    if stream is None:
        _check_length(path, path.stat().st_size, expected)
    else:
        _check_length(path, stream[0], expected, packed=stream[1])


# -------------------------------------------------------------------------------------------------- NRRD

_NRRD_TYPES = {
    1: ("signed char", "int8", "int8_t", "uchar", "unsigned char", "uint8", "uint8_t"),
    2: ("short", "short int", "signed short", "signed short int", "int16", "int16_t",
        "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    4: ("int", "signed int", "int32", "int32_t", "uint", "unsigned int", "uint32", "uint32_t", "float"),
    8: ("longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t",
        "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t", "double"),
}
_NRRD_ITEMSIZE = {name: size for size, names in _NRRD_TYPES.items() for name in names}
_NRRD_ENCODINGS = {"raw": "raw", "txt": "text", "text": "text", "ascii": "text", "hex": "hex",
                   "gz": "gzip", "gzip": "gzip", "bz2": "bzip2", "bzip2": "bzip2"}
_FIELD_ALIASES = {"datafile": "data file", "byteskip": "byte skip", "lineskip": "line skip",
                  "centerings": "centers"}
_MAX_NRRD_HEADER = 1 << 20
# NrrdIO reads each number of a text-encoded NRRD into a fixed-size buffer: a 5,000-character token crashed it.
_MAX_TEXT_TOKEN = 128


def _nrrd_fields(path: Path, head: bytes) -> tuple[dict[str, str], int | None]:
    """The header's fields (lower-case names) and where the attached data starts (None: no blank line)."""
    match = re.search(rb"\r?\n\r?\n", head)
    end = match.start() if match else len(head)
    if match is None and len(head) >= _MAX_NRRD_HEADER:
        raise CorruptFileError(path, "has a NRRD header longer than 1 MB, or one that never ends.")
    fields: dict[str, str] = {}
    for line in head[:end].decode("latin-1").splitlines()[1:]:
        if not line.strip() or line.startswith("#") or ":=" in line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            raise CorruptFileError(path, f"has a NRRD header line that is not a field: {line[:40]!r}.")
        key = key.strip().lower()
        fields[_FIELD_ALIASES.get(key, key)] = value.strip()
    return fields, match.end() if match else None


def _vector(path: Path, text: str, what: str) -> list[float]:
    if not (text.startswith("(") and text.endswith(")")):
        raise CorruptFileError(path, f"has a NRRD {what} that is not a vector: {text[:40]!r}.")
    try:
        values = [float(v) for v in text[1:-1].split(",")]
    except ValueError:
        raise CorruptFileError(path, f"has a NRRD {what} that is not a vector of numbers: {text[:40]!r}.") from None
    if not _finite_bounded(values):
        raise CorruptFileError(path, f"has a NRRD {what} that is not a finite position: {text[:40]!r}.")
    return values


def _check_nrrd_geometry(path: Path, fields: dict[str, str], dimension: int) -> None:
    if "space directions" in fields:
        entries = re.findall(r"\([^)]*\)|\S+", fields["space directions"])
        if len(entries) != dimension:
            raise CorruptFileError(path, f"gives {len(entries)} NRRD space directions for {dimension} axes.")
        vectors = [_vector(path, e, "space direction") for e in entries if e.lower() != "none"]
        if len({len(v) for v in vectors}) > 1 or any(math.hypot(*v) == 0 for v in vectors):
            raise CorruptFileError(path, "has NRRD space directions of zero length or of different sizes.")
    if "space origin" in fields:
        _vector(path, fields["space origin"], "space origin")


def _text_tokens_fit(path: Path, start: int) -> bool:
    """Whether no whitespace-separated token of the text data from ``start`` is longer than NrrdIO can hold."""
    run = 0
    with open(path, "rb") as fp:
        fp.seek(start)
        while chunk := fp.read(1 << 20):
            tokens = chunk.split()
            if not tokens:
                run = 0
                continue
            first_joins = not chunk[:1].isspace()
            lengths = [len(t) for t in tokens]
            if first_joins:
                lengths[0] += run
            if max(lengths) > _MAX_TEXT_TOKEN:
                return False
            run = lengths[-1] if not chunk[-1:].isspace() else 0
    return True


def _int_field(path: Path, fields: dict[str, str], name: str, default: int | None = None) -> int:
    text = fields.get(name)
    if text is None:
        if default is None:
            raise CorruptFileError(path, f"has no NRRD '{name}' field in its header.")
        return default
    try:
        return int(text)
    except ValueError:
        raise CorruptFileError(path, f"has a NRRD '{name}' that is not a whole number: {text[:40]!r}.") from None


@dataclass(frozen=True)
class RawNrrdData:
    """Where a raw-encoded NRRD's voxels lie: ``data_path`` from byte ``offset``, in ``sizes`` (fastest axis
    first) of ``itemsize``-byte values; ``big_endian`` when they need swapping on this machine."""

    data_path: Path
    offset: int
    sizes: tuple[int, ...]
    itemsize: int
    big_endian: bool


def check_nrrd_header(path: Path) -> RawNrrdData | None:
    """Refuse a NRRD (attached or detached) whose header or data ITK should not be trusted with.

    Returns where the voxels lie when they are stored raw (no line skip, no negative byte skip), so that they
    can be read straight into an array (io.image_files); None for the other encodings."""
    with open(path, "rb") as fp:
        head = fp.read(_MAX_NRRD_HEADER)
    if not re.match(rb"NRRD000[1-9]\r?\n", head):
        raise CorruptFileError(path, "is not a NRRD file: it does not start with a NRRD000n line.")
    fields, data_start = _nrrd_fields(path, head)
    dimension = _int_field(path, fields, "dimension")
    if not 2 <= dimension <= 4:
        raise LoadError(path, f"is {dimension}-D; MedSeg loads 3-D (or 4-D) images.")
    try:
        sizes = [int(v) for v in fields.get("sizes", "").split()]
    except ValueError:
        sizes = []
    if len(sizes) != dimension or any(v < 1 for v in sizes):
        raise CorruptFileError(path, f"declares NRRD sizes {fields.get('sizes', '(none)')[:60]!r} for {dimension} "
                                     "axes, which is not one positive size per axis.")
    kind = " ".join(fields.get("type", "").lower().split())
    if kind not in _NRRD_ITEMSIZE:
        raise CorruptFileError(path, f"declares the NRRD type {kind[:40]!r}, which MedSeg cannot read.")
    encoding = _NRRD_ENCODINGS.get(fields.get("encoding", "").lower())
    if encoding is None:
        raise CorruptFileError(path, f"uses the NRRD encoding {fields.get('encoding', '(none)')[:40]!r}, "
                                     "which MedSeg cannot read.")
    if fields.get("endian", "little").lower() not in ("little", "big"):
        raise CorruptFileError(path, f"declares the byte order {fields['endian'][:40]!r}, not little or big.")
    _check_nrrd_geometry(path, fields, dimension)
    check_volume_memory(sizes, _NRRD_ITEMSIZE[kind], path)
    byte_skip = _int_field(path, fields, "byte skip", 0)
    data_path, start = path, data_start
    if "data file" in fields:
        name = fields["data file"]
        if name.upper().startswith("LIST") or len(name.split()) > 1:
            raise LoadError(path, "spreads its NRRD data over several files, which MedSeg does not read.")
        data_path, start = path.parent / name, 0
        if not data_path.is_file():
            raise LoadError(path, f"names the data file {name[:80]}, which is not a file that exists.")
    elif start is None:
        raise CorruptFileError(path, "is truncated: its NRRD header is not followed by a blank line and data.")
    expected = math.prod(sizes) * _NRRD_ITEMSIZE[kind]
    available = data_path.stat().st_size - start - max(byte_skip, 0)
    if encoding == "raw":
        _check_length(path, available, expected)
        if byte_skip >= 0 and _int_field(path, fields, "line skip", 0) == 0:
            return RawNrrdData(data_path, start + byte_skip, tuple(sizes), _NRRD_ITEMSIZE[kind],
                               fields.get("endian", "little").lower() == "big")
    elif encoding == "gzip" and _int_field(path, fields, "line skip", 0) == 0:
        stream = _gzip_length(data_path, start)
        if stream is None:
            raise CorruptFileError(path, "declares gzip-encoded NRRD data but holds no gzip stream.")
        _check_length(path, stream[0] - max(byte_skip, 0), expected, packed=stream[1])
    elif encoding == "text" and not _text_tokens_fit(data_path, start):
        raise CorruptFileError(path, f"has text-encoded NRRD data with a value longer than {_MAX_TEXT_TOKEN} "
                                     "characters, which is not a number.")
    return None
