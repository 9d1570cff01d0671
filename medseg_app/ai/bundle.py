"""MONAI bundles on disk: finding them, and reading what MedSeg needs from their configs without running them.

A bundle is a folder ``<name>/`` with ``configs/metadata.json`` (network_data_format, label names),
``configs/inference.json`` (network_def, preprocessing, inferer, postprocessing) and the weights in
``models/`` (``model.pt`` as a state dict, or ``model.safetensors``). Bundles from the MONAI Model Zoo such as
spleen_ct_segmentation work as they are. MedSeg's own box-prompted bundles add a ``box_prompt`` section to
inference.json (``margin``, ``spatial_size``).

Reading a bundle never executes it: the JSON is interpreted statically (``@id`` references are followed).
A config holding ``$`` expressions (Python code) is marked ``needs_trust``; such a bundle runs only after the
user trusts it (see :mod:`.trust`), and only then are expressions evaluated, by MONAI's ConfigParser.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import MedSegError

WEIGHT_FILES = ("model.safetensors", "model.pt", "model.pth")


class ModelError(MedSegError):
    """A model bundle that cannot be listed, trusted, loaded or run (one sentence)."""


def _has_expression(node) -> bool:
    if isinstance(node, str):
        return node.startswith("$")
    if isinstance(node, dict):
        return any(_has_expression(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_expression(v) for v in node)
    return False


@dataclass
class ModelBundle:
    path: Path
    metadata: dict
    inference: dict
    weights: Path | None
    labels: dict[int, str] = field(default_factory=dict)  # output channel -> name (0 is background)

    # --- what the configs say --------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def needs_trust(self) -> bool:
        return _has_expression(self.inference) or _has_expression(self.metadata)

    @property
    def box_prompt(self) -> dict | None:
        prompt = self.inference.get("box_prompt")
        return prompt if isinstance(prompt, dict) else None

    @property
    def needs_box(self) -> bool:
        return self.box_prompt is not None

    def resolve(self, node):
        """Follow ``@id`` references (``@a#b`` for nested ids) through inference.json; expressions stay as text."""
        for _ in range(20):
            if not (isinstance(node, str) and node.startswith("@")):
                return node
            target = self.inference
            for part in node[1:].split("#"):
                if isinstance(target, list) and part.isdigit():
                    target = target[int(part)]
                elif isinstance(target, dict) and part in target:
                    target = target[part]
                else:
                    raise ModelError(f"model {self.name}: inference.json refers to {node}, which it does not define.")
            node = target
        raise ModelError(f"model {self.name}: inference.json references loop.")

    def transforms(self, section: str) -> list[dict]:
        """The transform list of ``preprocessing`` / ``postprocessing`` (a Compose or a plain list)."""
        node = self.resolve(self.inference.get(section))
        if isinstance(node, dict) and "transforms" in node:
            node = self.resolve(node["transforms"])
        if not isinstance(node, list):
            return []
        return [self.resolve(t) for t in node if isinstance(self.resolve(t), dict)]

    def inferer(self) -> dict:
        node = self.resolve(self.inference.get("inferer", {}))
        return node if isinstance(node, dict) else {}

    @property
    def network_name(self) -> str:
        node = self.resolve(self.inference.get("network_def", {}))
        target = node.get("_target_", "?") if isinstance(node, dict) else "?"
        return str(target).rsplit(".", 1)[-1]

    @property
    def modality(self) -> str:
        inputs = self.metadata.get("network_data_format", {}).get("inputs", {})
        for spec in inputs.values():
            if isinstance(spec, dict) and spec.get("modality"):
                return str(spec["modality"])
        return ""

    @property
    def input_spacing(self) -> list[float] | None:
        for t in self.transforms("preprocessing"):
            if str(t.get("_target_", "")).rsplit(".", 1)[-1] in ("Spacingd", "Spacing"):
                pixdim = self.resolve(t.get("pixdim"))
                if isinstance(pixdim, (list, tuple)):
                    return [float(v) for v in pixdim]
        return None

    @property
    def accuracy(self) -> dict:
        metrics = self.metadata.get("eval_metrics", {})
        return metrics if isinstance(metrics, dict) else {}

    def summary(self) -> dict:
        """What ``medseg models`` and the GUI's model list show."""
        return {
            "name": self.name,
            "network": self.network_name,
            "modality": self.modality,
            "labels": [self.labels[k] for k in sorted(self.labels) if k != 0],
            "input_spacing_mm": self.input_spacing,
            "needs_box": self.needs_box,
            "needs_trust": self.needs_trust,
            "accuracy": self.accuracy,
            "description": str(self.metadata.get("description", "")),
            "version": str(self.metadata.get("version", "")),
            "path": str(self.path),
        }


def _read_json(path: Path, bundle: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model folder {bundle} has no {path.relative_to(bundle)}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} cannot be read as JSON ({type(exc).__name__}).") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object.")
    return data


def _labels(metadata: dict) -> dict[int, str]:
    outputs = metadata.get("network_data_format", {}).get("outputs", {})
    for spec in outputs.values():
        channel_def = spec.get("channel_def") if isinstance(spec, dict) else None
        if isinstance(channel_def, dict):
            labels = {}
            for key, name in channel_def.items():
                try:
                    labels[int(key)] = str(name)
                except (TypeError, ValueError):
                    continue
            if labels:
                return labels
    return {0: "background", 1: "foreground"}


def read_bundle(path: str | Path) -> ModelBundle:
    path = Path(path)
    metadata = _read_json(path / "configs" / "metadata.json", path)
    inference = _read_json(path / "configs" / "inference.json", path)
    weights = next((path / "models" / f for f in WEIGHT_FILES if (path / "models" / f).is_file()), None)
    return ModelBundle(path=path, metadata=metadata, inference=inference, weights=weights,
                       labels=_labels(metadata))


def model_dirs() -> list[Path]:
    """Where bundles are looked for: MEDSEG_MODELS_PATH (os.pathsep-separated), the user's models folder,
    then the models shipped with MedSeg."""
    from ..resources import models_dir

    dirs = [Path(p) for p in os.environ.get("MEDSEG_MODELS_PATH", "").split(os.pathsep) if p]
    data_home = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    dirs += [data_home / "medseg" / "models", models_dir()]
    return dirs


def discover_bundles(dirs: list[Path] | None = None) -> tuple[list[ModelBundle], list[str]]:
    """Every readable bundle (first of a name wins) and one sentence per folder that could not be read."""
    bundles: dict[str, ModelBundle] = {}
    problems: list[str] = []
    for root in dirs if dirs is not None else model_dirs():
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "configs").is_dir()):
            if folder.name in bundles:
                continue
            try:
                bundles[folder.name] = read_bundle(folder)
            except ModelError as exc:
                problems.append(str(exc))
    return list(bundles.values()), problems


def find_bundle(name: str, dirs: list[Path] | None = None) -> ModelBundle:
    candidate = Path(name)
    if (candidate / "configs").is_dir():
        return read_bundle(candidate)
    bundles, _ = discover_bundles(dirs)
    for bundle in bundles:
        if bundle.name == name:
            return bundle
    known = ", ".join(b.name for b in bundles) or "none"
    raise ModelError(f"no model named {name} (installed: {known}).")
