"""Training a box-prompted lesion model and writing it as a MONAI bundle (``medseg train``).

Seeded and repeatable (same seed, same thread count: same weights). Each step draws cases, a jittered box
around each case's reference mask (wider than the evaluation jitter), samples image and mask on the box's
model grid with the same code inference uses, applies the bundle's intensity preprocessing, random flips,
and takes one Adam step on Dice + cross-entropy.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .box_training_data import Case, exact_box, jittered_box, split_cases, training_sample
from .bundle_transforms import Preprocessing

TRAIN_SHIFT_MM = 12.0
TRAIN_SCALE = 0.25

NETWORKS = {
    "unet": {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2,
             "channels": [16, 32, 64, 128], "strides": [2, 2, 2], "num_res_units": 2, "norm": "instance"},
    "vnet": {"_target_": "medseg_app.ai.vnet.VNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2,
             "base_channels": 4, "dropout_prob_down": None, "dropout_prob_up": [None, 0.0],
             "norm": "instance"},
}
INTENSITY = [{"_target_": "ScaleIntensityRangePercentilesd", "keys": "image", "lower": 0.5, "upper": 99.5,
              "b_min": 0.0, "b_max": 1.0, "clip": False}]


@dataclass
class TrainingSettings:
    network: str = "unet"
    steps: int = 1500
    batch_size: int = 8
    learning_rate: float = 2e-3
    spatial_size: tuple = (32, 32, 32)
    margin: float = 0.25
    seed: int = 20261122
    held_out: int = 8
    threads: int = 2
    label: str = "GTV"
    modality: str = "PT"
    weight_decay: float = 1e-5
    extra: dict = field(default_factory=dict)


def inference_config(settings: TrainingSettings) -> dict:
    return {
        "network_def": NETWORKS[settings.network],
        "box_prompt": {"margin": settings.margin, "spatial_size": list(settings.spatial_size)},
        "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "LoadImaged", "keys": "image"}, {"_target_": "EnsureChannelFirstd", "keys": "image"},
            *INTENSITY]},
        "inferer": {"_target_": "SimpleInferer"},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True},
            {"_target_": "AsDiscreted", "keys": "pred", "argmax": True},
            {"_target_": "KeepLargestConnectedComponentd", "keys": "pred", "applied_labels": [1]}]},
    }


def _intensity() -> Preprocessing:
    return Preprocessing(intensity=[("ScaleIntensityRangePercentiles", {k: v for k, v in t.items()
                                                                         if not k.startswith("_")})
                                    for t in INTENSITY])


def _batch(cases: list[Case], boxes: list[np.ndarray], settings: TrainingSettings, rng: np.random.Generator):
    pre = _intensity()
    images, masks = [], []
    for case, box in zip(cases, boxes):
        image, mask = training_sample(case, box, settings.margin, settings.spatial_size)
        image = pre.apply_intensity(image)
        for axis in range(3):
            if rng.random() < 0.5:
                image, mask = np.flip(image, axis), np.flip(mask, axis)
        image = image * rng.uniform(0.9, 1.1) + rng.normal(0, 0.02, image.shape).astype(np.float32)
        # MONAI's (x, y, z) = (i, j, k) layout, as at inference.
        images.append(np.ascontiguousarray(image.transpose(2, 1, 0), dtype=np.float32))
        masks.append(np.ascontiguousarray(mask.transpose(2, 1, 0)))
    return np.stack(images)[:, None], np.stack(masks)[:, None].astype(np.int64)


def train(cases: list[Case], settings: TrainingSettings, log: Callable[[str], None] = print):
    """Train on ``cases``; returns (network on the CPU, seconds, device used)."""
    import torch
    from monai.losses import DiceCELoss
    from monai.utils import set_determinism

    from .network_loading import ALLOWED_NETWORKS, _import

    torch.set_num_threads(settings.threads)
    set_determinism(seed=settings.seed)
    rng = np.random.default_rng(settings.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    spec = dict(NETWORKS[settings.network])
    target = ALLOWED_NETWORKS.get(spec.pop("_target_"), None) or NETWORKS[settings.network]["_target_"]
    network = _import(target)(**spec).to(device)
    optimiser = torch.optim.Adam(network.parameters(), lr=settings.learning_rate,
                                 weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings.learning_rate,
                                                   total_steps=settings.steps, pct_start=0.1)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    exact = [exact_box(c) for c in cases]
    started = time.perf_counter()
    network.train()
    running = []
    for step in range(1, settings.steps + 1):
        picks = rng.integers(0, len(cases), settings.batch_size)
        boxes = [jittered_box(exact[p], rng, TRAIN_SHIFT_MM, TRAIN_SCALE) for p in picks]
        images, masks = _batch([cases[p] for p in picks], boxes, settings, rng)
        optimiser.zero_grad(set_to_none=True)
        loss = loss_fn(network(torch.from_numpy(images).to(device)), torch.from_numpy(masks).to(device))
        loss.backward()
        optimiser.step()
        schedule.step()
        running.append(float(loss.detach()))
        if step % 50 == 0 or step == settings.steps:
            elapsed = time.perf_counter() - started
            log(f"step {step}/{settings.steps}  loss {np.mean(running[-50:]):.4f}  {elapsed:.0f} s")
    return network.cpu().eval(), time.perf_counter() - started, device


def write_bundle(out: Path, network, settings: TrainingSettings, metadata_extra: dict) -> Path:
    """The trained network as a MONAI bundle (configs/metadata.json, configs/inference.json, models/model.pt)."""
    import monai
    import torch

    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    size = list(settings.spatial_size)
    metadata = {
        "schema": "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/"
                  "meta_schema_20220324.json",
        "version": "1.0.0",
        "monai_version": monai.__version__,
        "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": np.__version__,
        "task": "Box-prompted FDG-PET soft-tissue sarcoma GTV segmentation",
        "description": f"MONAI {NETWORKS[settings.network]['_target_'].rsplit('.', 1)[-1]} that segments the "
                       "gross tumour volume inside a user's box (plus a margin) on an FDG-PET SUV image.",
        "authors": "MedSeg",
        "copyright": "Trained on CC BY 3.0 data (IBSI / TCIA Soft-tissue-Sarcoma); see docs/README.md",
        "data_source": "IBSI validation set, TCIA Soft-tissue-Sarcoma (Vallières et al. 2015)",
        "data_type": "nifti",
        "image_classes": "single channel PET SUV",
        "label_classes": "0 background, 1 GTV",
        "pred_classes": "0 background, 1 GTV",
        "intended_use": "Research; a proposal a clinician corrects, not a diagnosis.",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "magnitude", "modality": settings.modality,
                                 "num_channels": 1, "spatial_shape": size, "dtype": "float32",
                                 "value_range": [0, 1], "is_patch_data": True, "channel_def": {"0": "image"}}},
            "outputs": {"pred": {"type": "image", "format": "segmentation", "num_channels": 2,
                                 "spatial_shape": size, "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": True, "channel_def": {"0": "background", "1": settings.label}}},
        },
        **metadata_extra,
    }
    (out / "configs" / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (out / "configs" / "inference.json").write_text(json.dumps(inference_config(settings), indent=2) + "\n",
                                                   encoding="utf-8")
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    torch.save(state, out / "models" / "model.pt")
    return out


def split_for(cases: list[Case], settings: TrainingSettings) -> tuple[list[Case], list[Case]]:
    train_ids, held_ids = split_cases([c.id for c in cases], settings.held_out, settings.seed)
    by_id = {c.id: c for c in cases}
    return [by_id[i] for i in train_ids], [by_id[i] for i in held_ids]
