"""Which DICOM objects are images MedSeg can load, and what the others are called in listings."""

from __future__ import annotations

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"

# SOP Class UID -> short kind name for objects that hold no loadable image volume.
NON_IMAGE_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.481.3": "RTSTRUCT",
    "1.2.840.10008.5.1.4.1.1.481.5": "RTPLAN",
    "1.2.840.10008.5.1.4.1.1.481.8": "RTPLAN",  # RT Ion Plan
    "1.2.840.10008.5.1.4.1.1.481.2": "RTDOSE",
    "1.2.840.10008.5.1.4.1.1.481.4": "RTRECORD",
    "1.2.840.10008.5.1.4.1.1.481.6": "RTRECORD",
    "1.2.840.10008.5.1.4.1.1.481.7": "RTRECORD",
    "1.2.840.10008.5.1.4.1.1.481.9": "RTRECORD",
    "1.2.840.10008.5.1.4.1.1.66.4": "SEG",
    "1.2.840.10008.5.1.4.1.1.66.1": "REG",
    "1.2.840.10008.5.1.4.1.1.66.3": "REG",
    "1.2.840.10008.5.1.4.1.1.66": "RAW",
    "1.2.840.10008.5.1.4.1.1.11.1": "PR",
    "1.2.840.10008.5.1.4.1.1.88.59": "KO",
    "1.2.840.10008.5.1.4.1.1.104.1": "PDF",
}

NON_IMAGE_MODALITIES = {
    "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "RTIMAGE", "SEG", "SR", "PR", "KO", "REG", "RWV", "DOC",
}

STRUCTURED_REPORT_PREFIX = "1.2.840.10008.5.1.4.1.1.88."


def non_image_kind(sop_class_uid: str, modality: str) -> str | None:
    """The listing name of a non-image object, or None when the object may be an image."""
    if sop_class_uid in NON_IMAGE_SOP_CLASSES:
        return NON_IMAGE_SOP_CLASSES[sop_class_uid]
    if sop_class_uid.startswith(STRUCTURED_REPORT_PREFIX):
        return "SR"
    if modality in NON_IMAGE_MODALITIES:
        return modality
    return None
