"""Dice / Jaccard against SimpleITK, HD / HD95 / ASSD against SimpleITK and MONAI, on the sarcoma GTVs."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from conftest import SAMPLE, STS_002, require_tool
from medseg_app.core.overlap_metrics import compare_masks, correction_audit, dice_and_jaccard, surface_distances
from medseg_app.core.sparse_mask import SparseMask
from medseg_app.io.image_files import read_image_file


def _mask(case, modality):
    labels = read_image_file(case / modality / "nifti" / "mask" / "mask.nii.gz")
    return labels.array > 0, labels.geometry


CT, CT_GEOMETRY = _mask(SAMPLE, "CT")
SPACING_KJI = CT_GEOMETRY.spacing[::-1]


def _ball(radius_mm, spacing_kji):
    reach = [int(radius_mm // s) for s in spacing_kji]
    grid = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    return sum((g * s) ** 2 for g, s in zip(grid, spacing_kji)) <= radius_mm ** 2


def _pairs():
    """Same-grid pairs: the CT GTV against a 4 mm margin, a 3 mm erosion and a shifted copy of itself."""
    grown = ndimage.binary_dilation(CT, _ball(4.0, SPACING_KJI))
    eroded = ndimage.binary_erosion(CT, _ball(3.0, SPACING_KJI))
    shifted = np.roll(CT, (1, 3, -2), axis=(0, 1, 2))
    return {"margin": grown, "eroded": eroded, "shifted": shifted}


PAIRS = _pairs()


def _sitk(mask):
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    image.SetSpacing([float(s) for s in CT_GEOMETRY.spacing])
    return image


@pytest.mark.parametrize("name", list(PAIRS))
def test_dice_jaccard_and_hausdorff_match_simpleitk(name):
    other = PAIRS[name]
    ours = compare_masks(SparseMask.from_dense(CT), SparseMask.from_dense(other), SPACING_KJI)
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(_sitk(CT), _sitk(other))
    assert ours["dice"] == pytest.approx(overlap.GetDiceCoefficient(), abs=1e-6)
    assert ours["jaccard"] == pytest.approx(overlap.GetJaccardCoefficient(), abs=1e-6)
    hausdorff = sitk.HausdorffDistanceImageFilter()
    hausdorff.Execute(_sitk(CT), _sitk(other))
    assert ours["hd_mm"] == pytest.approx(hausdorff.GetHausdorffDistance(), abs=0.01)
    assert 0 < ours["dice"] < 1


@pytest.mark.parametrize("name", list(PAIRS))
def test_surface_distances_match_monai(name):
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("monai.metrics")
    other = PAIRS[name]
    one_hot = lambda m: torch.from_numpy(np.stack([~m, m])[None])  # noqa: E731
    spacing = [float(s) for s in SPACING_KJI]
    hd95 = float(metrics.compute_hausdorff_distance(one_hot(CT), one_hot(other), percentile=95, spacing=spacing))
    hd = float(metrics.compute_hausdorff_distance(one_hot(CT), one_hot(other), spacing=spacing))
    assd = float(metrics.compute_average_surface_distance(one_hot(CT), one_hot(other), symmetric=True,
                                                          spacing=spacing))
    ours = compare_masks(CT, other, SPACING_KJI)  # dense arrays this time
    assert ours["hd95_mm"] == pytest.approx(hd95, abs=0.01)
    a_to_b, b_to_a = surface_distances(CT, other, SPACING_KJI)
    assert max(a_to_b.max(), b_to_a.max()) == pytest.approx(hd, abs=0.01)  # MONAI's HD: the surface maximum
    assert ours["assd_mm"] == pytest.approx(assd, abs=0.01)


def test_sts_002_ct_and_mr_masks_on_their_own_grids():
    """Two different grids cannot be compared voxel-wise; each mask against itself is perfect."""
    for modality in ("CT", "MR_T1"):
        mask, geometry = _mask(STS_002, modality)
        same = compare_masks(mask, SparseMask.from_dense(mask), geometry.spacing[::-1])
        assert same["dice"] == 1.0 and same["hd_mm"] == 0.0 and same["volume_diff_ml"] == 0.0
    with pytest.raises(ValueError, match="different grids"):
        compare_masks(_mask(STS_002, "CT")[0], _mask(STS_002, "MR_T1")[0], (3.27, 0.977, 0.977))


def test_volume_difference_is_segment_minus_reference():
    grown = PAIRS["margin"]
    voxel_ml = float(np.prod(SPACING_KJI)) / 1000
    result = compare_masks(CT, grown, SPACING_KJI)
    assert result["volume_diff_ml"] == pytest.approx((CT.sum() - grown.sum()) * voxel_ml)
    assert result["volume_diff_percent"] == pytest.approx(100 * (CT.sum() - grown.sum()) / grown.sum())
    assert result["volume_diff_ml"] < 0


def test_empty_masks_give_undefined_metrics():
    empty = np.zeros_like(CT)
    assert dice_and_jaccard(empty, empty) == (None, None)
    result = compare_masks(CT, empty, SPACING_KJI)
    assert result["dice"] == 0.0 and result["hd95_mm"] is None and result["volume_diff_percent"] is None


def test_correction_audit_counts_added_and_removed_volume():
    proposal = SparseMask.from_dense(CT)
    corrected = CT.copy()
    corrected[20:22] = False                      # removed two slices of the GTV
    corrected[30, 100:110, 100:110] |= True        # added a patch (part may already be inside)
    added = int((corrected & ~CT).sum())
    removed = int((CT & ~corrected).sum())
    voxel_ml = float(np.prod(SPACING_KJI)) / 1000
    audit = correction_audit(proposal, SparseMask.from_dense(corrected), SPACING_KJI)
    assert removed > 0
    assert audit["added_ml"] == pytest.approx(added * voxel_ml)
    assert audit["removed_ml"] == pytest.approx(removed * voxel_ml)
    assert audit["dice"] == pytest.approx(2 * (CT & corrected).sum() / (CT.sum() + corrected.sum()))
    assert audit["hd95_mm"] >= 0


def test_plastimatch_dice_agrees():
    plastimatch = require_tool("plastimatch")
    other = PAIRS["shifted"]
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, mask in (("a", CT), ("b", other)):
            image = _sitk(mask)
            image.SetOrigin([float(v) for v in CT_GEOMETRY.origin])
            paths.append(str(Path(folder) / f"{name}.nii.gz"))
            sitk.WriteImage(image, paths[-1])
        out = subprocess.run([plastimatch, "dice", "--dice", *paths], capture_output=True, text=True,
                             timeout=60).stdout
    match = re.search(r"DICE:\s*([0-9.]+)", out)
    assert match, out
    assert compare_masks(CT, other, SPACING_KJI)["dice"] == pytest.approx(float(match.group(1)), abs=1e-5)


@pytest.mark.parametrize("spacing", [(0.7, 1.0, 1.0), (1.0, 0.7, 1.0), (2.5, 0.7, 2.5), (0.7, 1.0, 3.0)])
def test_surface_distances_equal_a_brute_force_search_on_anisotropic_grids(spacing):
    """Exact nearest-surface distances, near (offsets; 3 × 0.7 mm once fell through a rounding gap) and far
    (the k-d tree on the targets its sampled bounds keep)."""
    from scipy.spatial import cKDTree

    from medseg_app.core.overlap_metrics import surface_voxels

    rng = np.random.default_rng(3)
    a = ndimage.gaussian_filter(rng.random((40, 90, 90)), 3) > 0.5
    b = ndimage.gaussian_filter(rng.random((40, 90, 90)), 3) > 0.53
    a_to_b, b_to_a = surface_distances(a, b, spacing)
    points_a, points_b = surface_voxels(a) * spacing, surface_voxels(b) * spacing
    np.testing.assert_allclose(a_to_b, cKDTree(points_b).query(points_a)[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(b_to_a, cKDTree(points_a).query(points_b)[0], rtol=0, atol=1e-9)
    assert a_to_b.max() > 6 * min(spacing)  # some voxels were beyond the offsets' reach
