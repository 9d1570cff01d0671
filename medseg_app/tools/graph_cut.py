"""Graph cut from foreground and background scribbles (Boykov & Jolly 2001), on the scribbles' box plus a margin.

Energy ``λ·R + B`` minimised by the Boykov–Kolmogorov max-flow of PyMaxflow (the maintained Python binding of the
authors' own maxflow code; the grid API builds the 6-connected graph from numpy arrays without a Python loop):

- regional term R: the negative log-likelihood of a voxel's intensity under the foreground's and the background's
  model, learnt from the scribbled voxels (a smoothed histogram, or one Gaussian each);
- boundary term B: ``exp(-ΔI² / 2σ²) / d`` on each of the 6 neighbour links, d the voxel spacing along that axis
  in mm and σ the RMS neighbour difference in the crop (or the value given);
- scribbles are hard constraints, and so is "outside the source layer" (NaN: background).

The object is what stays connected to the foreground scribbles (``connected_only``), written to the segment as
"set" within the crop (a rerun replaces the last result) or "add".

Inputs: ``foreground`` and ``background``, (i, j, k) voxels, for the segment the tool edits; or ``seeds``
{segment id: voxels} as the slice views' clicks give them: the first segment seeded is the object and receives
the result, every other segment's seeds are background (3D Slicer's "Grow from seeds" way of seeding).
"""

from __future__ import annotations

import maxflow
import numpy as np
from scipy import ndimage

from .base import CancelFn, Parameter, Preview, Tool
from .cancellation import check_cancelled
from .connected_region import seeds_box, seeds_kji
from .intensity_mask import finite_filled, tight_box
from .mask_crops import spacing_kji

HISTOGRAM_BINS = 64
HARD = 1e9  # a scribble's t-link: more than any cut through the crop's n-links can cost


def _likelihood_costs(values: np.ndarray, inside: np.ndarray, fg: np.ndarray, bg: np.ndarray,
                      model: str) -> tuple[np.ndarray, ...]:
    """(cost of calling each voxel foreground, cost of calling it background): −log p(I | model); the
    histogram spans the ``inside`` voxels' values."""
    if model == "gaussian":
        def cost(samples):
            mean, sd = float(samples.mean()), max(float(samples.std()), 1e-3 * (1 + abs(float(samples.mean()))))
            return 0.5 * ((values - mean) / sd) ** 2 + np.log(sd)
        return cost(fg), cost(bg)
    known = values[inside] if inside.any() else np.concatenate([fg, bg])
    lo, hi = float(known.min()), float(known.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, HISTOGRAM_BINS + 1)
    where = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, HISTOGRAM_BINS - 1)

    width = edges[1] - edges[0]

    def cost(samples):
        # a kernel density estimate on the bins: Silverman's bandwidth, at least one bin
        bandwidth = 1.06 * float(samples.std()) * len(samples) ** -0.2 / width
        counts = ndimage.gaussian_filter1d(np.histogram(samples, edges)[0].astype(float), max(bandwidth, 1.0),
                                           mode="constant")
        counts += 1e-3 * counts.sum() / HISTOGRAM_BINS
        return -np.log(counts / counts.sum())[where]
    return cost(fg), cost(bg)


def _neighbour_differences(crop: np.ndarray):
    """Per numpy axis, I(p + e_axis) − I(p), with the last plane along the axis zero (no neighbour)."""
    for axis in range(3):
        diff = np.zeros(crop.shape, np.float32)
        lead = [slice(None)] * 3
        lead[axis] = slice(0, -1)
        diff[tuple(lead)] = np.diff(crop, axis=axis)
        yield axis, diff


