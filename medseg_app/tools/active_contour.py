"""Active contour (ITK-SNAP's snake): a level set grown from bubbles or from the segment, on edge or region speed.

Why SimpleITK: its GeodesicActiveContourLevelSetImageFilter and ThresholdSegmentationLevelSetImageFilter are ITK's
sparse-field level sets, the same family ITK-SNAP evolves, with propagation / curvature / advection weights, an
iteration count and an RMS stopping rule; they run on a crop (:mod:`.level_set_evolution`) so a step stays quick.

Initialisation: ``init="bubbles"`` places a sphere of ``bubble_radius_mm`` at every seed (i, j, k) given as
``preview(seeds=...)``; ``init="segment"`` starts from the active segment's mask. Speed (:mod:`.level_set_speed`):
``edge`` (gradient magnitude and sigmoid) or ``region`` (inside [lower, upper] in the source layer's units; with
neither given and bubbles, the range is the bubbles' mean ± ``region_tolerance`` × SD).

``start()`` returns a :class:`ContourEvolution` the GUI steps (play / pause / step, a preview between steps);
``compute()`` — what ``preview()`` and the headless ``SegmentEditor.run`` call — drains it to convergence. Apply
writes the contour with ``mode`` "set" (the segment becomes the contour within the evolution's boxes) or "add".
"""

from __future__ import annotations

import numpy as np

from ..core.box import Box
from .base import EMPTY_SEGMENT_REASON, CancelFn, Parameter, Preview, Tool
from .cancellation import check_cancelled
from .connected_region import seeds_box, seeds_kji
from .level_set_evolution import ContourEvolution
from .level_set_speed import bubble_range
from .mask_crops import radius_voxels

INIT_KEYS = ("init", "bubble_radius_mm", "margin_mm")  # a change of these starts the contour again


def bubbles(points_kji: np.ndarray, radius_mm: float, spacing_ijk, shape) -> tuple[Box, np.ndarray]:
    """The union of balls of ``radius_mm`` (voxel centres within it) around every point, on their box."""
    spacing = np.asarray(spacing_ijk, float)[::-1]
    reach = radius_voxels(radius_mm, spacing)
    box = seeds_box(points_kji).padded(reach, shape)
    grids = np.ogrid[tuple(slice(a, b) for a, b in zip(box.start, box.stop))]
    inside = np.zeros(box.shape, bool)
    for point in points_kji:
        distance2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, point, spacing))
        inside |= distance2 <= radius_mm ** 2 + 1e-9
    inside[tuple(points_kji.T - np.asarray(box.start)[:, None])] = True  # a bubble under a voxel still holds it
    return box, inside


class ActiveContourTool(Tool):
    id = "active_contour"
    title = "Active contour"
    source = "active contour"
    proposes = True
    evolves = True  # the GUI steps start()'s evolution with a live preview instead of waiting for compute()
    parameters = (
        Parameter("init", "bubbles", "Start from", "choice", choices=("bubbles", "segment")),
        Parameter("bubble_radius_mm", 5.0, "Bubble radius", "float", minimum=0.5, maximum=100.0, unit="mm"),
        Parameter("speed", "region", "Speed", "choice", choices=("region", "edge")),
        # region speed: the range the contour grows into (None: from the bubbles, or no bound on that side)
        Parameter("lower", None, "Lower", "float"),
        Parameter("upper", None, "Upper", "float"),
        Parameter("region_tolerance", 2.0, "Range from bubbles (× SD)", "float", minimum=0.1, maximum=10.0),
        Parameter("region_softness", None, "Range softness", "float"),
        Parameter("edge_sigma_mm", 1.0, "Edge smoothing", "float", minimum=0.1, maximum=20.0, unit="mm"),
        Parameter("edge_contrast", 0.05, "Edge contrast", "float", minimum=0.001, maximum=1.0),
        Parameter("propagation", 1.0, "Propagation weight", "float", minimum=-10.0, maximum=10.0),
        Parameter("curvature", 0.5, "Curvature weight", "float", minimum=0.0, maximum=10.0),
        Parameter("advection", 1.0, "Advection weight (edge)", "float", minimum=0.0, maximum=10.0),
        Parameter("iterations_per_step", 20, "Iterations per step", "int", minimum=1, maximum=1000),
        Parameter("max_iterations", 1000, "Iteration limit", "int", minimum=1, maximum=100000),
        Parameter("max_rms", 0.01, "Converged below RMS change", "float", minimum=0.0, maximum=1.0),
        Parameter("margin_mm", 20.0, "Crop margin", "float", minimum=1.0, unit="mm"),
        Parameter("mode", "set", "Apply as", "choice", choices=("set", "add")),
    )

    def start(self, cancelled: CancelFn | None = None, seeds=(), previous: ContourEvolution | None = None,
              **inputs) -> ContourEvolution:
        """The evolution from the bubbles at ``seeds`` or from the segment; ``previous`` (the one on screen) is
        kept and retuned when only weights, speed or stopping changed and it started from the same place."""
        context = self._require_context()
        target = self._target()
        origin = self._origin(seeds)
        if previous is not None and previous.segment_id == target and previous.origin == origin and \
                all(previous.values.get(k) == self.values[k] for k in INIT_KEYS):
            previous.retune(self._evolution_values(previous.initial, origin))
            previous.parameters = dict(self.values)
            return previous
        image, spacing = context.image, context.volume.spacing
        if self.values["init"] == "segment":
            mask = context.segmentation.segments[target].mask
            if mask.empty:
                raise ValueError(f"{self.title}: {EMPTY_SEGMENT_REASON}; place bubbles or paint a start")
            box, region = mask.box, mask.read(mask.box)
        else:
            if len(seeds) == 0:
                raise ValueError(f"{self.title}: click bubbles in a slice view, or start from the segment")
            box, region = bubbles(seeds_kji(seeds, image.shape), float(self.values["bubble_radius_mm"]),
                                  spacing, image.shape)
        check_cancelled(cancelled, self.title)
        values = self._evolution_values((box, region), origin)
        evolution = ContourEvolution(image, spacing, box, region, values, target, self.title, origin)
        evolution.parameters = dict(self.values)  # what the tool's options were: a GUI retunes when they change
        return evolution

    def _origin(self, seeds) -> str:
        if self.values["init"] == "segment":
            return "segment"
        return "bubbles " + " ".join(f"{i},{j},{k}" for i, j, k in np.asarray(seeds, int).reshape(-1, 3))

    def _evolution_values(self, start: tuple[Box, np.ndarray], origin: str) -> dict:
        """The parameters with the region range filled in from the bubbles when none is given."""
        values = dict(self.values)
        if values["speed"] == "region" and values["lower"] is None and values["upper"] is None:
            if not origin.startswith("bubbles"):
                raise ValueError(f"{self.title}: give the region's lower or upper intensity")
            box, region = start
            lower, upper, info = bubble_range(self._require_context().image[box.slices], region,
                                              float(values["region_tolerance"]))
            values.update(lower=lower, upper=upper, range_from_bubbles=info)
        return values

    def compute(self, cancelled: CancelFn | None = None, seeds=(), **inputs) -> Preview:
        evolution = self.start(cancelled, seeds=seeds)
        preview = evolution.preview(self.values["mode"])
        while not evolution.done:
            preview = evolution.step(cancelled)
        preview.info.update(region_range(evolution))
        return preview


def region_range(evolution: ContourEvolution) -> dict:
    """The range a region evolution grows into (what the options widget prefills), or nothing for edges."""
    v = evolution.values
    if v["speed"] != "region":
        return {}
    return {"lower": v["lower"], "upper": v["upper"]}
