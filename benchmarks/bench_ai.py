"""AI inference on the CPU.

ai_box_cpu: the shipped box-prompted models on the bundled sample's PET (STS_001, a held-out case), a box
jittered around its GTV, everything included (model grid, preprocessing, network, inverse resampling,
post-processing, uncertainty); the model is already loaded. Peer: the bare network forward on the same
prepared tensor (what the pre/post-processing costs on top). Target: ≤ 2 s.

ai_whole_volume_cpu: a MONAI UNet sliding-window pass over a 256×256×160 volume (96³ windows, overlap 0.25,
2 windows per batch) through MedSeg's Predictor (its planning, progress and cancel hooks) against MONAI's
plain ``sliding_window_inference`` with the same network, in the same process. Target: no slower.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.registry import REPO, Case, Skip, benchmark


def _sample_pet():
    from medseg_app.ai.box_training_data import Case as LabelledCase, exact_box, jittered_box
    from medseg_app.core.sitk_bridge import array_and_geometry_from_sitk
    from medseg_app.io import load_volume

    import SimpleITK as sitk

    pet = load_volume(REPO / "resources" / "sample" / "STS_001" / "PET" / "dicom" / "image")
    mask, _ = array_and_geometry_from_sitk(sitk.ReadImage(str(REPO / "resources" / "sample" / "STS_001" / "PET" /
                                                             "nifti" / "mask" / "mask.nii.gz")))
    case = LabelledCase("STS_001", pet.array.astype(np.float32), mask > 0, pet.geometry)
    return case, jittered_box(exact_box(case), np.random.default_rng(3))


def _box_model(name: str):
    import torch

    from medseg_app.ai.bundle import ModelError, find_bundle
    from medseg_app.ai.inference import Predictor

    torch.set_num_threads(2)
    try:
        return Predictor(find_bundle(name), device="cpu")
    except ModelError as exc:
        raise Skip(str(exc)) from None


def _box_case(model_name: str):
    import torch

    predictor = _box_model(model_name)
    case, box = _sample_pet()
    grid = predictor.model_grid(case.geometry, box)
    from medseg_app.ai.model_grid import sample_to_model_grid

    image = predictor.pre.apply_intensity(sample_to_model_grid(case.image, case.geometry, grid))
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 1, 0)))[None, None]

    def forward():
        with torch.inference_mode():
            return predictor.network(tensor)

    yield Case(ours=lambda: predictor.segment(case.image, case.geometry, box), peer=forward,
               peer_name="network forward only")


@benchmark("ai_box_cpu")
def ai_box_cpu(data: Path):
    """Box-prompted GTV on the sample PET with the shipped 3-D U-Net, all steps included."""
    yield from _box_case("pet_gtv_box_unet")


@benchmark("ai_box_cpu_vnet")
def ai_box_cpu_vnet(data: Path):
    """The same with the shipped V-Net."""
    yield from _box_case("pet_gtv_box_vnet")


WHOLE_NETWORK = {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2,
                 "channels": [16, 32, 64, 128], "strides": [2, 2, 2], "num_res_units": 2}


@benchmark("ai_whole_volume_cpu")
def ai_whole_volume_cpu(data: Path):
    """Sliding-window UNet pass over 256×256×160: MedSeg's Predictor vs MONAI sliding_window_inference."""
    import torch
    from monai.inferers import sliding_window_inference
    from monai.networks.nets import UNet

    from medseg_app.ai.bundle import read_bundle
    from medseg_app.ai.inference import Predictor

    torch.set_num_threads(2)
    torch.manual_seed(0)
    network = UNet(**{k: v for k, v in WHOLE_NETWORK.items() if k != "_target_"}).eval()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "whole_unet"
        (root / "configs").mkdir(parents=True)
        (root / "models").mkdir()
        (root / "configs" / "metadata.json").write_text(json.dumps({"network_data_format": {"outputs": {
            "pred": {"channel_def": {"0": "background", "1": "foreground"}}}}}))
        (root / "configs" / "inference.json").write_text(json.dumps({
            "network_def": WHOLE_NETWORK,
            "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 96], "sw_batch_size": 2,
                        "overlap": 0.25}}))
        torch.save(network.state_dict(), root / "models" / "model.pt")
        predictor = Predictor(read_bundle(root), device="cpu")
        image = np.random.default_rng(0).normal(0, 1, (160, 256, 256)).astype(np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 1, 0)))[None, None]

        def ours():
            return predictor._infer(image, None, None)[0]

        def peer():
            with torch.inference_mode():
                return sliding_window_inference(tensor, roi_size=[96, 96, 96], sw_batch_size=2,
                                                predictor=network, overlap=0.25)

        def verify(a, b):
            expected = b[0].numpy().transpose(0, 3, 2, 1)
            if not np.allclose(a, expected, atol=1e-4):
                raise AssertionError("MedSeg's sliding-window output differs from MONAI's")

        yield Case(ours=ours, peer=peer, peer_name="MONAI sliding_window_inference", verify=verify)
