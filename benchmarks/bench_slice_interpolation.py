"""Fill between slices, morphological mode (Albu et al.) against the distance-based one, on real masks drawn on every
5th axial slice (the first and last slices of the mask always drawn), through ``SegmentEditor``.

``slice_interpolation_dice``: the mean Dice against the full reference mask over the TotalSegmentator example's
liver and spleen (label 5 and 1 of ``example_seg.nii.gz``) and a BraTS 2013 whole tumour (``OTMultiClass > 0`` of
``test/brats_2013_pat0001_1``); ours: morphological, peer: distance-based. Each case's Dice pair is printed to
stderr. ``slice_interpolation_liver``: the seconds of one fill of the liver drawn every 5th slice, morphological
against distance-based. ``slice_interpolation_itk_dice``: the same mean Dice, ours (morphological) against ITK's
MorphologicalContourInterpolator itself, when ``itk-morphologicalcontourinterpolation`` is importable (it is no
dependency of MedSeg: 1.6 GB with ITK; ``pip install --target DIR`` it and put DIR on ``MEDSEG_ITK_PATH``; run it
alone: with ITK 5.4.7's bundled libraries loaded, the process was seen to abort in malloc at exit, after its row).

Measured (every 5th slice; Dice distance / ours / ITK's filter): STS_002 GTV 0.892 / 0.911 / 0.900, STS_001 GTV
0.959 / 0.967 / 0.947, liver 0.948 / 0.967 / 0.963, spleen 0.918 / 0.954 / 0.953, BraTS pat0001 0.934 / 0.943 /
0.947 (ITK's filter does better on the brain tumour).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, Skip, benchmark

TOTALSEG = "totalsegmentator_examples"
BRATS = "brats2013_deepmedic/test/brats_2013_pat0001_1"
STEP = 5


def _drawn_every(mask: np.ndarray, step: int = STEP) -> np.ndarray:
    occupied = np.flatnonzero(mask.any(axis=(1, 2)))
    chosen = list(range(occupied[0], occupied[-1] + 1, step))
    if chosen[-1] != occupied[-1]:
        chosen.append(int(occupied[-1]))
    drawn = np.zeros_like(mask)
    drawn[chosen] = mask[chosen]
    return drawn


def _fill(volume, drawn: np.ndarray, method: str) -> np.ndarray:
    from medseg_app.tools.editor import SegmentEditor

    editor = SegmentEditor(volume)
    editor.add_segment("Drawn", mask=drawn)
    editor.run("slice_interpolation", method=method, slice_axis=2)
    return editor.mask()


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum()))


def _cases(data: Path):
    from medseg_app.io.load import load_volume

    ct = load_volume(data / TOTALSEG / "example_ct_sm.nii.gz")
    labels = load_volume(data / TOTALSEG / "example_seg.nii.gz").array
    flair = load_volume(data / BRATS / "Flair_subtrMeanDivStd.nii.gz")
    tumour = load_volume(data / BRATS / "OTMultiClass.nii.gz").array > 0
    return [("liver", ct, labels == 5), ("spleen", ct, labels == 1), ("BraTS pat0001 tumour", flair, tumour)]


@benchmark("slice_interpolation_dice", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz",
                                              f"{BRATS}/OTMultiClass.nii.gz"])
def slice_interpolation_dice(data: Path):
    """Fill between slices (every 5th slice drawn): mean Dice, morphological vs distance-based."""
    cases = _cases(data)
    scores: dict[str, list[float]] = {}

    def mean_dice(method: str) -> float:
        if method not in scores:
            scores[method] = [_dice(_fill(volume, _drawn_every(mask), method), mask) for _name, volume, mask in cases]
            print(f"slice_interpolation_dice {method}: " + ", ".join(
                f"{name} {score:.3f}" for (name, _v, _m), score in zip(cases, scores[method])), file=sys.stderr)
        return float(np.mean(scores[method]))

    yield Case(ours=lambda: mean_dice("morphological"), peer=lambda: mean_dice("distance"),
               peer_name="distance", unit="Dice", timed=False)


@benchmark("slice_interpolation_liver", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz"])
def slice_interpolation_liver(data: Path):
    """Fill between slices on the liver drawn every 5th slice: seconds, morphological vs distance-based."""
    _name, volume, liver = _cases(data)[0]
    drawn = _drawn_every(liver)
    yield Case(ours=lambda: _fill(volume, drawn, "morphological"), peer=lambda: _fill(volume, drawn, "distance"),
               peer_name="distance")


def _itk_interpolated(drawn: np.ndarray, spacing_kji) -> np.ndarray:
    import itk

    image = itk.image_from_array(drawn.astype(np.uint8))
    image.SetSpacing([float(v) for v in np.asarray(spacing_kji)[::-1]])
    interpolator = itk.MorphologicalContourInterpolator.New(image)
    interpolator.SetAxis(2)  # ITK's axis 2: the k (axial slice) axis
    interpolator.Update()
    return itk.array_from_image(interpolator.GetOutput()) > 0


@benchmark("slice_interpolation_itk_dice", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz",
                                                  f"{BRATS}/OTMultiClass.nii.gz"])
def slice_interpolation_itk_dice(data: Path):
    """Fill between slices (every 5th slice drawn): mean Dice, ours (morphological) vs ITK's own filter."""
    if os.environ.get("MEDSEG_ITK_PATH"):
        sys.path.append(os.environ["MEDSEG_ITK_PATH"])  # after site-packages: MedSeg's numpy stays the one used
    try:
        import itk  # noqa: F401
    except ImportError as exc:
        raise Skip("itk-morphologicalcontourinterpolation is not installed (see the module docstring)") from exc
    cases = _cases(data)

    def ours() -> float:
        return float(np.mean([_dice(_fill(v, _drawn_every(m), "morphological"), m) for _n, v, m in cases]))

    def itk_filter() -> float:
        return float(np.mean([_dice(_itk_interpolated(_drawn_every(m), v.geometry.spacing[::-1]), m)
                              for _n, v, m in cases]))

    yield Case(ours=ours, peer=itk_filter, peer_name="ITK MCI", unit="Dice", timed=False)