class GraphCutTool(Tool):
    id = "graph_cut"
    title = "Graph cut"
    source = "graph cut"
    proposes = True
    seeds_per_segment = True  # the slice views' seeds come grouped by the segment active when each was placed
    parameters = (
        Parameter("regional_weight", 0.1, "Regional weight λ", "float", minimum=0.0, maximum=100.0),
        Parameter("model", "gaussian", "Intensity model", "choice", choices=("gaussian", "histogram")),
        Parameter("sigma", None, "Boundary σ (auto: RMS difference)", "float", minimum=0.0),
        Parameter("margin_mm", 10.0, "Margin around the scribbles", "float", minimum=0.0, unit="mm"),
        Parameter("connected_only", True, "Keep what touches the foreground scribbles", "bool"),
        Parameter("mode", "set", "Apply as", "choice", choices=("set", "add")),
    )

    def compute(self, cancelled: CancelFn | None = None, seeds=None, foreground=None, background=None,
                **inputs) -> Preview:
        context = self._require_context()
        target, foreground, background = self._scribbles(seeds, foreground, background)
        image = context.image
        fg, bg = seeds_kji(foreground, image.shape), seeds_kji(background, image.shape)
        spacing = spacing_kji(context.volume.geometry)
        margin = np.ceil(float(self.values["margin_mm"]) / spacing).astype(int)
        box = seeds_box(np.concatenate([fg, bg])).padded(margin, image.shape)
        crop = image[box.slices]
        outside = np.isnan(crop) if crop.dtype.kind == "f" else np.zeros(crop.shape, bool)
        crop = finite_filled(crop).astype(np.float32)
        fg_local, bg_local = tuple((fg - box.start).T), tuple((bg - box.start).T)
        check_cancelled(cancelled, self.title)

        fg_cost, bg_cost = _likelihood_costs(crop, ~outside, crop[fg_local], crop[bg_local], str(self.values["model"]))
        weight = float(self.values["regional_weight"])
        source_caps = weight * (bg_cost - np.minimum(fg_cost, bg_cost))  # paid when p is cut to background
        sink_caps = weight * (fg_cost - np.minimum(fg_cost, bg_cost))  # paid when p is cut to foreground
        sink_caps[outside] = HARD
        source_caps[bg_local], sink_caps[bg_local] = 0.0, HARD
        source_caps[fg_local], sink_caps[fg_local] = HARD, 0.0
        differences = list(_neighbour_differences(crop))
        sigma = self.values["sigma"]
        if sigma is None or sigma <= 0:
            sigma = float(np.sqrt(np.mean([np.mean(d ** 2) for _, d in differences]))) or 1.0
        check_cancelled(cancelled, self.title)

        graph = maxflow.Graph[float]()
        nodes = graph.add_grid_nodes(crop.shape)
        for axis, diff in differences:
            structure = np.zeros((3, 3, 3))
            structure[tuple(2 if a == axis else 1 for a in range(3))] = 1
            links = np.exp(-(diff.astype(np.float64) ** 2) / (2 * sigma ** 2)) / spacing[axis]
            graph.add_grid_edges(nodes, weights=links, structure=structure, symmetric=True)
        graph.add_grid_tedges(nodes, source_caps, sink_caps)
        check_cancelled(cancelled, self.title)
        flow = graph.maxflow()
        check_cancelled(cancelled, self.title)
        region = ~graph.get_grid_segments(nodes)
        if self.values["connected_only"]:
            labels, _ = ndimage.label(region)
            region = np.isin(labels, np.unique(labels[fg_local]))
        mode = str(self.values["mode"])
        info = {"crop": box, "voxels": int(np.count_nonzero(region)), "sigma": sigma, "flow": float(flow),
                "segment": target}
        if mode == "set":
            return Preview([(target, box, region, mode)], info)
        inner = tight_box(region, box.start)
        return Preview([(target, inner, region[inner.relative_to(box)], mode)], info)

    def _scribbles(self, seeds, foreground, background):
        """(segment receiving the result, foreground voxels, background voxels)."""
        if seeds:
            seeds = dict(seeds)
            segments = self._require_context().segmentation.segments
            for segment_id in seeds:
                if segment_id not in segments:
                    raise KeyError(f"there is no segment {segment_id}")
            target, *others = list(seeds)
            foreground = seeds[target]
            background = [voxel for other in others for voxel in seeds[other]]
        else:
            target = self._target()
        if foreground is None or len(foreground) == 0:
            raise ValueError("graph cut needs foreground scribbles (seeds in the object)")
        if background is None or len(background) == 0:
            raise ValueError("graph cut needs background scribbles: seed a second segment around the object")
        return target, foreground, background
