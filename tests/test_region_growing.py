"""Region growing on real CT: equal voxel for voxel to an independent reference, cropped, cancellable."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import SimpleITK as sitk

from conftest import IN_CI, REPO, SAMPLE, series_dir
from medseg_app.core.box import Box
from medseg_app.core.segmentation import Segmentation
from medseg_app.io.load import load_volume
from medseg_app.tools.base import EditContext
from medseg_app.tools.cancellation import ToolCancelled
from medseg_app.tools.intensity_mask import image_bounds
from medseg_app.tools.region_growing import CompetitiveGrowingTool, RegionGrowingTool

SHARED_DATA = REPO.parent / "shared" / "data"
LUNG1 = SHARED_DATA / "nsclc_lung1_001" / "LUNG1-001" / "image"
LUNG_SEED = (197, 171, 67)  # (i, j, k): right lung parenchyma, slice 67 of LUNG1-001
BONE_SEED = (155, 69, 30)  # sample CT: cortical bone
MUSCLE_SEED = (85, 137, 30)  # sample CT: thigh muscle


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(SAMPLE, "CT"))


@pytest.fixture(scope="module")
def lung_ct():
    if not LUNG1.is_dir():
        if IN_CI:
            pytest.fail(f"{LUNG1} is missing; CI must provide the shared data beside the clone")
        pytest.skip(f"shared data not found: {LUNG1}")
    return load_volume(LUNG1)


def _grow(volume, seeds, **values):
    seg = Segmentation(volume.geometry)
    segment = seg.add_segment("Grown")
    tool = RegionGrowingTool(**values)
    tool.activate(EditContext(volume, seg, segment.id))
    return tool, seg, segment, tool.preview(seeds=seeds)


def _dense(shape, box, region):
    out = np.zeros(shape, bool)
    out[box.slices] = region
    return out


def _reference_label(image, seeds, lower, upper, connectivity):
    """scipy's labelling of the range mask, keeping the labels at the seeds (an independent implementation)."""
    mask = (image >= lower) & (image <= upper)
    labels, _ = ndi.label(mask, ndi.generate_binary_structure(3, 1 if connectivity == 6 else 3))
    found = {labels[k, j, i] for i, j, k in seeds} - {0}
    return np.isin(labels, list(found))


def _reference_flood(image, seeds, lower, upper, connectivity):
    """SimpleITK's voxel-by-voxel flood fill (ConnectedThreshold) with the same integer bounds."""
    flood = sitk.ConnectedThresholdImageFilter()
    flood.SetSeedList([tuple(int(v) for v in s) for s in seeds])
    flood.SetLower(float(lower))
    flood.SetUpper(float(upper))
    flood.SetConnectivity(flood.FaceConnectivity if connectivity == 6 else flood.FullConnectivity)
    return sitk.GetArrayFromImage(flood.Execute(sitk.GetImageFromArray(image))).astype(bool)


def test_lung_from_one_seed_equals_simpleitk_connected_threshold(lung_ct):
    image = lung_ct.array
    assert -950 < image[LUNG_SEED[::-1]] < -700
    tool, seg, segment, preview = _grow(lung_ct, [LUNG_SEED], lower=-1000, upper=-400, connectivity=6)
    _, box, region, mode = preview.changes[0]
    ours = _dense(image.shape, box, region)
    reference = _reference_flood(image, [LUNG_SEED], -1000, -400, 6)
    assert 500_000 < reference.sum() < 8_000_000  # a lung: several litres at 2.9 mm³ a voxel
    np.testing.assert_array_equal(ours, reference)
    assert preview.info["voxels"] == reference.sum() and box == Box.of_mask(reference)
    tool.apply()
    np.testing.assert_array_equal(segment.mask.to_dense(), reference)
    assert segment.source == "region growing" and segment.proposal is not None
    np.testing.assert_array_equal(segment.proposal.to_dense(), reference)


def test_lung_with_seed_range_and_26_neighbours_equals_scipy_label(lung_ct):
    image = lung_ct.array
    tool, _, _, preview = _grow(lung_ct, [LUNG_SEED], connectivity=26, tolerance=2.5)
    lower, upper = image_bounds(image.dtype, preview.info["lower"], preview.info["upper"])
    assert preview.info["range_from"] == "seeds" and lower < image[LUNG_SEED[::-1]] < upper
    _, box, region, _ = preview.changes[0]
    reference = _reference_label(image, [LUNG_SEED], lower, upper, 26)
    assert reference.sum() > 10_000
    np.testing.assert_array_equal(_dense(image.shape, box, region), reference)


@pytest.mark.parametrize("connectivity", [6, 26])
def test_muscle_from_seed_range_equals_scipy_label(ct, connectivity):
    tool, _, _, preview = _grow(ct, [MUSCLE_SEED], connectivity=connectivity)
    lower, upper = image_bounds(ct.array.dtype, preview.info["lower"], preview.info["upper"])
    reference = _reference_label(ct.array, [MUSCLE_SEED], lower, upper, connectivity)
    _, box, region, _ = preview.changes[0]
    np.testing.assert_array_equal(_dense(ct.array.shape, box, region), reference)
    assert reference.sum() > 100_000 and preview.info["crops_tried"] > 1  # it outgrew the first crop


