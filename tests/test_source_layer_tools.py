"""Tools on another layer (3D Slicer's source volume), headless, on the bundled STS_001 PET and planning CT: the PET's
intensities are read on the CT grid and the segments stay there; NaN outside the PET never enters a mask."""

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from medseg_app.core.prompt_box import voxels_in_lps_box
from medseg_app.io.load import load_volume
from medseg_app.tools.editor import SegmentEditor
from sitk_images import float_image as _sitk

SAMPLE = "resources/sample/STS_001"


@pytest.fixture(scope="module")
def sample():
    ct = load_volume(f"{SAMPLE}/CT/dicom/image")
    pet = load_volume(f"{SAMPLE}/PET/dicom/image")
    # the PET resampled onto the CT grid by SimpleITK directly (linear; outside the PET: -1, below every SUV)
    pet_on_ct = sitk.GetArrayFromImage(sitk.Resample(_sitk(pet), _sitk(ct), sitk.Transform(), sitk.sitkLinear,
                                                     -1.0, sitk.sitkFloat32))
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(f"{SAMPLE}/CT/nifti/mask/mask.nii.gz")) > 0
    assert gtv.shape == ct.array.shape
    return ct, pet, pet_on_ct, gtv


@pytest.fixture
def editor(sample):
    ct, pet, _, _ = sample
    editor = SegmentEditor(ct)
    editor.add_layer(pet)
    editor.add_segment("PET")
    return editor


def gtv_box(ct, gtv):
    """Two opposite LPS corners around the GTV's voxels."""
    k, j, i = np.nonzero(gtv)
    idx = np.array([[i.min(), j.min(), k.min()], [i.max(), j.max(), k.max()]], float)
    return ct.geometry.index_to_patient(idx)


