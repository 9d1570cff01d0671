"""Mask volume on the STS_002 CT and PET (a new layer, the loaded images untouched, one undo step), and the two
modes of Fill between slices on the STS_002 CT GTV drawn on every 5th slice (Dice against the full mask)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import STS_002, series_dir
from medseg_app.core.volume_masking import masked_array
from medseg_app.io.load import load_volume
from medseg_app.tools.editor import SegmentEditor


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(STS_002, "CT"))


@pytest.fixture(scope="module")
def pet():
    return load_volume(series_dir(STS_002, "PET"))


@pytest.fixture(scope="module")
def gtv(ct):
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(STS_002 / "CT" / "nifti" / "mask" / "mask.nii.gz"))) > 0
    assert mask.shape == ct.array.shape
    return mask


# --- mask volume ------------------------------------------------------------------------------
def test_mask_volume_adds_a_masked_ct_layer_and_never_changes_the_ct(ct, gtv):
    before = ct.array.copy()
    editor = SegmentEditor(ct)
    editor.add_segment("GTV", mask=gtv)
    steps = len(editor.segmentation.undo_stack._undo)
    preview = editor.run("mask_volume", where="outside", fill_value=-1000)
    study = editor.study
    assert len(study.layers) == 2 and preview.info["voxels_set"] == gtv.size - gtv.sum()
    layer = study.layers[-1]
    assert layer.name == f"{study.reference.name} masked by GTV" and layer.registered
    masked = layer.volume
    assert masked.geometry == ct.geometry and masked.array.dtype == np.int16 and masked.units == "HU"
    assert layer.transform.is_identity
    np.testing.assert_array_equal(masked.array[gtv], before[gtv])
    assert np.all(masked.array[~gtv] == -1000)
    assert masked.array[gtv].mean() > -200  # soft tissue kept inside the tumour
    np.testing.assert_array_equal(ct.array, before)  # the loaded CT itself is never changed
    assert masked.array is not ct.array
    assert len(editor.segmentation.undo_stack._undo) == steps + 1
    assert editor.undo().startswith("Mask volume")
    assert len(study.layers) == 1
    editor.redo()
    assert study.layers[-1] is layer
    np.testing.assert_array_equal(editor.mask("GTV"), gtv)  # no segment changed either


def test_mask_volume_inside_on_the_pet_layer_with_the_auto_fill(ct, pet, gtv):
    editor = SegmentEditor(ct)
    editor.add_layer(pet)
    editor.add_segment("GTV", mask=gtv)
    pet_on_ct = editor.study.on_reference(editor.study.find("PT").id).array
    pet_before = pet.array.copy()
    editor.run("mask_volume", source="PT", where="inside", fill_value=None)
    layer = editor.study.layers[-1]
    assert layer.name.endswith("masked by GTV") and layer.modality == "PT" and layer.units == "SUV"
    lowest = float(np.nanmin(pet_on_ct))
    assert np.all(layer.volume.array[gtv] == lowest)
    outside = ~gtv & ~np.isnan(pet_on_ct)
    np.testing.assert_allclose(layer.volume.array[outside], pet_on_ct[outside])
    assert not np.isnan(layer.volume.array).any()  # where the PET has no voxels: the fill value too
    np.testing.assert_array_equal(pet.array, pet_before)


def test_masked_array_takes_a_dtype_that_holds_the_fill_value():
    image = np.arange(8, dtype=np.int16).reshape(2, 2, 2)
    mask = image >= 4
    assert masked_array(image, mask, "inside", -1000).dtype == np.int16
    half = masked_array(image, mask, "inside", 0.5)
    assert half.dtype == np.float32 and np.all(half[mask] == 0.5) and np.all(half[~mask] == image[~mask])
    assert masked_array(image, mask, "outside", 40000).dtype == np.float32
    with pytest.raises(ValueError):
        masked_array(image, mask, "around", 0)


# --- fill between slices: distance and morphological ------------------------------------------
def _every_fifth(gtv):
    occupied = np.flatnonzero(gtv.any(axis=(1, 2)))
    drawn_slices = list(range(occupied[0], occupied[-1] + 1, 5))
    if drawn_slices[-1] != occupied[-1]:
        drawn_slices.append(int(occupied[-1]))
    drawn = np.zeros_like(gtv)
    drawn[drawn_slices] = gtv[drawn_slices]
    return drawn, drawn_slices


@pytest.mark.parametrize("method, floor", [("distance", 0.88), ("morphological", 0.90)])
def test_fill_between_slices_modes_against_the_full_gtv(ct, gtv, method, floor):
    drawn, drawn_slices = _every_fifth(gtv)
    editor = SegmentEditor(ct)
    editor.add_segment("GTV", mask=drawn)
    steps = len(editor.segmentation.undo_stack._undo)
    editor.run("slice_interpolation", method=method, slice_axis=2)
    result = editor.mask()
    score = dice(result, gtv)
    # every 5th of 3.27 mm slices: distance 0.892, morphological 0.911 when written
    assert score >= floor, f"{method}: Dice {score:.3f}"
    np.testing.assert_array_equal(result[drawn_slices], gtv[drawn_slices])  # drawn slices never change
    between = [k for k in range(drawn_slices[0], drawn_slices[-1]) if k not in drawn_slices]
    assert all(result[k].any() for k in between)
    assert not result[:drawn_slices[0]].any() and not result[drawn_slices[-1] + 1:].any()
    assert len(editor.segmentation.undo_stack._undo) == steps + 1
    editor.undo()
    np.testing.assert_array_equal(editor.mask(), drawn)


def test_the_two_modes_differ_and_the_morphological_one_is_closer_here(ct, gtv):
    drawn, _ = _every_fifth(gtv)
    results = {}
    for method in ("distance", "morphological"):
        editor = SegmentEditor(ct)
        editor.add_segment("GTV", mask=drawn)
        editor.run("slice_interpolation", method=method)
        results[method] = editor.mask()
    assert (results["distance"] != results["morphological"]).sum() > 0.01 * gtv.sum()
    assert dice(results["morphological"], gtv) > dice(results["distance"], gtv)


def test_morphological_median_of_two_discs_is_the_disc_half_way():
    from medseg_app.tools.morphological_interpolation import median_slice

    rows, cols = np.ogrid[:80, :80]

    def disc(r0, c0, radius):
        return (rows - r0) ** 2 + (cols - c0) ** 2 <= radius ** 2

    # Concentric radii 10 and 20: the median is the disc of radius 15 (points nearer the inner disc than the outside)
    middle = median_slice(disc(40, 40, 10), disc(40, 40, 20), (1.0, 1.0))
    assert (middle ^ disc(40, 40, 15)).sum() <= 0.05 * disc(40, 40, 15).sum()
    # A disc that moved and grew: the median lies half way, with the mean radius
    moved = median_slice(disc(20, 20, 8), disc(50, 56, 12), (1.0, 1.0))
    centre = np.argwhere(moved).mean(axis=0)
    np.testing.assert_allclose(centre, (35, 38), atol=0.75)
    assert abs(moved.sum() - np.pi * 10 ** 2) <= 0.06 * np.pi * 10 ** 2
