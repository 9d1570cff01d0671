"""Reading a DICOM file, with or without its 128-byte preamble and ``DICM`` marker.

PS3.10 files start with a preamble, ``DICM`` and the group 0002 file meta; older systems (and pydicom's own
``rtstruct.dcm`` test file) write the dataset alone, from its first tag. pydicom refuses those unless told to
``force``, and forcing it on any file would take a text file or random bytes for a damaged dataset. So a file
without the marker is read only when its first bytes are a dataset's first element: a group 0002 or 0008 tag
(little endian) followed by a valid explicit VR and a value length that fits in the file (for the 4-byte-length
VRs, after two zero bytes), or by an implicit-VR length that fits in the file. Everything else stays "not a DICOM
file".
"""

from __future__ import annotations

import os
import struct

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

_SHORT_VRS = {vr.encode() for vr in "AE AS AT CS DA DS DT FD FL IS LO LT PN SH SL SS ST TM UI UL US".split()}
_LONG_VRS = {vr.encode() for vr in "OB OD OF OL OV OW SQ SV UC UN UR UT UV".split()}  # 2 reserved bytes, 4-byte length
_FIRST_GROUPS = (0x0002, 0x0008)
HEAD_BYTES = 12  # what :func:`starts_with_dataset` looks at


def starts_with_dataset(head: bytes, size: int) -> bool:
    """Whether ``head`` (a file's first :data:`HEAD_BYTES` bytes; the file is ``size`` bytes) begins a DICOM
    dataset with no preamble: its first element's tag, VR (explicit) and length all make sense."""
    if len(head) < 8:
        return False
    group, _element = struct.unpack("<HH", head[:4])
    if group not in _FIRST_GROUPS:
        return False
    vr = head[4:6]
    if vr in _SHORT_VRS:
        (length,) = struct.unpack("<H", head[6:8])
        return 8 + length <= size
    if vr in _LONG_VRS:
        if len(head) < 12 or head[6:8] != b"\0\0":
            return False
        (length,) = struct.unpack("<I", head[8:12])
        return 12 + length <= size  # never undefined (0xFFFFFFFF): no dataset starts with a sequence
    (length,) = struct.unpack("<I", head[4:8])  # implicit VR
    return 8 + length <= size


def has_bare_dataset(path) -> bool:
    """A file with no DICM marker after 128 bytes that begins with a dataset (see :func:`starts_with_dataset`)."""
    try:
        with open(path, "rb") as fp:
            head = fp.read(132)
            size = os.fstat(fp.fileno()).st_size
    except OSError:
        return False
    if len(head) >= 132 and head[128:132] == b"DICM":
        return False
    return starts_with_dataset(head[:HEAD_BYTES], size)


def read_dicom(source, **kwargs) -> pydicom.Dataset:
    """``pydicom.dcmread(source, **kwargs)`` that also reads a file without a preamble that begins with a dataset.

    ``source`` is a path or a binary file opened at its start. A dataset read without file meta gets a Transfer
    Syntax UID from the encoding pydicom found, so the pixel readers know how its values are stored.
    """
    position = source.tell() if hasattr(source, "tell") else None
    try:
        return pydicom.dcmread(source, **kwargs)
    except InvalidDicomError:
        if position is not None:
            size = source.seek(0, os.SEEK_END) - position
            source.seek(position)
            bare = starts_with_dataset(source.read(HEAD_BYTES), size)
            source.seek(position)
        else:
            bare = has_bare_dataset(source)
        if not bare:
            raise
    ds = pydicom.dcmread(source, force=True, **kwargs)
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        meta = meta if meta is not None else pydicom.dataset.FileMetaDataset()
        implicit, little = getattr(ds, "original_encoding", (True, True))
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                  ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        ds.file_meta = meta
    return ds


__all__ = ["has_bare_dataset", "read_dicom", "starts_with_dataset"]
