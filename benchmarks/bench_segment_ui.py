"""Segment editing as the user sees it: a brush dab applied and the slice views redrawn.

``brush_dab``: seconds for one 10 mm sphere dab (PaintTool.dab at the edge of a 40 mm lesion, a new place
each time, on a 512×512×300 CT-like volume of 0.8 × 0.8 × 1.0 mm voxels) *and* the repaint of the three slice
views that the change reaches (each 512 px across, with the lesion and a second, overlapping segment drawn as
fill + outline); target ≤ 16 ms (one frame at 60 Hz). ``brush_dab_apply`` in bench_segment_edit.py times the apply alone.
``segment_slice_repaint``: one slice step of the axial view with those two segments and the repaint; budget 5 ms.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, benchmark

SHAPE = (300, 512, 512)  # (k, j, i)
SPACING_IJK = (0.8, 0.8, 1.0)
CENTRE = np.array([256, 256, 150])  # (i, j, k)


def _app():
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _scene():
    """A viewer state with a 20 mm-radius lesion and an overlapping box segment, and its three slice views."""
    app = _app()
    from medseg_app.core.box import Box
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.viewer_state import ViewerState
    from medseg_app.core.volume import UNITS_HU, Volume
    from medseg_app.ui.viewer.slice_view import SliceView

    rng = np.random.default_rng(0)
    image = (40 + rng.integers(-30, 30, SHAPE, dtype=np.int16)).astype(np.int16)
    geometry = ImageGeometry(size=SHAPE[::-1], spacing=SPACING_IJK, origin=(0, 0, 0))
    state = ViewerState(Volume(image, geometry, modality="CT", units=UNITS_HU))
    seg = state.segmentation
    lesion = seg.add_segment("Lesion")
    reach = np.array([26, 26, 21])
    box = Box(tuple(int(v) for v in (CENTRE - reach)[::-1]), tuple(int(v) for v in (CENTRE + reach + 1)[::-1]))
    grids = np.ogrid[box.slices]
    ball = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, CENTRE[::-1], SPACING_IJK[::-1])) <= 20.0 ** 2
    seg.modify(lesion.id, box, ball, "add")
    other = np.zeros(SHAPE, bool)
    other[100:200, 200:330, 230:400] = True
    seg.add_segment("Organ", mask=other)
    seg.set_active(lesion.id)
    state.set_crosshair(CENTRE)
    views = []
    for name in ("axial", "coronal", "sagittal"):
        view = SliceView(state, name)
        view.resize(512, 512)
        view.show()
        views.append(view)
    app.processEvents()
    for view in views:
        view.repaint()
    return app, state, views


@benchmark("brush_dab")
def brush_dab(data: Path):
    """One 10 mm sphere dab applied and the three slice views redrawn (512×512×300); target ≤ 16 ms."""
    from medseg_app.tools.base import EditContext
    from medseg_app.tools.paint import PaintTool

    app, state, views = _scene()
    tool = PaintTool(mode="add", diameter_mm=10.0, shape="sphere")
    tool.activate(EditContext(state.volume, state.segmentation))
    angles = iter(np.linspace(0, 2 * np.pi, 1000, endpoint=False) * 7.3)

    def dab_and_redraw():
        angle = next(angles)
        offset = 20.0 * np.array([np.cos(angle), np.sin(angle), 0.0])
        tool.dab(CENTRE + offset / np.asarray(SPACING_IJK), slice_axis=2)
        for view in views:
            view.repaint()  # only views whose slice the dab reached have a new overlay to compose

    try:
        yield Case(ours=dab_and_redraw)
    finally:
        for view in views:
            view.close()
        app.processEvents()


@benchmark("segment_slice_repaint")
def segment_slice_repaint(data: Path):
    """Axial slice step with two overlapping segments, repainted (512×512); budget 5 ms."""
    app, state, views = _scene()
    axial = views[0]
    steps = iter(range(10**6))

    def step():
        state.step_slice("axial", 1 if next(steps) % 2 else -1)
        axial.repaint()

    try:
        yield Case(ours=step)
    finally:
        for view in views:
            view.close()
        app.processEvents()
