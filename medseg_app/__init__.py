"""MedSeg: segmentation and review of CT, MR and PET studies for radiology and radiation oncology."""

__version__ = "0.1.0"
