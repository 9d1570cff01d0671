"""The bundle's pre- and post-processing, read from its transform lists and applied by MedSeg itself.

MedSeg does the spatial part (``Orientationd``, ``Spacingd``, the box crop) on its own model grid (see
:mod:`.model_grid`) so that the inverse lands exactly on the displayed grid; intensity transforms are applied
here with MONAI's semantics. A transform that would change the result and that MedSeg cannot apply is
refused with one sentence rather than skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bundle import ModelBundle, ModelError

# Transforms that only load, retype or move data around in MONAI's dict pipeline.
_NO_OPS = {"LoadImage", "EnsureChannelFirst", "EnsureType", "CastToType", "ToTensor", "AddChannel", "Identity",
           "ToDevice", "SaveImage", "Invert", "CopyItems", "DeleteItems", "SelectItems", "FromMetaTensor",
           "ToMetaTensor", "EnsureChannelFirstd", "ToNumpy"}
_INTENSITY = {"ScaleIntensityRange", "ScaleIntensityRangePercentiles", "NormalizeIntensity", "ScaleIntensity",
              "ClipIntensityPercentiles"}


def _name(transform: dict) -> str:
    name = str(transform.get("_target_", "")).rsplit(".", 1)[-1]
    return name[:-1] if name.endswith("d") and name[:-1] in (_NO_OPS | _INTENSITY | {
        "Orientation", "Spacing", "Activations", "AsDiscrete", "KeepLargestConnectedComponent", "FillHoles"}) else name


@dataclass
class Preprocessing:
    axcodes: str | None = None
    pixdim: list | None = None
    intensity: list[tuple[str, dict]] = field(default_factory=list)

    def apply_intensity(self, image: np.ndarray) -> np.ndarray:
        out = image.astype(np.float32, copy=True)
        for name, args in self.intensity:
            out = _INTENSITY_FUNCTIONS[name](out, args)
        return out


@dataclass
class Postprocessing:
    activation: str | None = None  # "softmax", "sigmoid" or None (decided from the channel count)
    keep_largest: list[int] | None = None  # labels reduced to their largest connected component
    fill_holes: list[int] | None = None  # labels whose enclosed holes are filled (MONAI's FillHoles)


def read_preprocessing(bundle: ModelBundle) -> Preprocessing:
    pre = Preprocessing()
    for t in bundle.transforms("preprocessing"):
        name = _name(t)
        args = {k: bundle.resolve(v) for k, v in t.items() if not k.startswith("_")}
        if name in _NO_OPS:
            continue
        if name == "Orientation":
            pre.axcodes = str(args.get("axcodes", "RAS"))
        elif name == "Spacing":
            pixdim = args.get("pixdim")
            pre.pixdim = [float(pixdim)] * 3 if isinstance(pixdim, (int, float)) else [float(v) for v in pixdim]
        elif name in _INTENSITY:
            pre.intensity.append((name, args))
        else:
            raise ModelError(f"model {bundle.name}: its preprocessing uses {t.get('_target_')}, which MedSeg "
                             "cannot apply.")
    if bundle.needs_box and (pre.axcodes or pre.pixdim):
        raise ModelError(f"model {bundle.name}: a box-prompted model takes its grid from the box, not from "
                         "Orientationd / Spacingd.")
    return pre


def read_postprocessing(bundle: ModelBundle) -> Postprocessing:
    post = Postprocessing()
    for t in bundle.transforms("postprocessing"):
        name = _name(t)
        args = {k: bundle.resolve(v) for k, v in t.items() if not k.startswith("_")}
        if name == "Activations":
            post.activation = "softmax" if args.get("softmax") else "sigmoid" if args.get("sigmoid") else None
        elif name == "KeepLargestConnectedComponent":
            labels = args.get("applied_labels")
            post.keep_largest = [int(v) for v in (labels if isinstance(labels, list) else [labels])] \
                if labels is not None else [k for k in bundle.labels if k != 0]
        elif name == "FillHoles":
            labels = args.get("applied_labels")
            post.fill_holes = [int(v) for v in (labels if isinstance(labels, list) else [labels])] \
                if labels is not None else [k for k in bundle.labels if k != 0]
    return post


# --- intensity transforms with MONAI's semantics ----------------------------------------------------------
def _scale_range(x, a):
    a_min, a_max = float(a.get("a_min", 0)), float(a.get("a_max", 1))
    b_min, b_max = a.get("b_min"), a.get("b_max")
    if a_max == a_min:
        out = x - a_min
    else:
        out = (x - a_min) / (a_max - a_min)
    if b_min is not None and b_max is not None:
        out = out * (float(b_max) - float(b_min)) + float(b_min)
        if a.get("clip", False):
            out = np.clip(out, min(b_min, b_max), max(b_min, b_max))
    return out.astype(np.float32)


def _scale_percentiles(x, a):
    lower, upper = np.percentile(x, [float(a.get("lower", 0)), float(a.get("upper", 100))])
    return _scale_range(x, {"a_min": lower, "a_max": upper, "b_min": a.get("b_min"), "b_max": a.get("b_max"),
                            "clip": a.get("clip", False)})


def _normalize(x, a):
    values = x[x != 0] if a.get("nonzero") else x
    if values.size == 0:
        return x
    sub = float(a["subtrahend"]) if a.get("subtrahend") is not None else float(values.mean())
    div = float(a["divisor"]) if a.get("divisor") is not None else float(values.std()) or 1.0
    if a.get("nonzero"):
        out = x.copy()
        mask = x != 0
        out[mask] = (x[mask] - sub) / div
        return out
    return ((x - sub) / div).astype(np.float32)


def _scale_intensity(x, a):
    lo, hi = float(x.min()), float(x.max())
    minv, maxv = a.get("minv", 0.0), a.get("maxv", 1.0)
    if minv is None or maxv is None:
        return x
    if hi == lo:
        return np.full_like(x, float(minv))
    return ((x - lo) / (hi - lo) * (float(maxv) - float(minv)) + float(minv)).astype(np.float32)


def _clip_percentiles(x, a):
    lower = a.get("lower")
    upper = a.get("upper")
    lo = np.percentile(x, float(lower)) if lower is not None else None
    hi = np.percentile(x, float(upper)) if upper is not None else None
    return np.clip(x, lo, hi).astype(np.float32)


_INTENSITY_FUNCTIONS = {"ScaleIntensityRange": _scale_range, "ScaleIntensityRangePercentiles": _scale_percentiles,
                        "NormalizeIntensity": _normalize, "ScaleIntensity": _scale_intensity,
                        "ClipIntensityPercentiles": _clip_percentiles}