def test_suv_threshold_of_the_pet_lands_on_the_ct_grid_as_a_direct_threshold_of_the_resampled_pet(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    preview = editor.run("threshold", source="PT", preset="pet_suv_2_5")
    mask = editor.mask()
    assert mask.shape == ct.array.shape and editor.segmentation.geometry.same_grid(ct.geometry)
    np.testing.assert_array_equal(mask, pet_on_ct >= 2.5)
    assert preview.info["units"] == "SUV" and preview.info["lower"] == 2.5
    # the GTV's hot half is in the segment, whose voxels have the PET's SUV at their CT-grid centres
    assert mask[gtv].mean() > 0.4 and mask[gtv & (pet_on_ct >= 5.0)].all()
    assert editor.undo() is not None and not editor.mask().any()


def test_40_percent_of_suvmax_in_a_box_measures_suvmax_in_the_box(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    corners = gtv_box(ct, gtv)
    preview = editor.run("threshold", source="PT", preset="pet_40_percent_suvmax", within="box",
                         suv_max_in="box", box=corners)
    inside = voxels_in_lps_box(ct.geometry, corners)
    suv_max = float(pet_on_ct[inside.slices].max())
    assert preview.info["suv_max_within"] == "box"
    assert preview.info["suv_max"] == pytest.approx(suv_max, rel=1e-6)
    expected = np.zeros(ct.array.shape, bool)
    expected[inside.slices] = pet_on_ct[inside.slices] >= 0.4 * suv_max
    np.testing.assert_array_equal(editor.mask(), expected)
    mask = editor.mask()
    assert mask.sum() > 10_000 and (mask & gtv).sum() / mask.sum() > 0.8  # the hot part of the tumour
    # 50 % in the same box is a subset; SUVmax measured in the (now non-empty) segment is the same maximum
    editor.add_segment("PET 50")
    preview = editor.run("threshold", source="PT", preset="pet_50_percent_suvmax", within="box", box=corners,
                         suv_max_in="segment")
    assert preview.info["suv_max_within"] == "volume"  # an empty segment: the whole image
    assert preview.info["suv_max"] == pytest.approx(float(np.nanmax(editor.study.on_reference(1).array)))
    preview = editor.run("threshold", source="PT", preset="pet_50_percent_suvmax", within="box", box=corners,
                         segment="PET")
    assert preview.info["suv_max_within"] == "segment" and preview.info["suv_max"] == pytest.approx(suv_max)


def test_a_box_is_required_for_a_threshold_within_the_box(editor):
    with pytest.raises(ValueError, match="draw a box"):
        editor.run("threshold", source="PT", lower=2.5, within="box")


def test_automatic_threshold_of_the_pet_skips_the_outside_and_nan_never_enters_a_mask(sample, editor):
    ct, pet, pet_on_ct, _ = sample
    source = editor.study.on_reference(1).array
    assert np.isnan(source).any()  # the PET covers less than the CT
    preview = editor.run("threshold", source="PT", method="otsu", side="below")
    threshold = preview.info["threshold"]
    assert 0 < threshold < float(np.nanmax(source))
    mask = editor.mask()
    assert not mask[np.isnan(source)].any()
    np.testing.assert_array_equal(mask, np.isfinite(source) & (source <= threshold))
    # the same method on the PET itself gives a threshold of the same histogram
    otsu = sitk.OtsuThresholdImageFilter()
    otsu.Execute(sitk.GetImageFromArray(source[np.isfinite(source)].reshape(1, 1, -1)))
    assert threshold == pytest.approx(otsu.GetThreshold())


def test_region_growing_from_a_seed_on_the_pet_source(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    k, j, i = np.unravel_index(np.argmax(np.where(gtv, pet_on_ct, -1)), pet_on_ct.shape)  # the GTV's SUVmax
    preview = editor.run("grow", source="PT", lower=2.5, inputs={"seeds": [(i, j, k)]})
    labels, _ = ndimage.label(pet_on_ct >= 2.5)  # 6-connected, as the tool's default
    expected = labels == labels[k, j, i]
    np.testing.assert_array_equal(editor.mask(), expected)
    assert preview.info["voxels"] == int(expected.sum())
    # from the seeds' neighbourhood (mean ± 2 SD of the PET around the seed), on the CT grid
    editor.add_segment("grown")
    preview = editor.run("grow", source="PT", lower=None, inputs={"seeds": [(i, j, k)]})
    assert preview.info["range_from"] == "seeds" and preview.info["lower"] > 2.5
    source = editor.study.on_reference(1).array
    window = np.abs(source[k - 1:k + 2, j - 1:j + 2, i - 1:i + 2])
    assert preview.info["seed_mean"] == pytest.approx(float(window.mean()), rel=1e-5)
    labels, _ = ndimage.label((pet_on_ct >= preview.info["lower"]) & (pet_on_ct <= preview.info["upper"]))
    np.testing.assert_array_equal(editor.mask(), labels == labels[k, j, i])
    assert editor.mask().sum() > 1000 and (editor.mask() & gtv).sum() / editor.mask().sum() > 0.7


def test_seeds_outside_the_pet_are_refused_in_one_sentence(sample, editor):
    source = editor.study.on_reference(1).array
    k, j, i = np.argwhere(np.isnan(source))[0]
    with pytest.raises(ValueError, match="outside the source layer"):
        editor.run("grow", source="PT", neighbourhood_radius=0, inputs={"seeds": [(i, j, k)]})


def test_competitive_growing_reads_the_pet_and_leaves_its_outside_alone(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    source = editor.study.on_reference(1).array
    rng = np.random.default_rng(17)
    inner = np.argwhere(ndimage.binary_erosion(gtv, iterations=3))
    ring = np.argwhere(ndimage.binary_dilation(gtv, iterations=8) & ~ndimage.binary_dilation(gtv, iterations=5)
                       & np.isfinite(source))
    tumour, background = editor.segment_id("PET"), editor.add_segment("background")
    seeds = {tumour: [p[::-1] for p in inner[rng.choice(len(inner), 20)]],
             background: [p[::-1] for p in ring[rng.choice(len(ring), 40)]]}
    preview = editor.run("grow_competitive", source="PT", margin_mm=200.0, inputs={"seeds": seeds})
    assert np.isnan(source[preview.info["crop"].slices]).any()  # the crop reaches past the PET
    for segment in (tumour, background):
        assert not editor.mask(segment)[np.isnan(source)].any()
    grown = editor.mask(tumour)
    assert grown.sum() > 1000 and (grown & gtv).sum() / grown.sum() > 0.8


def test_intensity_range_editing_reads_the_source_layer(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    editor.set_options(intensity_range=(2.5, 1e6))
    editor.set_source("PT")
    k, j, i = np.unravel_index(np.argmax(pet_on_ct), pet_on_ct.shape)
    editor.paint_sphere((i, j, k), 60.0)
    mask = editor.mask()
    assert mask.any() and np.all(pet_on_ct[mask] >= 2.5)
    editor.set_options(None)
    editor.add_segment("all")
    editor.paint_sphere((i, j, k), 60.0)
    assert editor.mask().sum() > mask.sum()


def test_automatic_threshold_within_the_box_uses_the_box_histogram(sample, editor):
    ct, pet, pet_on_ct, gtv = sample
    corners = gtv_box(ct, gtv)
    preview = editor.run("threshold", source="PT", method="otsu", side="above", within="box", box=corners)
    inside = voxels_in_lps_box(ct.geometry, corners)
    otsu = sitk.OtsuThresholdImageFilter()
    otsu.Execute(sitk.GetImageFromArray(np.ascontiguousarray(pet_on_ct[inside.slices])))
    assert preview.info["threshold"] == pytest.approx(otsu.GetThreshold(), rel=1e-4)
    assert not editor.mask()[:, :, : inside.start[2]].any() and not editor.mask()[:, :, inside.stop[2]:].any()


def test_a_layer_moved_by_its_transform_is_read_where_the_transform_puts_it(sample):
    """A copy of the PET displaced by 2 slices and 3 voxels, with the transform that says so: the same segment."""
    ct, pet, pet_on_ct, _ = sample
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.layer_transform import LayerTransform
    from medseg_app.core.volume import Volume

    shift = np.asarray(pet.geometry.spacing) * np.array([3, 0, 2])
    g = pet.geometry
    moved = Volume(pet.array, ImageGeometry(g.size, g.spacing, np.asarray(g.origin) + shift, g.direction),
                   modality=pet.modality, units=pet.units)
    editor = SegmentEditor(ct)
    editor.add_layer(moved, "moved PET", transform=LayerTransform.rigid(translation_mm=shift))
    editor.add_segment("moved")
    editor.run("threshold", source="moved PET", preset="pet_suv_2_5")
    np.testing.assert_array_equal(editor.mask(), pet_on_ct >= 2.5)
