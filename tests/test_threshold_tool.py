"""Threshold tool on the bundled sarcoma CT and PET: ranges, automatic methods, presets, undo, edit options."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, series_dir
from medseg_app.core.box import Box
from medseg_app.core.segmentation import EditOptions, Segmentation
from medseg_app.io.load import load_volume
from medseg_app.tools.base import EditContext
from medseg_app.tools.intensity_mask import range_mask, range_mask_slice
from medseg_app.tools.threshold import ThresholdTool
from medseg_app.tools.threshold_methods import AUTOMATIC_METHODS, histogram_sample


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(SAMPLE, "CT"))


@pytest.fixture(scope="module")
def pet():
    return load_volume(series_dir(SAMPLE, "PET"))


def _tool(volume, **values):
    seg = Segmentation(volume.geometry)
    segment = seg.add_segment("S")
    tool = ThresholdTool(**values)
    tool.activate(EditContext(volume, seg, segment.id))
    return tool, seg, segment


def test_manual_range_apply_writes_exactly_the_voxels_in_range(ct):
    tool, seg, segment = _tool(ct, lower=-29.5, upper=150)
    preview = tool.preview()
    expected = (ct.array >= -29.5) & (ct.array <= 150)
    assert preview.info["voxels"] == expected.sum() > 10_000
    _, box, region, mode = preview.changes[0]
    assert box == Box.of_mask(expected) and mode == "set"
    tool.apply()
    np.testing.assert_array_equal(segment.mask.to_dense(), expected)
    assert segment.mask.box == box and segment.source == "threshold"


def test_preview_slice_matches_the_volume_mask_on_every_axis(ct):
    tool, _, _ = _tool(ct, lower=226)
    full = ct.array >= 226
    for axis, index in ((0, 30), (1, 100), (2, 120)):
        np.testing.assert_array_equal(tool.preview_slice(axis, index), np.take(full, index, axis=axis))


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int32, np.float32, np.uint8])
def test_range_mask_agrees_with_plain_comparisons_for_each_type(ct, dtype):
    values = np.clip(ct.array, 0, 255) if dtype == np.uint8 else np.clip(ct.array, 0, None) if dtype == np.uint16 \
        else ct.array
    values = values.astype(dtype)
    for lower, upper in ((-100.5, 200.2), (None, 0), (10, None), (5000, None), (-1e12, 1e12)):
        expected = np.ones(values.shape, bool)
        if lower is not None:
            expected &= values >= lower
        if upper is not None:
            expected &= values <= upper
        mask, box, count = range_mask(values, lower, upper)
        np.testing.assert_array_equal(mask, expected)
        assert box == Box.of_mask(expected) and count == expected.sum()
        np.testing.assert_array_equal(range_mask_slice(values[20], lower, upper), expected[20])


def test_otsu_equals_simpleitk_otsu_on_the_same_image(ct):
    tool, _, _ = _tool(ct, method="otsu")
    otsu = sitk.OtsuThresholdImageFilter()
    otsu.Execute(sitk.GetImageFromArray(ct.array))
    lower, upper, info = tool.threshold_range()
    assert lower == otsu.GetThreshold() and upper is None and info["from"] == "otsu"
    assert -900 < lower < -100  # air vs body on this CT
    tool.set(side="below")
    assert tool.threshold_range()[:2] == (None, otsu.GetThreshold())


def test_every_automatic_method_gives_a_threshold_inside_the_image_range(ct):
    tool, _, _ = _tool(ct)
    for method in AUTOMATIC_METHODS:
        tool.set(method=method)
        lower, _, _ = tool.threshold_range()
        assert ct.array.min() <= lower <= ct.array.max(), method
    assert len(set(tool._automatic.values())) > 5  # they are really different methods


def test_histogram_sample_is_strided_and_bounded():
    image = np.arange(200 * 100 * 100, dtype=np.int32).reshape(200, 100, 100)
    sample = histogram_sample(image, max_voxels=100_000)
    assert sample.size <= 100_000 and sample.flags.c_contiguous
    np.testing.assert_array_equal(sample, image[::3, ::3, ::3])


@pytest.mark.parametrize("preset, lower, upper", [
    ("ct_bone", 226, None), ("ct_lung", -1000, -400), ("ct_soft_tissue", -29, 150), ("ct_fat", -190, -30)])
def test_ct_presets(ct, preset, lower, upper):
    tool, _, segment = _tool(ct, preset=preset, lower=0, upper=1)  # the preset overrides typed values
    tool.preview()
    tool.apply()
    expected = ct.array >= lower
    if upper is not None:
        expected &= ct.array <= upper
    assert expected.any()
    np.testing.assert_array_equal(segment.mask.to_dense(), expected)


def test_ct_preset_refused_on_pet(pet):
    tool, _, _ = _tool(pet, preset="ct_bone")
    with pytest.raises(ValueError, match="needs an image in HU"):
        tool.preview()


def test_pet_suv_presets_use_volume_then_segment_suvmax(pet):
    assert pet.units == "SUV"
    tool, seg, segment = _tool(pet, preset="pet_suv_2_5")
    tool.preview()
    tool.apply()
    np.testing.assert_array_equal(segment.mask.to_dense(), pet.array >= 2.5)

    tool, seg, segment = _tool(pet, preset="pet_40_percent_suvmax")
    info = tool.preview().info
    assert info["suv_max_within"] == "volume" and info["suv_max"] == pytest.approx(float(pet.array.max()))
    assert info["lower"] == pytest.approx(0.4 * float(pet.array.max()))
    # A rough outline around a region away from the hottest voxel: SUVmax is then taken inside it.
    rough = np.zeros(pet.array.shape, bool)
    rough[10:40, 10:35, 15:35] = True
    seg.modify(segment.id, Box.whole(rough.shape), rough, "set")
    local_max = float(pet.array[rough].max())
    assert local_max < float(pet.array.max())
    info = tool.preview().info
    assert info["suv_max_within"] == "segment" and info["suv_max"] == pytest.approx(local_max)
    tool.apply()
    np.testing.assert_array_equal(segment.mask.to_dense(), pet.array >= np.float32(0.4 * local_max))


def test_undo_after_apply_restores_the_exact_arrays(ct):
    tool, seg, segment = _tool(ct)
    start = np.zeros(ct.array.shape, bool)
    start[5:50, 20:180, 30:90] = True  # partly outside what the threshold will keep
    seg.modify(segment.id, Box.whole(start.shape), start, "set")
    other = seg.add_segment("Other", mask=ct.array > 500)
    before, before_other = segment.mask.to_dense(), other.mask.to_dense()
    seg.options = EditOptions(overwrite="all")
    tool.set(lower=300)
    tool.preview()
    tool.apply()
    np.testing.assert_array_equal(segment.mask.to_dense(), ct.array >= 300)  # "set" also cleared the old block
    added = (ct.array >= 300) & ~before
    np.testing.assert_array_equal(other.mask.to_dense(), before_other & ~added)  # overwrite takes what was added
    assert seg.undo() == "Threshold"
    np.testing.assert_array_equal(segment.mask.to_dense(), before)
    np.testing.assert_array_equal(other.mask.to_dense(), before_other)
    seg.redo()
    np.testing.assert_array_equal(segment.mask.to_dense(), ct.array >= 300)


@pytest.mark.parametrize("overwrite", ["none", "visible", "all"])
def test_edit_options_are_honoured_through_apply(ct, overwrite):
    tool, seg, segment = _tool(ct, lower=-200, mode="add")
    hidden = seg.add_segment("Hidden", mask=ct.array > 100)
    shown = seg.add_segment("Shown", mask=ct.array > 100)
    seg.set_properties(hidden.id, visible=False)
    seg.options = EditOptions(intensity_range=(-100.0, 400.0), overwrite=overwrite)
    tool.preview()
    tool.apply()
    written = segment.mask.to_dense()
    np.testing.assert_array_equal(written, (ct.array >= -100) & (ct.array <= 400))
    high = ct.array > 100
    kept_shown = shown.mask.to_dense()
    kept_hidden = hidden.mask.to_dense()
    np.testing.assert_array_equal(kept_shown, high & ~written if overwrite != "none" else high)
    np.testing.assert_array_equal(kept_hidden, high & ~written if overwrite == "all" else high)


def test_preview_region_survives_the_next_preview(ct):
    tool, _, segment = _tool(ct, lower=226)
    first = tool.preview()
    tool.set(lower=-29.5, upper=150)
    tool.preview()
    tool.apply(first)
    np.testing.assert_array_equal(segment.mask.to_dense(), ct.array >= 226)
