"""Small networks and bundle writers for the AI tests: outputs that are known functions of the input, so a
result's position can be checked voxel for voxel against the image."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn


class ThresholdNet(nn.Module):
    """Two-class logits whose argmax is ``input > threshold`` (pointwise: no spatial mixing at all)."""

    def __init__(self, threshold: float = 0.5, gain: float = 50.0):
        super().__init__()
        self.conv = nn.Conv3d(1, 2, 1)
        with torch.no_grad():
            self.conv.weight[:] = torch.tensor([-gain, gain]).view(2, 1, 1, 1, 1)
            self.conv.bias[:] = torch.tensor([gain * threshold, -gain * threshold])

    def forward(self, x):
        return self.conv(x)


def box_unet_inference(intensity: dict) -> dict:
    """inference.json of a box-prompted two-level MONAI UNet (16³ box grid) with one intensity transform."""
    return {
        "network_def": {"_target_": "UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2,
                        "channels": [4, 8], "strides": [2]},
        "box_prompt": {"margin": 0.25, "spatial_size": [16, 16, 16]},
        "preprocessing": {"_target_": "Compose", "transforms": [intensity]},
        "inferer": {"_target_": "SimpleInferer"},
    }


def write_bundle(root: Path, inference: dict, network: nn.Module | None = None, labels=("background", "lesion"),
                 modality: str = "CT", weights_bytes: bytes | None = None) -> Path:
    (root / "configs").mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(parents=True, exist_ok=True)
    metadata = {"version": "0.1.0", "description": "test bundle",
                "network_data_format": {"inputs": {"image": {"modality": modality, "num_channels": 1}},
                                        "outputs": {"pred": {"channel_def": {str(i): n for i, n in enumerate(labels)}}}}}
    (root / "configs" / "metadata.json").write_text(json.dumps(metadata))
    (root / "configs" / "inference.json").write_text(json.dumps(inference))
    if weights_bytes is not None:
        (root / "models" / "model.pt").write_bytes(weights_bytes)
    elif network is not None:
        torch.save(network.state_dict(), root / "models" / "model.pt")
    return root
