"""Pixel data of sorted frames into one array: raw bytes where the file is uncompressed, decoders otherwise.

Reading raw little-endian bytes straight into the output array beats both pydicom's ``pixel_array`` and
SimpleITK on uncompressed series (see benchmarks/); compressed transfer syntaxes go through pydicom's
decoder plugins (pylibjpeg: JPEG baseline / extended / lossless, JPEG-LS, JPEG 2000, RLE; GDCM as fallback).
"""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .dicom_files import read_dicom
from ..core.errors import CorruptFileError, LoadCancelled, LoadError, UnsupportedTransferSyntaxError
from ..core.memory import check_allocation
from .dicom_frames import FrameRecord
from .dicom_scan import CancelFn, DicomFile, ProgressFn

RAW_SYNTAXES = {ImplicitVRLittleEndian, ExplicitVRLittleEndian}


def _transfer_syntax(f: DicomFile) -> UID:
    meta = getattr(f.header, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(ts)) if ts else ImplicitVRLittleEndian


def stored_dtype(f: DicomFile) -> np.dtype:
    h = f.header
    bits = int(h.get("BitsAllocated", 16))
    signed = int(h.get("PixelRepresentation", 0)) == 1
    if bits not in (8, 16, 32):
        raise UnsupportedTransferSyntaxError(f.path, f"stores {bits}-bit pixels, which MedSeg cannot read.")
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def _check_image_pixel_module(f: DicomFile) -> None:
    h = f.header
    if int(h.get("SamplesPerPixel", 1)) != 1:
        raise UnsupportedTransferSyntaxError(
            f.path, f"is a colour image ({h.get('PhotometricInterpretation', '?')}); MedSeg loads greyscale volumes only.")


def _mask_stored_bits(raw: np.ndarray, f: DicomFile) -> np.ndarray:
    """Bits above BitsStored may hold overlay or garbage bits: drop them and sign-extend (PS3.5 8.1.1)."""
    bits_allocated = raw.dtype.itemsize * 8
    bits_stored = int(f.header.get("BitsStored", bits_allocated))
    if bits_stored >= bits_allocated:
        return raw
    shift = bits_allocated - bits_stored
    if raw.dtype.kind == "i":
        raw <<= shift  # in place: ``raw`` is the loader's own buffer
        raw >>= shift
    else:
        raw &= np.array((1 << bits_stored) - 1, dtype=raw.dtype)
    return raw


def _read_raw_frame(f: DicomFile, into: np.ndarray) -> None:
    """Read an uncompressed single frame straight from the file, after its (already parsed) header."""
    explicit = _transfer_syntax(f) == ExplicitVRLittleEndian
    expected = into.nbytes
    try:
        with open(f.path, "rb") as fp:
            fp.seek(f.pixel_offset)
            element_header = fp.read(12 if explicit else 8)
            length = int.from_bytes(element_header[8:12] if explicit else element_header[4:8], "little")
            if length == 0xFFFFFFFF:
                raise CorruptFileError(f.path, "declares an uncompressed transfer syntax but holds encapsulated pixel data.")
            if length < expected:
                raise CorruptFileError(f.path, f"has {length} bytes of pixel data where {expected} are needed "
                                               f"for {into.shape[1]}×{into.shape[0]} pixels.")
            got = fp.readinto(memoryview(into).cast("B"))
    except PermissionError:
        raise LoadError(f.path, "cannot be read: permission denied.") from None  # not corruption
    if got != expected:
        raise CorruptFileError(f.path, f"is truncated: its pixel data ends after {got} of {expected} bytes.")


def _decode_frames(f: DicomFile) -> np.ndarray:
    """All frames of one file through pydicom's decoders, as (frames, rows, cols) stored values."""
    ts = _transfer_syntax(f)
    try:
        ds = read_dicom(f.path)
    except Exception as exc:  # a file whose header read fine but whose body does not
        raise CorruptFileError(f.path, f"is truncated or corrupt ({type(exc).__name__}).") from None
    try:
        # pixel_array gives stored values; MedSeg applies slope / intercept per frame itself.
        pixels = ds.pixel_array
    except NotImplementedError:
        name = f"{ts.name} ({ts})" if ts.name != str(ts) else str(ts)  # an unknown UID has no name
        raise UnsupportedTransferSyntaxError(
            f.path, f"uses the transfer syntax {name}, for which no decoder is installed.") from None
    except (ValueError, RuntimeError, EOFError) as exc:
        raise CorruptFileError(f.path, f"has pixel data that cannot be decoded ({exc}).") from None
    return pixels.reshape(-1, *pixels.shape[-2:])


