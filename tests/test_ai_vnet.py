"""MedSeg's width- and norm-parametrised subclass of MONAI's V-Net (medseg_app.ai.vnet)."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import VNet as MonaiVNet
from torch import nn

from medseg_app.ai.vnet import VNet


def _shapes(network: nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in network.state_dict().items()}


def test_full_width_batch_norm_is_exactly_monais_vnet():
    ours = VNet(spatial_dims=3, in_channels=1, out_channels=2)
    assert _shapes(ours) == _shapes(MonaiVNet(spatial_dims=3, in_channels=1, out_channels=2))
    assert any(isinstance(m, nn.BatchNorm3d) for m in ours.modules())


def test_narrow_network_has_the_same_blocks_at_a_quarter_width():
    narrow = VNet(spatial_dims=3, in_channels=1, out_channels=2, base_channels=4)
    full = _shapes(VNet(spatial_dims=3, in_channels=1, out_channels=2))
    assert set(_shapes(narrow)) == set(full)
    assert _shapes(narrow)["down_tr256.down_conv.weight"] == (64, 32, 2, 2, 2)
    assert full["down_tr256.down_conv.weight"] == (256, 128, 2, 2, 2)


@pytest.mark.parametrize("base", [4, 16])
def test_instance_norm_replaces_every_batch_norm(base):
    network = VNet(spatial_dims=3, in_channels=1, out_channels=2, base_channels=base, norm="instance",
                   dropout_prob_down=None, dropout_prob_up=(None, 0.0)).eval()
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in network.modules())
    norms = [m for m in network.modules() if isinstance(m, nn.InstanceNorm3d)]
    assert norms and all(m.affine for m in norms)
    # Instance norm: each crop is normalised on its own, so a batch gives the same output as single crops.
    torch.manual_seed(0)
    x = torch.rand(2, 1, 32, 32, 32)
    with torch.no_grad():
        together = network(x)
        alone = torch.cat([network(x[:1]), network(x[1:])])
    assert together.shape == (2, 2, 32, 32, 32)
    assert torch.allclose(together, alone, atol=1e-5)


def test_unknown_norm_is_refused():
    with pytest.raises(ValueError, match="norm"):
        VNet(base_channels=4, norm="group")
