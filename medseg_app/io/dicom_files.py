"""Reading a DICOM file, with or without its 128-byte preamble and ``DICM`` marker.

PS3.10 files start with a preamble, ``DICM`` and the group 0002 file meta; older systems (and pydicom's own
``rtstruct.dcm`` test file) write the dataset alone, from its first tag. pydicom refuses those unless told to
``force``, and forcing it on any file would take a text file or random bytes for a damaged dataset. So a file
without the marker is read only when its first bytes are a dataset's first element: a group 0002 or 0008 tag
(little endian) followed by a valid explicit VR, or by an implicit-VR length that fits in the file. Everything
else stays "not a DICOM file".
"""

from __future__ import annotations

import os
import struct

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

_VRS = {vr.encode() for vr in (
    "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split())}
_FIRST_GROUPS = (0x0002, 0x0008)


def starts_with_dataset(head: bytes, size: int) -> bool:
    """Whether ``head`` (a file's first bytes; the file is ``size`` bytes) begins a DICOM dataset with no preamble."""
    if len(head) < 8:
        return False
    group, _element = struct.unpack("<HH", head[:4])
    if group not in _FIRST_GROUPS:
        return False
    if head[4:6] in _VRS:
        return True
    (length,) = struct.unpack("<I", head[4:8])
    return 8 + length <= size  # never undefined (0xFFFFFFFF): no dataset starts with a sequence


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
    return starts_with_dataset(head[:8], size)


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
            source.seek(position)
            head = source.read(8)
            size = os.fstat(source.fileno()).st_size if hasattr(source, "fileno") else len(head) + 8
            source.seek(position)
            bare = starts_with_dataset(head, size)
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
