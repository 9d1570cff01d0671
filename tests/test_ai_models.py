"""The shipped PET GTV models (models/pet_gtv_box_unet, models/pet_gtv_box_vnet), ``medseg segment`` on the
sample, and ``medseg train`` end to end (tiny, on the two labelled PET cases kept in the repository)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import REPO, SAMPLE, STS_002, series_dir
from medseg_app.ai.box_training_data import Case, dice, exact_box, jittered_box, load_cases
from medseg_app.ai.bundle import find_bundle, read_bundle
from medseg_app.ai.inference import Predictor
from medseg_app.cli import main
from medseg_app.io import load_volume

SHIPPED = {"pet_gtv_box_unet": "UNet", "pet_gtv_box_vnet": "VNet"}
# Held-out mean Dice with jittered boxes (centre ±1 cm, size ±20 %) each card must report: the target.
MIN_JITTERED_DICE = {"pet_gtv_box_unet": 0.80, "pet_gtv_box_vnet": 0.80}
PET_DIR = series_dir(SAMPLE, "PET")
PET_MASK = SAMPLE / "PET" / "nifti" / "mask" / "mask.nii.gz"


@pytest.fixture(scope="module")
def sample_case():
    volume = load_volume(PET_DIR)
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(PET_MASK))) > 0
    assert mask.shape == volume.array.shape
    return Case("STS_001", volume.array.astype(np.float32), mask, volume.geometry)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_bundle_card(name):
    bundle = read_bundle(REPO / "models" / name)
    summary = bundle.summary()
    assert summary["network"] == SHIPPED[name] and summary["modality"] == "PT" and summary["labels"] == ["GTV"]
    assert bundle.needs_box and not bundle.needs_trust
    assert bundle.weights.stat().st_size < 20e6
    metrics = bundle.accuracy
    assert metrics["mean_dice_jittered_box"] >= MIN_JITTERED_DICE[name]
    assert metrics["mean_dice_jittered_box"] > metrics["baseline_ellipsoid_jittered_box"]
    assert metrics["mean_dice_jittered_box"] > metrics["baseline_suvmax40_jittered_box"]
    card = (bundle.path / "docs" / "README.md").read_text()
    assert f"{metrics['mean_dice_jittered_box']:.3f}" in card and "held out" in card
    assert "STS_001" in bundle.metadata["medseg_held_out_cases"]  # the bundled sample is never trained on
    assert bundle.metadata["medseg_training"]["seconds"] < 3600


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_segments_the_held_out_sample(name, sample_case):
    predictor = Predictor(find_bundle(name), device="cpu")
    rng = np.random.default_rng(11)
    scores = []
    for _ in range(3):
        box = jittered_box(exact_box(sample_case), rng)
        result = predictor.segment(sample_case.image, sample_case.geometry, box)
        assert [lm.name for lm in result.labels] == ["GTV"]
        scores.append(dice(result.label_map(sample_case.mask.shape) > 0, sample_case.mask))
    assert min(scores) > 0.75, scores


def test_segment_command_writes_a_label_map_on_the_image_grid(tmp_path, sample_case, capsys):
    box = exact_box(sample_case)
    out = tmp_path / "gtv.nii.gz"
    argv = ["segment", str(PET_DIR), "--model", "pet_gtv_box_unet", "--out", str(out), "--device", "cpu",
            "--box", ",".join(f"{v:.2f}" for v in box.ravel())]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["device"] == "cpu" and summary["model"] == "pet_gtv_box_unet" and summary["seconds"] > 0
    (label,) = summary["labels"]
    assert label["name"] == "GTV" and label["value"] == 1 and label["voxels"] > 1000
    written = sitk.ReadImage(str(out))
    geometry = sample_case.geometry
    assert written.GetSize() == geometry.size
    assert np.allclose(written.GetSpacing(), geometry.spacing) and np.allclose(written.GetOrigin(), geometry.origin)
    labels = sitk.GetArrayFromImage(written)
    assert int((labels == 1).sum()) == label["voxels"]
    assert dice(labels == 1, sample_case.mask) > 0.75
    assert json.loads(out.with_name("gtv.json").read_text())  # the sidecar names the label
    assert main(argv) == 2 and "already exists" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0


def test_models_command_lists_the_shipped_models(capsys):
    assert main(["models", "--json"]) == 0
    rows = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    for name, network in SHIPPED.items():
        assert rows[name]["network"] == network and rows[name]["needs_box"]
        accuracy = rows[name]["accuracy"]
        assert accuracy["mean_dice_jittered_box"] >= MIN_JITTERED_DICE[name]
        assert accuracy["mean_dice_jittered_box"] > accuracy["baseline_ellipsoid_jittered_box"]


@pytest.fixture()
def two_cases(tmp_path):
    root = tmp_path / "cases"
    for case, folder in (("STS_001", SAMPLE), ("STS_002", STS_002)):
        (root / case).mkdir(parents=True)
        (root / case / "PET_image.nii.gz").symlink_to(folder / "PET" / "nifti" / "image" / "image.nii.gz")
        (root / case / "PET_mask.nii.gz").symlink_to(folder / "PET" / "nifti" / "mask" / "mask.nii.gz")
    return root


def test_training_is_seeded_and_repeatable(two_cases):
    import torch

    from medseg_app.ai.training import TrainingSettings, train

    cases = load_cases(two_cases)
    settings = TrainingSettings(network="unet", steps=3, batch_size=2, threads=1)
    first, _, _ = train(cases, settings, log=lambda line: None)
    second, _, _ = train(cases, settings, log=lambda line: None)
    other, _, _ = train(cases, TrainingSettings(network="unet", steps=3, batch_size=2, threads=1, seed=1),
                        log=lambda line: None)
    a, b, c = first.state_dict(), second.state_dict(), other.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_train_command_publishes_a_bundle_with_its_card(two_cases, tmp_path, capsys):
    out = tmp_path / "models" / "tiny_vnet"
    assert main(["train", "--network", "vnet", "--data", str(two_cases), "--out", str(out), "--steps", "2",
                 "--batch-size", "2", "--held-out", "1", "--jitters", "1", "--threads", "1"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(metrics["held_out_cases"]) == 1 and 0.0 <= metrics["mean_dice_jittered_box"] <= 1.0
    bundle = read_bundle(out)
    assert bundle.network_name == "VNet" and bundle.needs_box
    assert bundle.metadata["eval_metrics"]["mean_dice_jittered_box"] == metrics["mean_dice_jittered_box"]
    card = (out / "docs" / "README.md").read_text()
    assert "ellipsoid inscribed in the box" in card and "40 % SUVmax" in card
    assert (out / "docs" / "training_log.txt").read_text().startswith("step")
    assert main(["train", "--network", "vnet", "--data", str(two_cases), "--out", str(out)]) == 2


def test_segment_command_takes_a_box_whose_first_corner_is_negative(tmp_path, sample_case, capsys):
    """``--box -120.5,...`` (most LPS boxes right of the midline) is a value, not an option: the sample PET moved
    300 mm to the patient's right, with its box moved too, gives the same label map as the original."""
    shift = np.array([-300.0, 0.0, 0.0])
    moved = sitk.GetImageFromArray(sample_case.image)
    moved.SetSpacing(sample_case.geometry.spacing)
    moved.SetOrigin(tuple(np.asarray(sample_case.geometry.origin) + shift))
    moved.SetDirection(tuple(np.asarray(sample_case.geometry.direction, float).ravel()))
    image = tmp_path / "pet_moved.nii.gz"
    sitk.WriteImage(moved, str(image))
    box = exact_box(sample_case)
    runs = {}
    for name, path, corners in (("original", PET_DIR, box), ("moved", image, box + shift)):
        assert corners.ravel()[0] < 0 or name == "original"
        out = tmp_path / f"{name}.nii.gz"
        text = ",".join(f"{v:.2f}" for v in corners.ravel())
        assert main(["segment", str(path), "--model", "pet_gtv_box_unet", "--box", text, "--out", str(out),
                     "--device", "cpu"]) == 0, capsys.readouterr().err
        runs[name] = sitk.GetArrayFromImage(sitk.ReadImage(str(out)))
    assert runs["original"].any() and np.array_equal(runs["original"], runs["moved"])
