"""MONAI's V-Net with a width parameter.

``monai.networks.nets.VNet`` fixes its widths at 16…256 channels (45.6 M parameters, 182 MB of weights). This
subclass builds the same transitions from MONAI's own blocks (``monai.networks.nets.vnet``) starting at
``base_channels`` and inherits MONAI's forward pass unchanged; ``base_channels=16`` with ``norm="batch"`` is
exactly MONAI's VNet. ``norm="instance"`` swaps MONAI's hard-wired BatchNorm layers for affine InstanceNorm
(as MONAI's UNet and nnU-Net use): with batches of 8 small box crops, batch statistics generalise worse.
"""

from __future__ import annotations

from monai.networks.nets import vnet as monai_vnet
from monai.networks.layers.factories import Norm
from torch import nn

NORMS = ("batch", "instance")


def _swap_batch_norm(module: nn.Module, spatial_dims: int) -> None:
    instance = Norm[Norm.INSTANCE, spatial_dims]
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, instance(child.num_features, affine=True))
        else:
            _swap_batch_norm(child, spatial_dims)


class VNet(monai_vnet.VNet):
    def __init__(self, spatial_dims: int = 3, in_channels: int = 1, out_channels: int = 1, base_channels: int = 16,
                 act=("elu", {"inplace": True}), dropout_prob_down: float | None = 0.5,
                 dropout_prob_up: tuple = (0.5, 0.5), dropout_dim: int = 3, bias: bool = False, norm: str = "batch"):
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}")
        self._build(spatial_dims, in_channels, out_channels, base_channels, act, dropout_prob_down,
                    dropout_prob_up, dropout_dim, bias)
        if norm == "instance":
            _swap_batch_norm(self, spatial_dims)

    def _build(self, spatial_dims, in_channels, out_channels, base_channels, act, dropout_prob_down,
               dropout_prob_up, dropout_dim, bias):
        if base_channels == 16:
            super().__init__(spatial_dims=spatial_dims, in_channels=in_channels, out_channels=out_channels, act=act,
                             dropout_prob_down=dropout_prob_down, dropout_prob_up=tuple(dropout_prob_up),
                             dropout_dim=dropout_dim, bias=bias)
            return
        nn.Module.__init__(self)  # MONAI's __init__ would first build the full-width network
        if spatial_dims not in (2, 3):
            raise ValueError("spatial_dims can only be 2 or 3")
        b = int(base_channels)
        if b % in_channels:
            raise ValueError("base_channels must be a multiple of in_channels (V-Net's input transition repeats them)")
        up = tuple(dropout_prob_up)
        self.in_tr = monai_vnet.InputTransition(spatial_dims, in_channels, b, act, bias=bias)
        self.down_tr32 = monai_vnet.DownTransition(spatial_dims, b, 1, act, bias=bias)
        self.down_tr64 = monai_vnet.DownTransition(spatial_dims, 2 * b, 2, act, bias=bias)
        self.down_tr128 = monai_vnet.DownTransition(spatial_dims, 4 * b, 3, act, dropout_prob=dropout_prob_down,
                                                    bias=bias)
        self.down_tr256 = monai_vnet.DownTransition(spatial_dims, 8 * b, 2, act, dropout_prob=dropout_prob_down,
                                                    bias=bias)
        self.up_tr256 = monai_vnet.UpTransition(spatial_dims, 16 * b, 16 * b, 2, act, dropout_prob=up)
        self.up_tr128 = monai_vnet.UpTransition(spatial_dims, 16 * b, 8 * b, 2, act, dropout_prob=up)
        self.up_tr64 = monai_vnet.UpTransition(spatial_dims, 8 * b, 4 * b, 1, act)
        self.up_tr32 = monai_vnet.UpTransition(spatial_dims, 4 * b, 2 * b, 1, act)
        self.out_tr = monai_vnet.OutputTransition(spatial_dims, 2 * b, out_channels, act, bias=bias)
