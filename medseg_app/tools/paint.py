"""Paint and erase brushes: a disc in the slice of a view or a sphere, sized in millimetres.

On an anisotropic grid the brush is an ellipse in voxels (a 10 mm disc on 0.98 × 0.98 × 3.27 mm voxels is
11 voxels across in the axial plane and 3 slices thick as a sphere). A mouse drag is one stroke:
``begin_stroke`` at the press, ``stroke_to`` on every move (dabs are laid one voxel apart along the path,
so a fast drag leaves no gaps), ``end_stroke`` at the release; the whole stroke is one undo step.
Positions are continuous voxel indices (i, j, k), as ``display_axes.screen_to_index`` returns them;
``slice_axis`` is the voxel axis (0 = i, 1 = j, 2 = k) the view's slices cut, ``ViewAxes.slice_axis``.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace

import numpy as np

from ..core.box import Box
from .base import Parameter, Preview, Tool
from .mask_crops import ellipsoid, spacing_kji

MODES = {"add": "add", "erase": "remove"}


def _numpy_index(index) -> np.ndarray:
    """Nearest voxel of a continuous (i, j, k) index, in numpy order (k, j, i)."""
    return np.floor(np.asarray(index, float)[::-1] + 0.5).astype(int)


def dab_centres(start, stop) -> np.ndarray:
    """Voxel centres (numpy order) from ``start`` (excluded) to ``stop`` (included), one voxel apart at most."""
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    steps = int(np.ceil(np.abs(stop - start).max()))
    if steps == 0:
        return np.floor(stop + 0.5).astype(int)[None]
    t = np.arange(1, steps + 1)[:, None] / steps
    centres = np.floor(start + t * (stop - start) + 0.5).astype(int)
    keep = np.ones(len(centres), bool)
    keep[1:] = np.any(centres[1:] != centres[:-1], axis=1)
    return centres[keep]


class PaintTool(Tool):
    id = "paint"
    title = "Paint"
    parameters = (
        Parameter("mode", "add", "Mode", kind="choice", choices=tuple(MODES)),
        Parameter("diameter_mm", 5.0, "Diameter", minimum=0.1, maximum=200.0, unit="mm"),
        Parameter("shape", "disc", "Shape", kind="choice", choices=("disc", "sphere")),
    )

    def __init__(self, **values):
        super().__init__(**values)
        self._footprints: dict[tuple, np.ndarray] = {}
        self._stroke: ExitStack | None = None
        self._last: tuple[np.ndarray, int] | None = None  # last dab: numpy-order centre, slice axis

    # --- the brush ---------------------------------------------------------------------------
    def footprint(self, slice_axis: int = 2) -> np.ndarray:
        """The brush as a bool array (numpy order, odd sizes, centred) for the current grid and parameters."""
        spacing = spacing_kji(self._require_context().volume.geometry)
        flat = 2 - slice_axis if self.values["shape"] == "disc" else None
        key = (float(self.values["diameter_mm"]), flat, tuple(spacing))
        if key not in self._footprints:
            self._footprints[key] = ellipsoid(key[0] / 2, spacing, flat)
        return self._footprints[key]

    def compute(self, cancelled=None, points=(), slice_axis: int = 2) -> Preview:
        """The brush laid along ``points`` (continuous (i, j, k) indices): one dab, or a path of dabs."""
        centres = [_numpy_index(p) for p in points]
        if not centres:
            return Preview()
        path = [centres[0][None]] + [dab_centres(a, b) for a, b in zip(centres[:-1], centres[1:])]
        return self._stamp(np.concatenate(path), slice_axis)

    def _stamp(self, centres: np.ndarray, slice_axis: int) -> Preview:
        shape = self._require_context().segmentation.shape
        footprint = self.footprint(slice_axis)
        reach = np.array(footprint.shape) // 2
        whole = Box.whole(shape)
        box = Box(tuple(int(v) for v in centres.min(0) - reach),
                  tuple(int(v) for v in centres.max(0) + reach + 1)).intersection(whole)
        region = np.zeros(box.shape, bool)
        if box.empty:
            return Preview()
        for centre in centres:
            dab = Box(tuple(int(v) for v in centre - reach), tuple(int(v) for v in centre + reach + 1))
            inside = dab.intersection(box)
            if not inside.empty:
                region[inside.relative_to(box)] |= footprint[inside.relative_to(dab)]
        mode = MODES[self.values["mode"]]
        return Preview([(self._target(), box, region, mode)], {"voxels": int(np.count_nonzero(region))})

    # --- dabs and strokes --------------------------------------------------------------------
    def dab(self, center_index, slice_axis: int = 2) -> Box:
        """Paint (or erase) one brush footprint at ``center_index`` (i, j, k); returns the changed box."""
        changed = self.apply(self.compute(points=[center_index], slice_axis=slice_axis))
        self._last = (_numpy_index(center_index), slice_axis)
        return changed

    def begin_stroke(self, center_index, slice_axis: int = 2) -> Box:
        """Mouse press: open one undo step ("Paint" / "Erase") and lay the first dab."""
        self.end_stroke()
        seg = self._require_context().segmentation
        self._stroke = ExitStack()
        self._stroke.enter_context(seg.gesture(self.title if self.values["mode"] == "add" else "Erase"))
        try:
            return self.dab(center_index, slice_axis)
        except Exception:  # e.g. a locked segment: no stroke is left open
            self.end_stroke()
            raise

    def stroke_to(self, center_index, slice_axis: int | None = None) -> Box:
        """Mouse move: dabs from the last position to ``center_index`` with no gaps between them."""
        if self._last is None:
            return self.dab(center_index, 2 if slice_axis is None else slice_axis)
        last, last_axis = self._last
        axis = last_axis if slice_axis is None else slice_axis
        target = _numpy_index(center_index)
        changed = self.apply(self._stamp(dab_centres(last, target), axis))
        self._last = (target, axis)
        return changed

    def end_stroke(self) -> None:
        """Mouse release: close the stroke's undo step."""
        stroke, self._stroke, self._last = self._stroke, None, None
        if stroke is not None:
            stroke.close()

    def cancel(self) -> None:
        self.end_stroke()
        super().cancel()


class EraseTool(PaintTool):
    id = "erase"
    title = "Erase"
    parameters = tuple(replace(p, default="erase") if p.name == "mode" else p for p in PaintTool.parameters)
