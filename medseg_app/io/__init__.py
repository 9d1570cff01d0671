"""Reading images from disk: DICOM series (single- and multi-frame), NIfTI, NRRD, MetaImage."""

from .load import list_series, load_volume, scan

__all__ = ["list_series", "load_volume", "scan"]
