"""k-means, fuzzy c-means and Otsu multiple thresholds (tools/clustering.py, tools/otsu_multi.py), headless, on the
bundled STS_001 CT and PET: class centres against independent computations (a brute-force Lloyd iteration here,
scikit-learn / scikit-fuzzy / SimpleITK directly), reproducibility, one undo step, the PET lesion against its GTV."""

import numpy as np
import pytest
import SimpleITK as sitk

from medseg_app.io.load import load_volume
from medseg_app.tools.editor import SegmentEditor
from medseg_app.tools.intensity_clustering import fcm_memberships, fuzzy_cmeans_1d, kmeans_1d
from sitk_images import float_image as _sitk

SAMPLE = "resources/sample/STS_001"


@pytest.fixture(scope="module")
def sample():
    ct = load_volume(f"{SAMPLE}/CT/dicom/image")
    pet = load_volume(f"{SAMPLE}/PET/dicom/image")
    gtv_ct = sitk.GetArrayFromImage(sitk.ReadImage(f"{SAMPLE}/CT/nifti/mask/mask.nii.gz")) > 0
    pet_mask = sitk.Cast(sitk.ReadImage(f"{SAMPLE}/PET/nifti/mask/mask.nii.gz"), sitk.sitkFloat32)
    gtv_pet = sitk.GetArrayFromImage(sitk.Resample(pet_mask, _sitk(ct), sitk.Transform(), sitk.sitkLinear, 0.0)) >= 0.5
    return ct, pet, gtv_ct, gtv_pet


def index_box(ct, lo, hi):
    """Two LPS corners of the voxels lo..hi (i, j, k) inclusive."""
    return ct.geometry.index_to_patient(np.array([lo, hi], float))


def whole_box(ct):
    i, j, k = ct.geometry.size
    return index_box(ct, (0, 0, 0), (i - 1, j - 1, k - 1))


def mask_box(ct, mask, margin=(0, 0, 0)):
    k, j, i = np.nonzero(mask)
    return index_box(ct, (i.min() - margin[0], j.min() - margin[1], k.min() - margin[2]),
                     (i.max() + margin[0], j.max() + margin[1], k.max() + margin[2]))


def brute_force_lloyd(values, centres, iterations=200):
    """Textbook Lloyd: every value to its nearest centre (dense distance matrix), centres to the class means."""
    values = values.astype(np.float64)
    centres = np.asarray(centres, float)
    for _ in range(iterations):
        labels = np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1)
        moved = np.array([values[labels == k].mean() for k in range(len(centres))])
        if np.allclose(moved, centres, atol=1e-9):
            break
        centres = moved
    return np.sort(centres)


def dice(a, b):
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def test_kmeans_of_the_ct_into_four_classes_is_air_fat_soft_tissue_bone_as_a_brute_force_lloyd(sample):
    ct, _, gtv, _ = sample
    editor = SegmentEditor(ct)
    preview = editor.run("kmeans", box=whole_box(ct), classes=4, seed=0)
    centres = np.array(preview.info["centres"])
    reference = brute_force_lloyd(ct.array.ravel(), np.percentile(ct.array, [5, 40, 70, 99]))
    np.testing.assert_allclose(centres, reference, atol=0.5)
    air, fat, soft, bone = centres
    assert air < -800 and -180 < fat < -40 and 0 < soft < 100 and bone > 300
    segments = list(editor.segmentation.segments.values())
    assert [s.name.split(" (")[0] for s in segments] == ["Class 1", "Class 2", "Class 3", "Class 4"]
    assert segments[1].name == f"Class 2 (mean {round(preview.info['classes'][1]['mean'])} HU)".replace("-", "−")
    masks = [s.mask.to_dense() for s in segments]
    # every voxel in exactly one class; class means ascending; the GTV is mostly soft tissue
    np.testing.assert_array_equal(np.sum(masks, axis=0), 1)
    means = [ct.array[m].mean() for m in masks]
    assert means == sorted(means)
    assert masks[2][gtv].mean() > 0.8
    # the labels are the nearest centre's
    nearest = np.argmin(np.abs(ct.array[..., None] - centres), axis=-1)
    np.testing.assert_array_equal(np.argmax(masks, axis=0), nearest)


