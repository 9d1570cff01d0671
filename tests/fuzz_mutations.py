"""Damage for the fuzz tests (tests/test_fuzz_loaders.py): byte mutations, and tables of wrong, missing, huge,
zero, negative and NaN values for DICOM tags, NIfTI header fields and NRRD header lines."""

from __future__ import annotations

import struct
from io import BytesIO

import pydicom
from hypothesis import strategies as st


@st.composite
def byte_mutation(draw, data: bytes, header_bytes: int = 2048):
    """Truncation, bit flips or overwritten runs, biased towards the header."""
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, n - 1))]
    out = bytearray(data)
    limit = draw(st.sampled_from([min(header_bytes, n), n])) - 1
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, limit))
        if kind == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        else:
            run = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff", b"\x80"]))
            out[pos: pos + len(run)] = run
    return bytes(out)


_NAN, _INF = float("nan"), float("inf")
DICOM_EDITS = {
    "Rows": [0, 1, 7, 513, 65535, None],
    "Columns": [0, 1, 7, 511, 65535, None],
    "BitsAllocated": [0, 1, 8, 12, 32, 64, None],
    "BitsStored": [0, 1, 17, 32, None],
    "PixelRepresentation": [1, 2, None],
    "SamplesPerPixel": [0, 3, None],
    "PixelSpacing": [[0, 0], [-1, 1], [_NAN, _NAN], [_INF, 1], [1e30, 1e30], [1], None],
    "ImagePositionPatient": [[_NAN, 0, 0], [0, 0, _INF], [1e30, 0, -1e30], [0, 0], None],
    "ImageOrientationPatient": [[0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], [_NAN] * 6, [1, 0, 0], None],
    "NumberOfFrames": [0, 2, 1000, 2**31 - 1, None],
    "SliceThickness": [0, -5, _NAN, None],
    "RescaleSlope": [0, _NAN, _INF, -1e30, None],
    "RescaleIntercept": [_NAN, 1e30, None],
    "SOPClassUID": ["1.2.840.10008.5.1.4.1.1.66.4", "1.2.3", None],
    "Modality": ["PT", "RTSTRUCT", "SEG", None],
    "PixelData": [b"", b"\x00" * 10, None],
    "FrameOfReferenceUID": ["1.2.3", None],
    "SeriesInstanceUID": [None],
}


def edit_dataset(ds: pydicom.Dataset, edits: list[tuple[str, object]]) -> bytes | None:
    for keyword, value in edits:
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    buffer = BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=False)
    except Exception:  # noqa: BLE001 - pydicom will not write every nonsense value: then there is no case
        return None
    return buffer.getvalue()


def dicom_edits(keys=tuple(DICOM_EDITS)):
    pair = st.sampled_from(list(keys)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(DICOM_EDITS[k])))
    return st.lists(pair, min_size=1, max_size=3)


NIFTI_FIELDS = {  # offset, struct format, values
    "dim0": (40, "<h", [0, 2, 5, 8, -1]),
    "dim1": (42, "<h", [0, -1, 1, 4000, 32767]),
    "dim2": (44, "<h", [0, -1, 4000, 32767]),
    "dim3": (46, "<h", [0, -3, 4000, 32767]),
    "datatype": (70, "<h", [0, 1, 2, 16, 64, 128, 2304, 999]),
    "bitpix": (72, "<h", [0, 1, 64]),
    "pixdim1": (80, "<f", [0.0, -1.0, _NAN, _INF, 1e30]),
    "pixdim3": (88, "<f", [0.0, -2.5, _NAN]),
    "vox_offset": (108, "<f", [0.0, 348.0, 1e9, -1.0, _NAN]),
    "scl_slope": (112, "<f", [0.0, _NAN, _INF]),
    "qform_code": (252, "<h", [0, 1, 99]),
    "sform_code": (254, "<h", [0, 1, 99]),
    "quatern_b": (256, "<f", [_NAN, 2.0]),
    "srow_x0": (280, "<f", [0.0, _NAN, _INF]),
    "srow_z3": (324, "<f", [_NAN, 1e38]),
    "sizeof_hdr": (0, "<i", [0, 540, -1]),
}


NRRD_LINES = {
    "sizes:": ["sizes: 4000 4000 4000", "sizes: 0 32 8", "sizes: -1 32 8", "sizes: 32 32", "sizes: x y z",
               "sizes: 99999999999 2 2"],
    "space directions:": ["space directions: (0,0,0) (0,1,0) (0,0,1)", "space directions: (nan,0,0) (0,1,0) (0,0,1)",
                          "space directions: (-1,0,0) (0,0,0) (0,0,1)", "space directions: none"],
    "type:": ["type: double", "type: block", "type: int64", "type: nonsense"],
    "encoding:": ["encoding: gzip", "encoding: ascii", "encoding: bzip2", "encoding: hex"],
    "dimension:": ["dimension: 2", "dimension: 4", "dimension: 0", "dimension: 17"],
    "space origin:": ["space origin: (nan,nan,nan)", "space origin: (1e308,0,0)", "space origin: ("],
    "endian:": ["endian: big", "endian: middle"],
    "kinds:": ["kinds: domain domain", "kinds: RGB-color domain domain", "kinds: nonsense nonsense nonsense"],
    "byte skip:": ["byte skip: -1", "byte skip: 99999999", "byte skip: x"],
    "line skip:": ["line skip: 3", "line skip: -1"],
    "data file:": ["data file: crop.nrrd", "data file: missing.raw", "data file: LIST", "data file: ../../.."],
}


def edit_nifti(data: bytes, edits: list[tuple[str, object]]) -> bytes:
    out = bytearray(data)
    for name, value in edits:
        offset, fmt, _ = NIFTI_FIELDS[name]
        struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def edit_nrrd(data: bytes, lines: list[str]) -> bytes:
    """Replace header lines by field (a field the header lacks is added)."""
    header, _, body = data.partition(b"\n\n")
    text = header.decode("latin-1").split("\n")
    for line in lines:
        field = line.split(":")[0] + ":"
        at = [n for n, old in enumerate(text) if old.startswith(field)]
        if at:
            text[at[0]] = line
        else:
            text.append(line)
    return "\n".join(text).encode("latin-1") + b"\n\n" + body


def table_edits(table: dict, make) -> st.SearchStrategy:
    pair = st.sampled_from(list(table)).flatmap(lambda k: st.sampled_from(make(k)))
    return st.lists(pair, min_size=1, max_size=3)
