"""k-means and fuzzy c-means of the source layer's intensities inside a box or a segment (``intensity_classes``).

The algorithms are our own 1-D numpy versions (``intensity_clustering``: k-means++ start from ``seed``, Lloyd
iterations; Bezdek's fuzzy c-means), so the same region, class count and seed always give the same classes.

Fuzzy c-means' memberships are shown as an image layer: on apply, with ``membership_layer`` on, the membership of
one class (the clicked one for the "selected class" output, else class ``membership_class``, 0 meaning the
brightest) is added to the study as a float image of values 0..1 on the region's box of the reference grid (0 in
the box outside the region, no values outside the box). A layer rather than a preview overlay: it stays to be
looked at under any colour map, thresholded with the Threshold tool (e.g. membership ≥ 0.5), measured, and
saved with the session; Undo takes the segments back but leaves the layer (remove it in the Layers dock).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.layer_resampling import sub_geometry
from ..core.volume import Volume
from .base import CancelFn, Parameter, Preview
from .intensity_classes import REGION_PARAMETERS, SELECTED_CLASS, IntensityClassesTool
from .intensity_clustering import Clustering, fuzzy_cmeans_1d, kmeans_1d


def _boundaries(centres: np.ndarray) -> list[float]:
    """Where the nearest centre changes: the midpoints (k-means' classes, and fuzzy c-means' largest membership
    for m = 2)."""
    return [float(v) for v in (centres[1:] + centres[:-1]) / 2]


class KMeansTool(IntensityClassesTool):
    id = "kmeans"
    title = "k-means classes"
    source = "k-means"
    parameters = REGION_PARAMETERS + (
        Parameter("seed", 0, "Random seed", "int", minimum=0, maximum=2**31 - 1),
    )

    def classify(self, values: np.ndarray, cancelled: CancelFn | None) -> tuple[np.ndarray, dict]:
        result = kmeans_1d(values, int(self.values["classes"]), seed=int(self.values["seed"]), cancelled=cancelled)
        return result.labels, {"centres": [float(c) for c in result.centres], "iterations": result.iterations,
                               "boundaries": _boundaries(result.centres)}


class FuzzyCMeansTool(IntensityClassesTool):
    id = "fuzzy_cmeans"
    title = "Fuzzy c-means classes"
    source = "fuzzy c-means"
    parameters = REGION_PARAMETERS + (
        Parameter("fuzzifier", 2.0, "Fuzzifier m", "float", minimum=1.1, maximum=5.0),
        Parameter("seed", 0, "Random seed", "int", minimum=0, maximum=2**31 - 1),
        Parameter("membership_layer", True, "Add membership layer", "bool"),
        Parameter("membership_class", 0, "Membership of class (0: brightest)", "int", minimum=0, maximum=8),
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._clustering: Clustering | None = None

    def classify(self, values: np.ndarray, cancelled: CancelFn | None) -> tuple[np.ndarray, dict]:
        m = float(self.values["fuzzifier"])
        result = fuzzy_cmeans_1d(values, int(self.values["classes"]), m=m, seed=int(self.values["seed"]),
                                 cancelled=cancelled)
        self._clustering = result
        info = {"centres": [float(c) for c in result.centres], "iterations": result.iterations, "fuzzifier": m}
        if abs(m - 2.0) < 1e-12:
            info["boundaries"] = _boundaries(result.centres)
        else:  # where the largest membership changes: between the last value of one class and the first of the next
            order = np.argsort(values, kind="stable")
            ordered = result.labels[order]
            steps = np.flatnonzero(np.diff(ordered) != 0)
            info["boundaries"] = [float((values[order][s] + values[order][s + 1]) / 2) for s in steps]
        return result.labels, info

    def membership_class(self, selected: int | None) -> int:
        """The class (0-based) whose membership becomes a layer."""
        n = int(self.values["classes"])
        if selected is not None:
            return selected
        chosen = int(self.values["membership_class"])
        return n - 1 if chosen <= 0 else min(chosen, n) - 1

    def compute(self, cancelled: CancelFn | None = None, index=None, **inputs) -> Preview:
        preview = super().compute(cancelled, index=index)
        box, inside = self.last_region
        selected = preview.info.get("selected_class")
        k = self.membership_class(None if selected is None else selected - 1)
        membership = np.zeros(box.shape, np.float32)
        membership[inside] = self._clustering.membership(k)
        preview.info["membership"] = {"class": k + 1, "name": preview.info["classes"][k]["name"], "box": box,
                                      "values": membership}
        self._clustering = None
        return preview

    def apply(self, preview: Preview | None = None):
        preview = preview or self.last_preview
        changed = super().apply(preview)
        context = self._require_context()
        membership = preview.info.get("membership") if preview is not None else None
        if self.values["membership_layer"] and membership is not None and context.study is not None:
            self.add_membership_layer(membership)
        return changed

    def add_membership_layer(self, membership: dict):
        """Add the membership (0..1) of one class to the study, on the region's box of the reference grid."""
        context = self._require_context()
        reference = context.volume
        # the reference's patient and Frame of Reference (so it is registered), none of its series or instances;
        # no source_path: it has no file (a session keeps it only as a copy)
        identity = replace(reference.identity, series_instance_uid="", sop_class_uid="", sop_instance_uids=(),
                           frame_numbers=(), series_description=f"Fuzzy c-means membership of {membership['name']}")
        volume = Volume(membership["values"], sub_geometry(reference.geometry, membership["box"]),
                        modality="", units="", identity=identity)
        return context.study.add_layer(volume, f"Membership: {membership['name']}", opacity=0.5)


__all__ = ["FuzzyCMeansTool", "KMeansTool", "SELECTED_CLASS"]