def test_kmeans_centres_equal_scikit_learns(sample):
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    ct = sample[0]
    values = ct.array[::2, ::2, ::2].ravel().astype(np.float64)
    for n in (2, 3, 4):
        ours = kmeans_1d(values, n, seed=0)
        peer = sklearn_cluster.KMeans(n, n_init=4, random_state=0, tol=1e-12).fit(values.reshape(-1, 1))
        # within 0.1 % of the value range (the two may stop one boundary voxel apart), and never a worse optimum
        np.testing.assert_allclose(ours.centres, np.sort(peer.cluster_centers_.ravel()), atol=0.001 * np.ptp(values))
        assert ours.objective <= peer.inertia_ * (1 + 1e-9)


def test_kmeans_is_reproducible_and_one_undo_step(sample):
    ct, _, gtv, _ = sample
    box = mask_box(ct, gtv, (10, 10, 2))
    runs = []
    for _ in range(2):
        editor = SegmentEditor(ct)
        editor.add_segment("kept")
        preview = editor.run("kmeans", box=box, classes=3, seed=7)
        runs.append((preview.info["centres"], [s.mask.to_dense() for s in editor.segmentation.segments.values()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert len(editor.segmentation.segments) == 4
    assert editor.undo() == "k-means classes"
    assert list(editor.segmentation.segments) == [1]
    editor.redo()
    assert len(editor.segmentation.segments) == 4
    np.testing.assert_array_equal(list(editor.segmentation.segments.values())[3].mask.to_dense(), runs[0][1][3])


def test_kmeans_within_a_segment_splits_only_its_voxels_and_a_click_keeps_one_class(sample):
    ct, _, gtv, _ = sample
    editor = SegmentEditor(ct)
    gtv_id = editor.add_segment("GTV", mask=gtv)
    preview = editor.run("kmeans", within="segment", within_segment_id=gtv_id, classes=2)
    classes = [s.mask.to_dense() for s in list(editor.segmentation.segments.values())[1:]]
    np.testing.assert_array_equal(classes[0] | classes[1], gtv)
    assert not (classes[0] & classes[1]).any()
    threshold = preview.info["boundaries"][0]
    np.testing.assert_array_equal(classes[1], gtv & (ct.array > threshold))
    # the class under a bright voxel of the GTV, added to an active segment
    target = editor.add_segment("bright part")
    k, j, i = np.argwhere(gtv & (ct.array > threshold + 20))[0]
    preview = editor.run("kmeans", operation="selected class", inputs={"index": (i, j, k)})
    assert preview.info["selected_class"] == 2
    np.testing.assert_array_equal(editor.mask(target), classes[1])
    with pytest.raises(ValueError, match="click"):
        editor.run("kmeans", operation="selected class")


def test_fuzzy_cmeans_memberships_sum_to_one_and_the_membership_layer_is_added(sample):
    ct, _, gtv, _ = sample
    values = ct.array[gtv]
    result = fuzzy_cmeans_1d(values, 3, m=2.0, seed=0)
    memberships = result.memberships()
    np.testing.assert_allclose(memberships.sum(axis=1), 1.0, atol=1e-5)
    assert np.all((memberships >= 0) & (memberships <= 1))
    np.testing.assert_array_equal(result.labels, np.argmax(memberships, axis=1))
    # the centres are the fixed point of Bezdek's update: centre = Σ u² x / Σ u²
    u2 = fcm_memberships(values, result.centres) ** 2
    np.testing.assert_allclose((u2 * values[:, None]).sum(0) / u2.sum(0), result.centres, atol=0.05)
    assert fuzzy_cmeans_1d(values, 3, seed=0).centres.tolist() == result.centres.tolist()

    editor = SegmentEditor(ct)
    box = mask_box(ct, gtv, (5, 5, 1))
    before = len(editor.study.layers)
    preview = editor.run("fuzzy_cmeans", box=box, classes=3, membership_class=0)
    layer = editor.study.layers[-1]
    assert len(editor.study.layers) == before + 1 and layer.name == f"Membership: {preview.info['classes'][2]['name']}"
    assert layer.registered and layer.volume.source_path == ""  # computed: no file
    assert layer.volume.identity.frame_of_reference_uid == ct.identity.frame_of_reference_uid
    assert layer.volume.identity.series_instance_uid != ct.identity.series_instance_uid
    values_on_ct = editor.study.on_reference(layer.id).array
    inside = np.isfinite(values_on_ct)
    assert inside.sum() == preview.info["region_voxels"]
    brightest = list(editor.segmentation.segments.values())[-1].mask.to_dense()
    assert values_on_ct[brightest].min() >= 1 / 3 - 1e-6  # the largest of three memberships
    assert np.nanmax(values_on_ct) <= 1.0 and np.nanmin(values_on_ct) >= 0.0


def test_fuzzy_cmeans_centres_equal_scikit_fuzzys(sample):
    skfuzzy = pytest.importorskip("skfuzzy")
    ct, _, gtv, _ = sample
    values = ct.array[gtv].astype(np.float64)
    ours = fuzzy_cmeans_1d(values, 3, seed=0).centres
    centres, *_ = skfuzzy.cmeans(values.reshape(1, -1), 3, 2.0, error=1e-7, maxiter=1000, seed=0)
    np.testing.assert_allclose(ours, np.sort(centres.ravel()), atol=0.1)


def test_otsu_multiple_thresholds_equal_simpleitks_on_the_same_voxels(sample):
    ct, _, gtv, _ = sample
    box = mask_box(ct, gtv, (10, 10, 2))
    editor = SegmentEditor(ct)
    preview = editor.run("otsu_multi", box=box, classes=3, bins=128)
    k, j, i = (np.round(ct.geometry.patient_to_index(box)).astype(int)).T[::-1]
    crop = ct.array[k.min():k.max() + 1, j.min():j.max() + 1, i.min():i.max() + 1]
    otsu = sitk.OtsuMultipleThresholdsImageFilter()
    otsu.SetNumberOfThresholds(2)
    otsu.SetNumberOfHistogramBins(128)
    labels = sitk.GetArrayFromImage(otsu.Execute(sitk.GetImageFromArray(crop)))
    assert preview.info["thresholds"] == pytest.approx(list(otsu.GetThresholds()), abs=1e-6)
    segments = list(editor.segmentation.segments.values())
    for label, segment in enumerate(segments):
        mask = segment.mask.to_dense()[k.min():k.max() + 1, j.min():j.max() + 1, i.min():i.max() + 1]
        np.testing.assert_array_equal(mask, labels == label)
    assert sum(s.mask.to_dense().sum() for s in segments) == crop.size


def test_two_class_kmeans_of_the_pet_in_a_box_finds_the_lesion(sample):
    ct, pet, _, gtv_pet = sample
    editor = SegmentEditor(ct)
    editor.add_layer(pet)
    preview = editor.run("kmeans", source="PT", box=mask_box(ct, gtv_pet, (5, 5, 1)), classes=2)
    assert preview.info["units"] == "SUV" and preview.info["classes"][1]["mean"] > 2.5
    lesion = list(editor.segmentation.segments.values())[-1].mask.to_dense()
    assert dice(lesion, gtv_pet) > 0.6  # 0.66: the GTV holds less avid tissue as well
    fcm = SegmentEditor(ct)
    fcm.add_layer(pet)
    fcm.run("fuzzy_cmeans", source="PT", box=mask_box(ct, gtv_pet, (5, 5, 1)), classes=2, membership_layer=False)
    assert dice(list(fcm.segmentation.segments.values())[-1].mask.to_dense(), gtv_pet) > 0.6
    assert len(fcm.study.layers) == 2


def test_a_cancelled_clustering_stops_and_changes_nothing(sample):
    from medseg_app.tools.cancellation import ToolCancelled

    ct = sample[0]
    editor = SegmentEditor(ct)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 1  # let the region be read, then cancel

    for tool_id in ("kmeans", "fuzzy_cmeans", "otsu_multi"):
        calls.clear()
        with pytest.raises(ToolCancelled):
            editor.run(tool_id, box=whole_box(ct), classes=4, cancelled=cancelled)
    assert editor.segmentation.segments == {} and editor.undo() is None
