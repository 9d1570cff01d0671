"""Overlap metrics on two large masks on a 512×512×300 grid, against SimpleITK and MONAI.

On the CT-like volume of bench_segment_grow (LUNG1-001 tiled to 300 slices, or its synthetic phantom):
dice_large compares the body (> −500 HU) with a slightly different body (> −300 HU, one slice shifted), about
20 M voxels each; hd95_large compares the same two whole-body masks (1.4 M surface voxels each, the worst
case), hd95_organ the same thresholds inside an organ-sized block (200 × 200 × 100 voxels, ≈ 4 L of tissue).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.bench_segment_grow import ct_like_volume
from benchmarks.registry import Case, Skip, benchmark

_cache: dict[str, object] = {}


def _body_masks(data: Path):
    if "masks" not in _cache:
        volume, _ = ct_like_volume(data)
        a = volume.array > -500
        b = np.roll(volume.array > -300, 1, axis=0)
        _cache["masks"] = volume, a, b
    return _cache["masks"]


def _close(name: str, tolerance: float):
    def verify(ours, theirs):
        if abs(ours - theirs) > tolerance:
            raise AssertionError(f"{name}: ours {ours} vs peer {theirs}")
    return verify


@benchmark("dice_large")
def dice_large(data: Path):
    """Dice of two ~20 M-voxel body masks (dense bool arrays): dice_and_jaccard vs SimpleITK LabelOverlapMeasures."""
    import SimpleITK as sitk

    from medseg_app.core.overlap_metrics import dice_and_jaccard

    _, a, b = _body_masks(data)
    image_a, image_b = sitk.GetImageFromArray(a.view(np.uint8)), sitk.GetImageFromArray(b.view(np.uint8))

    def peer():
        overlap = sitk.LabelOverlapMeasuresImageFilter()
        overlap.Execute(image_a, image_b)
        return overlap.GetDiceCoefficient()

    yield Case(ours=lambda: dice_and_jaccard(a, b)[0], peer=peer, peer_name="SimpleITK", verify=_close("dice", 1e-9))


ORGAN_BLOCK = (slice(100, 200), slice(150, 350), slice(150, 350))


def _organ_masks(data: Path):
    if "organ" not in _cache:
        volume, a, b = _body_masks(data)
        organ_a, organ_b = np.zeros_like(a), np.zeros_like(b)
        organ_a[ORGAN_BLOCK], organ_b[ORGAN_BLOCK] = a[ORGAN_BLOCK], b[ORGAN_BLOCK]
        _cache["organ"] = volume, organ_a, organ_b
    return _cache["organ"]


@benchmark("hd95_organ")
def hd95_organ(data: Path):
    """HD95 of two organ-sized masks on the 512×512×300 grid: compare_masks vs MONAI compute_hausdorff_distance."""
    yield from _hd95_case(*_organ_masks(data))


@benchmark("hd95_large")
def hd95_large(data: Path):
    """HD95 of the two ~20 M-voxel body masks of dice_large: compare_masks' surface distances vs MONAI."""
    yield from _hd95_case(*_body_masks(data))


def _hd95_case(volume, a, b):
    try:
        import torch
        from monai.metrics import compute_hausdorff_distance
    except ImportError as exc:
        raise Skip(f"MONAI is not installed ({exc})") from None

    from medseg_app.core.overlap_metrics import surface_distances

    spacing_kji = [float(s) for s in volume.spacing[::-1]]
    one_hot = lambda m: torch.from_numpy(np.stack([~m, m])[None])

    def ours():
        a_to_b, b_to_a = surface_distances(a, b, spacing_kji)
        return float(max(np.percentile(a_to_b, 95), np.percentile(b_to_a, 95)))

    def peer():
        return float(compute_hausdorff_distance(one_hot(a), one_hot(b), percentile=95, spacing=spacing_kji))

    yield Case(ours=ours, peer=peer, peer_name="MONAI", verify=_close("hd95", 0.01))
