"""Model bundles load safely: crafted pickles do not run, Python in configs needs trust, unknown targets are
refused; ``medseg models`` lists what it finds; ``medseg segment`` checks its inputs."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from ai_fixtures import ThresholdNet, box_unet_inference, write_bundle
from medseg_app.ai.bundle import ModelError, discover_bundles, read_bundle
from medseg_app.ai.network_loading import build_network, load_network
from medseg_app.cli import main

BOX_INFERENCE = box_unet_inference({"_target_": "ScaleIntensityRangePercentilesd", "keys": "image", "lower": 0,
                                    "upper": 100, "b_min": 0, "b_max": 1})


class _Payload:
    """Unpickling this runs code: it creates the marker file (what an attacker's model.pt would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSEG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data_home"))


def test_crafted_pickle_in_models_does_not_execute(tmp_path, capsys):
    marker = tmp_path / "pwned"
    state = {"weight": torch.zeros(1), "evil": _Payload(marker)}
    bundle_dir = write_bundle(tmp_path / "models" / "evil", BOX_INFERENCE, weights_bytes=pickle.dumps(state))
    with pytest.raises(ModelError, match="refused to load the weights"):
        load_network(read_bundle(bundle_dir))
    assert not marker.exists()
    # Trusting the bundle's configs does not make its weights a pickle to run.
    assert main(["segment", str(tmp_path), "--model", str(bundle_dir), "--box", "0,0,0,1,1,1",
                 "--out", str(tmp_path / "out.nii.gz"), "--trust"]) == 2
    assert "refused to load the weights" in capsys.readouterr().err
    assert not marker.exists()
    torch_save_marker = tmp_path / "pwned2"
    torch.save({"evil": _Payload(torch_save_marker)}, bundle_dir / "models" / "model.pt")
    with pytest.raises(ModelError):
        load_network(read_bundle(bundle_dir))
    assert not torch_save_marker.exists()


def test_expression_configs_need_trust(tmp_path):
    marker = tmp_path / "ran"
    inference = dict(BOX_INFERENCE, imports=["$import pathlib"], side_effect=f"$pathlib.Path({str(marker)!r}).touch()")
    bundle = read_bundle(write_bundle(tmp_path / "expr", inference, ThresholdNet()))
    assert bundle.needs_trust
    with pytest.raises(ModelError, match="trust"):
        build_network(bundle)
    assert not marker.exists()
    assert main(["segment", str(tmp_path), "--model", str(bundle.path), "--box", "0,0,0,1,1,1",
                 "--out", str(tmp_path / "o.nii.gz")]) == 2
    assert not marker.exists()


def test_untrusted_targets_are_allow_listed(tmp_path):
    inference = dict(BOX_INFERENCE, network_def={"_target_": "os.system", "command": "touch /tmp/x"})
    with pytest.raises(ModelError, match="not one MedSeg builds"):
        build_network(read_bundle(write_bundle(tmp_path / "t", inference)))
    inference = dict(BOX_INFERENCE, network_def={"_target_": "UNet", "spatial_dims": "@missing"})
    with pytest.raises(ModelError, match="does not define"):
        build_network(read_bundle(write_bundle(tmp_path / "u", inference)))


def test_weights_that_do_not_fit_are_refused(tmp_path):
    bundle = read_bundle(write_bundle(tmp_path / "w", BOX_INFERENCE, ThresholdNet()))
    with pytest.raises(ModelError, match="do not fit"):
        load_network(bundle)


def test_damaged_bundles_are_listed_as_problems(tmp_path, capsys):
    root = tmp_path / "models"
    write_bundle(root / "good", BOX_INFERENCE, ThresholdNet())
    (root / "broken" / "configs").mkdir(parents=True)
    (root / "broken" / "configs" / "metadata.json").write_text("{not json")
    bundles, problems = discover_bundles([root])
    assert [b.name for b in bundles] == ["good"]
    assert len(problems) == 1 and "broken" in problems[0]


def test_models_command_lists_user_bundles(tmp_path, monkeypatch, capsys):
    root = tmp_path / "extra"
    write_bundle(root / "lesion_box", BOX_INFERENCE, ThresholdNet(), labels=("background", "lesion"), modality="PT")
    monkeypatch.setenv("MEDSEG_MODELS_PATH", str(root))
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    row = next(m for m in listing["models"] if m["name"] == "lesion_box")
    assert row["network"] == "UNet" and row["modality"] == "PT" and row["labels"] == ["lesion"]
    assert row["needs_box"] is True and row["needs_trust"] is False and row["input_spacing_mm"] is None
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "lesion_box" in text and "box needed: yes" in text


@pytest.mark.parametrize("box", ["1,2,3", "a,b,c,d,e,f"])
def test_segment_rejects_bad_boxes(tmp_path, box, capsys):
    bundle = write_bundle(tmp_path / "b", BOX_INFERENCE, ThresholdNet())
    assert main(["segment", str(tmp_path), "--model", str(bundle), "--box", box,
                 "--out", str(tmp_path / "o.nii.gz")]) == 2
    err = capsys.readouterr().err
    assert "--box" in err and err.count("\n") == 1


def test_segment_needs_a_box_and_an_existing_model(tmp_path, capsys):
    bundle = write_bundle(tmp_path / "b", BOX_INFERENCE, ThresholdNet())
    assert main(["segment", str(tmp_path), "--model", str(bundle), "--out", str(tmp_path / "o.nii.gz")]) == 2
    assert "needs --box" in capsys.readouterr().err
    assert main(["segment", str(tmp_path), "--model", "no_such_model", "--out", str(tmp_path / "o.nii.gz")]) == 2
    assert "no model named no_such_model" in capsys.readouterr().err