def test_small_region_is_grown_in_a_crop_and_two_seeds_join_their_components(ct):
    # Two separate bones (femur and a second, smaller one): each seed keeps its own component, nothing else.
    seeds = [BONE_SEED, (29, 110, 53)]
    assert ct.array[seeds[1][::-1]] > 200
    tool, _, _, preview = _grow(ct, seeds, lower=200, upper=3000, connectivity=6, initial_crop_mm=200)
    reference = _reference_flood(ct.array, seeds, 200, 3000, 6)
    _, box, region, _ = preview.changes[0]
    np.testing.assert_array_equal(_dense(ct.array.shape, box, region), reference)
    assert preview.info["crops_tried"] == 1


def test_seed_outside_its_range_grows_nothing_and_bad_seeds_are_refused(ct):
    _, _, _, preview = _grow(ct, [MUSCLE_SEED], lower=500, upper=600)
    assert preview.info["voxels"] == 0 and not preview.changes[0][2].any()
    with pytest.raises(ValueError, match="outside the image"):
        _grow(ct, [(500, 0, 0)])


def test_confidence_connected_in_a_crop(ct):
    def full_filter():
        image = sitk.GetImageFromArray(ct.array)
        return sitk.GetArrayFromImage(sitk.ConfidenceConnected(
            image, seedList=[MUSCLE_SEED], numberOfIterations=4, multiplier=2.5, initialNeighborhoodRadius=1,
            replaceValue=1)).astype(bool)

    _, _, _, preview = _grow(ct, [MUSCLE_SEED], method="confidence", confidence_margin_mm=20)
    crop = preview.info["crop"]
    assert crop.size < ct.array.size / 10 and preview.info["reaches_crop_border"]
    _, box, region, _ = preview.changes[0]
    ours = _dense(ct.array.shape, box, region)
    assert ours[MUSCLE_SEED[::-1]] and not (ours & ~_dense(ct.array.shape, crop, True)).any()
    # With a margin that covers the image it is SimpleITK's filter on the whole volume, voxel for voxel.
    _, _, _, preview = _grow(ct, [MUSCLE_SEED], method="confidence", confidence_margin_mm=1000)
    _, box, region, _ = preview.changes[0]
    np.testing.assert_array_equal(_dense(ct.array.shape, box, region), full_filter())


def test_cancel_between_phases_changes_nothing(ct):
    seg = Segmentation(ct.geometry)
    segment = seg.add_segment("Grown")
    tool = RegionGrowingTool()
    tool.activate(EditContext(ct, seg, segment.id))
    calls = []
    with pytest.raises(ToolCancelled):
        tool.preview(seeds=[MUSCLE_SEED], cancelled=lambda: calls.append(1) or len(calls) > 1)
    assert len(calls) == 2 and tool.last_preview is None and segment.mask.empty


def test_apply_then_undo_restores_the_exact_arrays(ct):
    tool, seg, segment, _ = _grow(ct, [MUSCLE_SEED])
    seg.modify(segment.id, Box((0, 0, 0), (5, 5, 5)), np.ones((5, 5, 5), bool), "add")
    before = segment.mask.to_dense()
    tool.preview(seeds=[MUSCLE_SEED])
    tool.apply()
    assert segment.mask.count() > before.sum()
    seg.undo()
    np.testing.assert_array_equal(segment.mask.to_dense(), before)


def test_competitive_growing_gives_disjoint_bone_and_muscle(ct):
    seg = Segmentation(ct.geometry)
    bone, muscle = seg.add_segment("Bone"), seg.add_segment("Muscle")
    tool = CompetitiveGrowingTool(lower=-200, upper=3000)
    tool.activate(EditContext(ct, seg))
    preview = tool.preview(seeds={bone.id: [BONE_SEED], muscle.id: [MUSCLE_SEED]})
    regions = {sid: _dense(ct.array.shape, box, region) for sid, box, region, _ in preview.changes}
    assert set(regions) == {bone.id, muscle.id}
    assert regions[bone.id][BONE_SEED[::-1]] and regions[muscle.id][MUSCLE_SEED[::-1]]
    assert not (regions[bone.id] & regions[muscle.id]).any()
    assert regions[bone.id].sum() > 1000 and regions[muscle.id].sum() > 1000
    assert np.median(ct.array[regions[bone.id]]) > 300 > np.median(ct.array[regions[muscle.id]]) > -100
    assert (ct.array[regions[bone.id] | regions[muscle.id]] >= -200).all()  # the intensity range holds
    crop = _dense(ct.array.shape, preview.info["crop"], True)
    assert not ((regions[bone.id] | regions[muscle.id]) & ~crop).any()
    tool.apply()
    np.testing.assert_array_equal(bone.mask.to_dense(), regions[bone.id])
    assert bone.source == "region growing" and seg.undo() == "Grow from seeds" and bone.mask.empty
