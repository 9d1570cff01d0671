"""Where a threshold range comes from: SimpleITK's automatic histogram methods, or a named preset.

Automatic methods run on a strided sample of at most ``SAMPLE_VOXELS`` voxels (every voxel for a volume that
small), with SimpleITK's default bin counts, so on such volumes the value equals SimpleITK's own filter.
SimpleITK does not offer ImageJ's "Minimum" method (ITK's IntermodesThreshold has it only behind a flag
SimpleITK does not expose), so it is not listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

SAMPLE_VOXELS = 4_000_000

AUTOMATIC_FILTERS = {
    "otsu": sitk.OtsuThresholdImageFilter,
    "huang": sitk.HuangThresholdImageFilter,
    "isodata": sitk.IsoDataThresholdImageFilter,
    "li": sitk.LiThresholdImageFilter,
    "max_entropy": sitk.MaximumEntropyThresholdImageFilter,
    "moments": sitk.MomentsThresholdImageFilter,
    "renyi_entropy": sitk.RenyiEntropyThresholdImageFilter,
    "shanbhag": sitk.ShanbhagThresholdImageFilter,
    "triangle": sitk.TriangleThresholdImageFilter,
    "yen": sitk.YenThresholdImageFilter,
    "intermodes": sitk.IntermodesThresholdImageFilter,
    "kittler_illingworth": sitk.KittlerIllingworthThresholdImageFilter,
}
AUTOMATIC_METHODS = tuple(AUTOMATIC_FILTERS)


def histogram_sample(image: np.ndarray, max_voxels: int = SAMPLE_VOXELS) -> np.ndarray:
    """Every n-th voxel along each axis, n the smallest stride that keeps the sample within ``max_voxels``."""
    stride = max(1, math.ceil((image.size / max_voxels) ** (1 / 3))) if image.size else 1
    return np.ascontiguousarray(image[::stride, ::stride, ::stride])


def automatic_threshold(image: np.ndarray, method: str, max_voxels: int = SAMPLE_VOXELS) -> float:
    """The threshold SimpleITK's ``method`` filter computes on a sample of ``image`` (intensity units).

    ITK labels voxels at or below it as "inside"; the bright side is everything above it.
    """
    if method not in AUTOMATIC_FILTERS:
        raise ValueError(f"unknown automatic threshold method {method!r}; choose one of {', '.join(AUTOMATIC_METHODS)}")
    sample = histogram_sample(image, max_voxels)
    if sample.dtype == bool or sample.dtype == np.float16:
        sample = sample.astype(np.float32)
    if sample.dtype.kind == "f" and not np.isfinite(sample).all():  # a layer's outside (NaN): not in the histogram
        sample = sample[np.isfinite(sample)].reshape(1, 1, -1)
        if sample.size == 0:
            raise ValueError(f"the {method} method found no values to work on (the source layer covers none)")
    calculator = AUTOMATIC_FILTERS[method]()
    try:
        calculator.Execute(sitk.GetImageFromArray(sample))
    except RuntimeError as exc:
        raise ValueError(f"the {method} method found no threshold in this image's histogram ({exc})") from None
    return float(calculator.GetThreshold())


@dataclass(frozen=True)
class Preset:
    label: str
    units: str  # the volume units it needs
    lower: float | None
    upper: float | None = None  # None: up to the image's maximum
    fraction_of_max: float | None = None  # lower = this × SUVmax (PET)


PRESETS = {
    # Materialise Mimics' predefined "Bone (CT)" threshold starts at 226 HU (its upper end, 3071, is the top of
    # the 12-bit CT scale; we keep everything above so that dense cortex and implants in extended-scale images stay).
    "ct_bone": Preset("CT bone (≥ 226 HU)", "HU", 226.0),
    # Aerated lung: −1000 to −400 HU, the range conventionally used for the lung parenchyma mask in quantitative
    # lung CT; −400 HU leaves out vessels, airway walls and consolidation.
    "ct_lung": Preset("CT lung (−1000 to −400 HU)", "HU", -1000.0, -400.0),
    # Skeletal muscle / lean soft tissue: −29 to +150 HU (Mitsiopoulos et al., J Appl Physiol 1998;85:115–122,
    # the range body-composition CT analysis uses).
    "ct_soft_tissue": Preset("CT soft tissue (−29 to 150 HU)", "HU", -29.0, 150.0),
    # Adipose tissue: −190 to −30 HU (Yoshizumi et al., Radiology 1999;211:283–286).
    "ct_fat": Preset("CT fat (−190 to −30 HU)", "HU", -190.0, -30.0),
    # Fixed SUV 2.5, the classic cut-off between benign and malignant FDG uptake.
    "pet_suv_2_5": Preset("PET SUV ≥ 2.5", "SUV", 2.5),
    # Fixed-fraction isocontour of SUVmax for the metabolic tumour volume: 41 % in the EANM FDG PET/CT guideline
    # 2.0 (Boellaard et al., EJNMMI 2015;42:328–354), 40 % as commonly rounded. SUVmax is taken within the
    # segment being edited when it is not empty (the lesion a user outlined roughly), else in the whole volume.
    "pet_40_percent_suvmax": Preset("PET ≥ 40 % of SUVmax", "SUV", None, fraction_of_max=0.40),
    # 50 % of SUVmax: the other fixed fraction in common use (e.g. the PERCIST-era MTV50 and many radiomics studies).
    "pet_50_percent_suvmax": Preset("PET ≥ 50 % of SUVmax", "SUV", None, fraction_of_max=0.50),
}
