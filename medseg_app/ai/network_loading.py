"""Building a bundle's network and loading its weights without executing anything a file says.

Untrusted configs are instantiated statically, and only networks from an allow-list (MONAI's segmentation
networks and MedSeg's V-Net) with plain JSON arguments. Weights are always read with
``torch.load(weights_only=True)`` (or safetensors), so a crafted pickle in ``models/`` raises instead of
running, trusted bundle or not.
"""

from __future__ import annotations

import importlib

from .bundle import ModelBundle, ModelError, _has_expression
from .trust import is_trusted

ALLOWED_NETWORKS = {
    "UNet": "monai.networks.nets.UNet",
    "BasicUNet": "monai.networks.nets.BasicUNet",
    "VNet": "monai.networks.nets.VNet",
    "SegResNet": "monai.networks.nets.SegResNet",
    "DynUNet": "monai.networks.nets.DynUNet",
    "AttentionUnet": "monai.networks.nets.AttentionUnet",
    "UNETR": "monai.networks.nets.UNETR",
    "SwinUNETR": "monai.networks.nets.SwinUNETR",
}
ALLOWED_TARGETS = set(ALLOWED_NETWORKS.values()) | {"medseg_app.ai.vnet.VNet"}


def _import(target: str):
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def build_network(bundle: ModelBundle, trusted: bool | None = None):
    """The bundle's ``network_def`` as a torch module (on the CPU, not yet loaded)."""
    trusted = is_trusted(bundle) if trusted is None else trusted
    if bundle.needs_trust and not trusted:
        raise ModelError(f"model {bundle.name} runs Python code from its configs; trust it first "
                         "(GUI: answer the prompt; CLI: --trust).")
    node = bundle.resolve(bundle.inference.get("network_def"))
    if not isinstance(node, dict) or "_target_" not in node:
        raise ModelError(f"model {bundle.name}: inference.json has no network_def with a _target_.")
    if bundle.needs_trust:
        return _build_trusted(bundle)
    target = str(node["_target_"])
    target = ALLOWED_NETWORKS.get(target, target)
    if target not in ALLOWED_TARGETS:
        raise ModelError(f"model {bundle.name}: network {node['_target_']} is not one MedSeg builds from an "
                         "untrusted bundle.")
    kwargs = {k: bundle.resolve(v) for k, v in node.items() if not k.startswith("_")}
    if _has_expression(kwargs) or any(isinstance(v, str) and v.startswith("@") for v in kwargs.values()):
        raise ModelError(f"model {bundle.name}: network_def arguments are not plain values.")
    try:
        return _import(target)(**kwargs)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ModelError(f"model {bundle.name}: network_def cannot be built ({exc}).") from None


def _build_trusted(bundle: ModelBundle):
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(str(bundle.path / "configs" / "inference.json"))
    parser["bundle_root"] = str(bundle.path)
    try:
        return parser.get_parsed_content("network_def")
    except Exception as exc:  # noqa: BLE001 - whatever a trusted config's code raises is reported in one line
        raise ModelError(f"model {bundle.name}: network_def failed ({type(exc).__name__}: {exc}).") from None


def read_state_dict(bundle: ModelBundle) -> dict:
    import torch

    if bundle.weights is None:
        raise ModelError(f"model {bundle.name} has no weights (models/model.pt or models/model.safetensors).")
    try:
        if bundle.weights.suffix == ".safetensors":
            try:
                from safetensors.torch import load_file
            except ImportError:
                raise ModelError(f"model {bundle.name} stores safetensors weights; install safetensors.") from None
            state = load_file(str(bundle.weights))
        else:
            state = torch.load(bundle.weights, map_location="cpu", weights_only=True)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - a pickle with code, or a damaged file: refused either way
        raise ModelError(f"{bundle.weights}: refused to load the weights ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:160] if str(exc) else 'unreadable'}).") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ModelError(f"{bundle.weights}: the weights are not a state dict.")
    return state


def load_network(bundle: ModelBundle, trusted: bool | None = None):
    """The network with its weights, in eval mode, float32, on the CPU."""
    network = build_network(bundle, trusted)
    state = read_state_dict(bundle)
    try:
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError as exc:
        raise ModelError(f"model {bundle.name}: the weights do not fit network_def "
                         f"({str(exc).splitlines()[0][:160]}).") from None
    return network.eval()