def read_frames(
    records: list[FrameRecord],
    rows: int,
    cols: int,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> np.ndarray:
    """Stored pixel values of ``records`` (already in slice order) as one (n, rows, cols) array."""
    first = records[0].file
    _check_image_pixel_module(first)
    dtype = stored_dtype(first)
    if rows <= 0 or cols <= 0:
        raise CorruptFileError(first.path, f"declares an image of {cols}×{rows} pixels, which holds no pixels.")
    where = first.path.parent if any(r.file is not first for r in records) else first.path
    # The float32 copy made by rescaling (and any resampling) may need as much again: check that too.
    check_allocation(len(records) * rows * cols * max(dtype.itemsize, 4), where)
    raw = np.empty((len(records), rows, cols), dtype=dtype)
    decoded: dict[str, np.ndarray] = {}
    for n, record in enumerate(records):
        if cancelled is not None and cancelled():
            raise LoadCancelled("loading was cancelled")
        f = record.file
        if stored_dtype(f) != dtype or int(f.header.Rows) != rows or int(f.header.Columns) != cols:
            raise CorruptFileError(f.path, "does not match the pixel format of the rest of its series.")
        single = int(f.header.get("NumberOfFrames", 1) or 1) == 1
        if single and _transfer_syntax(f) in RAW_SYNTAXES and f.pixel_offset >= 0:
            _read_raw_frame(f, raw[n])
        else:
            key = str(f.path)
            if key not in decoded:
                decoded = {key: _decode_frames(f)}  # frames of one file are adjacent: keep one file at a time
            frames = decoded[key]
            if record.frame_index >= len(frames):
                raise CorruptFileError(f.path, f"has {len(frames)} frames where frame {record.frame_index + 1} is needed.")
            raw[n] = frames[record.frame_index]
        if progress is not None and n % 8 == 0:
            progress(n / len(records), f"reading pixels ({n}/{len(records)})")
    return _mask_stored_bits(raw, first)


def _fits(raw: np.ndarray, intercept: int, dtype, bounds: list) -> bool:
    """Whether raw + intercept fits ``dtype``: from raw's dtype alone where that settles it, else from its
    values (min and max, two passes over the volume, computed once into ``bounds`` and only when needed)."""
    target = np.iinfo(dtype)
    if raw.dtype.kind in "iu":
        stored = np.iinfo(raw.dtype)
        if target.min <= stored.min + intercept and stored.max + intercept <= target.max:
            return True
    if not bounds:
        bounds.extend((int(raw.min()), int(raw.max())))
    return target.min <= bounds[0] + intercept and bounds[1] + intercept <= target.max


def apply_rescale(raw: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Modality LUT (slope / intercept, per frame) into the smallest faithful dtype.

    Integer slope 1 with one integer intercept stays integer (int16 where the values fit, as CT
    usually does); anything else becomes float32. With ``inplace`` the result may reuse (and overwrite)
    ``raw``'s memory, sparing a volume-sized allocation and a pass over the volume.
    """
    same = np.all(slopes == slopes[0]) and np.all(intercepts == intercepts[0])
    if same and slopes[0] == 1 and float(intercepts[0]).is_integer():
        intercept = int(intercepts[0])
        bounds: list[int] = []
        for dtype in (np.int16, np.int32):
            if _fits(raw, intercept, dtype, bounds):
                if intercept == 0 and raw.dtype == dtype:
                    return raw
                if inplace and raw.dtype.kind in "iu" and raw.dtype.itemsize == np.dtype(dtype).itemsize:
                    # Same width (uint16 -> int16, say): reinterpret the bits; the add below wraps modulo
                    # 2**bits, which gives the exact result because that result fits ``dtype``.
                    out = raw.view(dtype)
                else:
                    out = raw.astype(dtype)
                if intercept:
                    out += dtype(intercept)
                return out
    if same:
        slope, intercept = np.float32(slopes[0]), np.float32(intercepts[0])
    else:
        slope = slopes.astype(np.float32)[:, None, None]
        intercept = intercepts.astype(np.float32)[:, None, None]
    # Cast and scale in one pass: the float32 loop casts raw exactly as astype(np.float32) does.
    out = raw.astype(np.float32) if same and slope == 1 else np.multiply(raw, slope, dtype=np.float32)
    if not same or intercept != 0:
        out += intercept
    return out
