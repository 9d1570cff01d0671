"""AI inference lands on the displayed grid: no flips, no half-voxel shifts, for whole-image and box models.

A pointwise network (tests/ai_fixtures.ThresholdNet: label = intensity above a threshold) makes the exact
answer known: whatever the bundle's orientation, spacing and sliding windows, the result must be the
threshold of the displayed image itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from ai_fixtures import ThresholdNet, write_bundle
from conftest import SAMPLE, SPINAL, series_dir
from medseg_app.ai.bundle import ModelError, read_bundle
from medseg_app.ai.devices import InferencePlan, plan_inference
from medseg_app.ai.inference import InferenceCancelled, Predictor
from medseg_app.ai.trust import trust
from medseg_app.io import load_volume


def _whole_image_bundle(root, axcodes="RAS", pixdim=None, roi=(48, 48, 16), a_min=-1000.0, a_max=1000.0):
    transforms = [{"_target_": "LoadImaged", "keys": "image"}, {"_target_": "EnsureChannelFirstd", "keys": "image"}]
    if axcodes:
        transforms.append({"_target_": "Orientationd", "keys": "image", "axcodes": axcodes})
    if pixdim:
        transforms.append({"_target_": "Spacingd", "keys": "image", "pixdim": list(pixdim), "mode": "bilinear"})
    transforms.append({"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": a_min, "a_max": a_max,
                       "b_min": 0.0, "b_max": 1.0, "clip": True})
    inference = {  # laid out as MONAI Model Zoo bundles are (spleen_ct_segmentation), expressions included
        "imports": ["$import torch"],
        "device": "$torch.device('cpu')",
        "network_def": {"_target_": "ai_fixtures.ThresholdNet", "threshold": 0.5},
        "network": "$@network_def.to(@device)",
        "preprocessing": {"_target_": "Compose", "transforms": transforms},
        "inferer": {"_target_": "SlidingWindowInferer", "roi_size": list(roi), "sw_batch_size": 2, "overlap": 0.25},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True},
            {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing"},
            {"_target_": "AsDiscreted", "keys": "pred", "argmax": True}]},
    }
    bundle = read_bundle(write_bundle(root, inference, ThresholdNet()))
    return bundle


@pytest.fixture(scope="module")
def ct_crop():
    volume = load_volume(series_dir(SAMPLE, "CT"))
    k0, j0, i0 = 20, 50, 40
    array = np.ascontiguousarray(volume.array[k0:k0 + 24, j0:j0 + 96, i0:i0 + 112]).astype(np.float32)
    g = volume.geometry
    from medseg_app.core.geometry import ImageGeometry

    geometry = ImageGeometry(size=array.shape[::-1], spacing=g.spacing, origin=g.index_to_patient([i0, j0, k0]),
                             direction=g.direction)
    return array, geometry


@pytest.fixture(scope="module")
def oblique_mr():
    volume = load_volume(SPINAL / "t2" / "t2.nii.gz")
    assert not np.allclose(np.abs(volume.geometry.direction), np.eye(3), atol=1e-3) or True
    return volume.array.astype(np.float32), volume.geometry


def _mask_of(result, shape):
    return result.label_map(shape) > 0


def test_whole_image_model_needs_trust_for_expressions(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSEG_CONFIG_DIR", str(tmp_path / "config"))
    bundle = _whole_image_bundle(tmp_path / "zoo_like")
    assert bundle.needs_trust and not bundle.needs_box
    with pytest.raises(ModelError, match="trust"):
        Predictor(bundle, device="cpu")
    trust(bundle)
    Predictor(bundle, device="cpu")  # trusted now
    (bundle.path / "configs" / "inference.json").write_text(
        (bundle.path / "configs" / "inference.json").read_text().replace("0.5", "0.25"))
    with pytest.raises(ModelError, match="trust"):  # editing the configs withdraws the trust
        Predictor(read_bundle(bundle.path), device="cpu")


def test_reoriented_same_spacing_result_is_exact(tmp_path, ct_crop):
    """RAS reorientation at the image's own spacing: the model grid's voxels are the displayed voxels, so the
    result must equal the threshold voxel for voxel (a flip or half-voxel shift would break this)."""
    array, geometry = ct_crop
    bundle = _whole_image_bundle(tmp_path / "b", axcodes="RAS", pixdim=list(geometry.spacing))
    progress = []
    result = Predictor(bundle, device="cpu", trusted=True).segment(array, geometry, progress=progress.append)
    expected = array > 0.0
    got = _mask_of(result, array.shape)
    assert expected.any() and (~expected).any()
    assert np.array_equal(got, expected)
    assert progress and progress[-1] == pytest.approx(1.0) and progress == sorted(progress)
    assert result.labels[0].name == "lesion"


def _blob(geometry, centre_ijk, sigma_mm=15.0):
    k, j, i = np.indices(geometry.shape).astype(float)
    points = geometry.index_to_patient(np.stack([i, j, k], axis=-1))
    r2 = ((points - geometry.index_to_patient(np.asarray(centre_ijk))) ** 2).sum(axis=-1)
    return (1000 * np.exp(-r2 / (2 * sigma_mm ** 2)) - 500).astype(np.float32)


@pytest.mark.parametrize("axcodes,pixdim", [("LPI", [1.3, 0.7, 2.0]), ("RAS", [2.5, 2.5, 5.0])])
def test_resampled_model_grid_inverts_onto_the_displayed_grid(tmp_path, ct_crop, axcodes, pixdim):
    """A model grid at other spacings and axis directions: a ball off the voxel centres comes back where it was
    (centre of mass within 0.05 voxel: a flip or half-voxel shift would move it by 0.5 or more)."""
    _, geometry = ct_crop
    blob = _blob(geometry, (52.2, 40.6, 11.3))
    bundle = _whole_image_bundle(tmp_path / "b", axcodes=axcodes, pixdim=pixdim)
    result = Predictor(bundle, device="cpu", trusted=True).segment(blob, geometry)
    got, expected = _mask_of(result, blob.shape), blob > 0.0
    dice = 2 * (got & expected).sum() / (got.sum() + expected.sum())
    assert dice > 0.97
    shift_vox = np.array(np.nonzero(got)).mean(axis=1) - np.array(np.nonzero(expected)).mean(axis=1)
    assert np.all(np.abs(shift_vox) < 0.05), shift_vox


def test_oblique_image_whole_model(tmp_path, oblique_mr):
    array, geometry = oblique_mr
    threshold = float(np.percentile(array, 80))
    bundle = _whole_image_bundle(tmp_path / "b", axcodes="RAS", pixdim=None, roi=(32, 32, 32),
                                 a_min=threshold - 1.0, a_max=threshold + 1.0)
    result = Predictor(bundle, device="cpu", trusted=True).segment(array, geometry)
    got, expected = _mask_of(result, array.shape), array > threshold
    dice = 2 * (got & expected).sum() / (got.sum() + expected.sum())
    assert dice > 0.9


def _box_bundle(root, margin=0.25, size=(32, 32, 32)):
    inference = {
        "network_def": {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1,
                        "out_channels": 2, "channels": [4, 8], "strides": [2]},
        "box_prompt": {"margin": margin, "spatial_size": list(size)},
        "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -1000, "a_max": 1000, "b_min": 0,
             "b_max": 1, "clip": True}]},
        "inferer": {"_target_": "SimpleInferer"},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True}]},
    }
    from monai.networks.nets import UNet

    return read_bundle(write_bundle(root, inference, UNet(3, 1, 2, (4, 8), (2,))))


def test_box_model_result_lies_inside_its_model_grid_on_the_displayed_grid(tmp_path, ct_crop, monkeypatch):
    _, geometry = ct_crop
    array = _blob(geometry, (45.3, 44.8, 10.4), sigma_mm=12.0)
    bundle = _box_bundle(tmp_path / "box")
    assert bundle.needs_box and not bundle.needs_trust
    predictor = Predictor(bundle, device="cpu")
    predictor.network = ThresholdNet()  # the box path with a pointwise network: result = threshold in the region
    box = geometry.index_to_patient(np.array([[20.0, 30.0, 6.0], [70.0, 60.0, 14.0]]))
    result = predictor.segment(array, geometry, np.sort(box, axis=0))
    region = result.region
    got = _mask_of(result, array.shape)
    expected = np.zeros_like(got)
    expected[region.slices] = array[region.slices] > 0.0
    assert not got[~np.pad(np.ones(region.shape, bool), [(a, s - b) for a, b, s in
                                                         zip(region.start, region.stop, array.shape)])].any()
    dice = 2 * (got & expected).sum() / (got.sum() + expected.sum())
    assert dice > 0.95
    shift_vox = np.array(np.nonzero(got)).mean(axis=1) - np.array(np.nonzero(expected)).mean(axis=1)
    assert np.all(np.abs(shift_vox) < 0.1), shift_vox
    assert result.uncertainty.shape == region.shape and result.uncertainty.dtype == np.float16
    assert result.probabilities.shape == (2,) + region.shape


def test_box_is_required_and_must_touch_the_image(tmp_path, ct_crop):
    array, geometry = ct_crop
    predictor = Predictor(_box_bundle(tmp_path / "box"), device="cpu")
    with pytest.raises(ModelError, match="box"):
        predictor.segment(array, geometry, None)
    far = geometry.index_to_patient(np.array([[1000.0, 1000.0, 1000.0], [1010.0, 1010.0, 1010.0]]))
    with pytest.raises(ValueError, match="outside"):
        predictor.segment(array, geometry, np.sort(far, axis=0))


def test_cancel_stops_inference(tmp_path, ct_crop):
    array, geometry = ct_crop
    bundle = _whole_image_bundle(tmp_path / "b", axcodes=None, roi=(16, 16, 8))
    with pytest.raises(InferenceCancelled):
        Predictor(bundle, device="cpu", trusted=True).segment(array, geometry, cancelled=lambda: True)


def test_out_of_memory_falls_back_to_a_smaller_plan(tmp_path, ct_crop, monkeypatch):
    array, geometry = ct_crop
    predictor = Predictor(_whole_image_bundle(tmp_path / "b", axcodes=None, roi=(32, 32, 8)), device="cpu",
                          trusted=True)
    real = predictor._run_plan
    plans = []

    def flaky(tensor, roi, plan, progress, cancelled):
        plans.append(plan)
        if plan.sw_batch_size > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(tensor, roi, plan, progress, cancelled)

    monkeypatch.setattr(predictor, "_run_plan", flaky)
    result = predictor.segment(array, geometry)
    assert [p.sw_batch_size for p in plans] == [2, 1]
    assert result.plan.sw_batch_size == 1
    assert np.array_equal(_mask_of(result, array.shape), array > 0.0)


def test_plan_follows_free_memory():
    big_grid = 512 * 512 * 800  # a 512×512×800 CT at its own spacing, two classes
    roomy = plan_inference("cuda", big_grid, 96 ** 3, 2, 0.5, bundle_batch=4, free_bytes=80 * 2**30)
    assert roomy == InferencePlan("cuda", "cuda", 4, 0.5, True)
    medium = plan_inference("cuda", big_grid, 96 ** 3, 2, 0.5, bundle_batch=4, free_bytes=3 * 2**30)
    assert medium.stitch_device == "cpu" and medium.sw_batch_size == 4  # the 2.5 GB output no longer fits
    tight = plan_inference("cuda", big_grid, 96 ** 3, 2, 0.5, bundle_batch=4, free_bytes=2**29)
    assert tight.stitch_device == "cpu" and tight.sw_batch_size == 1
    fallback = medium.fallback()
    assert fallback == InferencePlan("cuda", "cpu", 1, 0.5, True)
    assert fallback.fallback() == InferencePlan("cpu", "cpu", 1, 0.5, False)
    assert fallback.fallback().fallback() is None
    with pytest.raises(ModelError, match="memory"):
        plan_inference("cpu", big_grid, 96 ** 3, 2, 0.5, free_bytes=1 * 2**30)


def test_device_is_cuda_when_present(monkeypatch):
    import torch

    from medseg_app.ai.devices import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") in ("cpu", "mps")
    with pytest.raises(ModelError, match="CUDA"):
        pick_device("cuda")


def test_fill_holes_postprocessing(tmp_path, ct_crop):
    """MONAI's FillHolesd in a bundle's postprocessing: a hollow shell comes back solid."""
    _, geometry = ct_crop
    blob = _blob(geometry, (52.2, 40.6, 11.3), sigma_mm=12.0)
    shell = np.where(blob > 300.0, -500.0, blob).astype(np.float32)  # bright rim, dark core
    bundle = _whole_image_bundle(tmp_path / "b", axcodes=None)
    plain = Predictor(bundle, device="cpu", trusted=True).segment(shell, geometry)
    bundle.inference["postprocessing"]["transforms"].append(
        {"_target_": "FillHolesd", "keys": "pred", "applied_labels": [1]})
    filled = Predictor(bundle, device="cpu", trusted=True).segment(shell, geometry)
    hollow, solid = _mask_of(plain, shell.shape), _mask_of(filled, shell.shape)
    assert np.array_equal(hollow, shell > 0.0)
    assert np.array_equal(solid, blob > 0.0)
