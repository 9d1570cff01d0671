"""Viewer benchmarks: redrawing a slice view while scrolling, and start-up to the first painted frame.

``slice_redraw``: ViewerState.set_slice then SliceView.repaint() of a 512×512 axial view with a label overlay,
on a 512×512×300 CT (LUNG1-001 tiled to 300 slices, or a synthetic CT-like volume without the shared data);
budget 5 ms (tests/ui/test_slice_view.py checks, untimed, that a slice change windows one slice from kept tables);
the peer is the naive way, numpy arithmetic window + alpha blend of the same slice and a QImage of it.
``slice_redraw_max``: the slowest single redraw while scrolling through all 300 slices (does scrolling block?).
``fusion_slice_redraw``: the same redraw with a PET fused over the CT (SUV 0–5, hot, opacity 0.5; a 4 mm PET-like
volume resampled onto the CT grid, as the views show it once the background resample is ready); budget 6 ms and
ratio ≤ 1.6 against the single-layer ``slice_redraw`` view run in the same process.
``startup``: seconds from launching ``python -m medseg_app`` (the bundled sample) until the window has painted the
study in every view; the peer is a bare process that imports PySide6.QtWidgets and paints an empty QMainWindow.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.registry import DATA, REPO, Case, benchmark

LUNG1 = "nsclc_lung1_001/LUNG1-001/image"
SLICES = 300
SAMPLES = 60  # redraws per measurement of slice_redraw
FIRST_FRAME = "first frame"


def _qt_app():
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _ct_volume(data: Path):
    """512×512×300 int16 CT: the real chest CT tiled along k, or a synthetic one when it is absent."""
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.volume import UNITS_HU, Volume

    if (data / LUNG1).exists():
        from medseg_app.io.load import load_volume

        real = load_volume(data / LUNG1)
        array = np.resize(real.array, (SLICES,) + real.array.shape[1:])
        spacing, origin, direction = real.spacing, real.origin, real.direction
    else:
        rng = np.random.default_rng(0)
        z, y, x = np.ogrid[:SLICES, :512, :512]
        body = ((x - 256) / 220.0) ** 2 + ((y - 256) / 160.0) ** 2 < 1
        lungs = (((np.abs(x - 256) - 100) / 70.0) ** 2 + ((y - 240) / 100.0) ** 2 < 1) & (z > 20) & (z < 280)
        array = np.where(body, 40, -1000).astype(np.int16) + rng.integers(-30, 30, (1, 512, 512), dtype=np.int16)
        array = np.where(lungs, -850, array).astype(np.int16)
        spacing, origin, direction = (0.98, 0.98, 1.0), (-250.0, -250.0, -150.0), np.eye(3)
    geometry = ImageGeometry(size=(512, 512, SLICES), spacing=spacing, origin=origin, direction=direction)
    volume = Volume(np.ascontiguousarray(array), geometry, modality="CT", units=UNITS_HU)
    labels = np.zeros(volume.array.shape, np.uint8)
    labels[volume.array > 200] = 1  # bone
    labels[:, 180:330, 200:330] = np.where(labels[:, 180:330, 200:330] == 0, 2, 1)  # a box "tumour"
    return volume, labels


def _slice_view(data: Path, ct=None):
    app = _qt_app()
    from medseg_app.core.viewer_state import ViewerState
    from medseg_app.ui.viewer.slice_view import SliceView

    volume, labels = ct or _ct_volume(data)
    state = ViewerState(volume)
    state.set_labels(labels)
    view = SliceView(state, "axial")
    view.resize(512, 512)
    view.show()
    app.processEvents()
    return app, state, view


def _redraw_times(state, view, slices) -> list[float]:
    times = []
    for k in slices:
        start = time.perf_counter()
        state.set_slice("axial", int(k))
        view.repaint()
        times.append(time.perf_counter() - start)
    return times


def _naive_times(state, slices) -> list[float]:
    """Window by float arithmetic, blend labels with np.where, pack RGB, wrap in a QImage (and detach it)."""
    from PySide6.QtGui import QImage

    volume, labels, wl = state.volume, state.labels, state.window
    colours = state.label_colours.astype(np.float32)
    alpha = np.float32(state.label_opacity)
    times = []
    for k in slices:
        start = time.perf_counter()
        grey = np.clip((volume.array[int(k)].astype(np.float32) - wl.low) * (255.0 / wl.window), 0, 255)
        rgb = np.repeat(grey[..., None], 3, axis=2)
        lab = labels[int(k)]
        blended = (1 - alpha) * rgb + alpha * colours[lab]
        rgb = np.where((lab > 0)[..., None], blended, rgb).astype(np.uint8)
        QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888).copy()
        times.append(time.perf_counter() - start)
    return times


@benchmark("slice_redraw")
def slice_redraw(data: Path):
    """set_slice → repaint() of a 512×512 axial view with labels, 512×512×300 CT (s, median of 60; budget 5 ms)."""
    app, state, view = _slice_view(data)
    rng = np.random.default_rng(1)
    try:
        yield Case(ours=lambda: (statistics.median(_redraw_times(state, view, rng.integers(0, SLICES, SAMPLES)))),
                   peer=lambda: (statistics.median(_naive_times(state, rng.integers(0, SLICES, SAMPLES)))),
                   peer_name="numpy blend", unit="s", timed=False)
    finally:
        view.close()
        app.processEvents()


@benchmark("slice_redraw_max")
def slice_redraw_max(data: Path):
    """The slowest single redraw while scrolling all 300 slices of the same view (s)."""
    app, state, view = _slice_view(data)
    try:
        yield Case(ours=lambda: (max(_redraw_times(state, view, range(SLICES)))),
                   peer=lambda: (max(_naive_times(state, range(SLICES)))),
                   peer_name="numpy blend", unit="s", timed=False)
    finally:
        view.close()
        app.processEvents()


def _pet_like(ct):
    """A PET-like SUV volume over the CT at 4 mm: a warm body, a few hot spheres (float32)."""
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.volume import UNITS_SUV, Volume

    spacing = np.array([4.0, 4.0, 4.0])
    extent = np.asarray(ct.geometry.size) * np.asarray(ct.geometry.spacing)
    size = tuple(int(v) for v in np.ceil(extent / spacing))
    rng = np.random.default_rng(2)
    k, j, i = np.ogrid[:size[2], :size[1], :size[0]]
    body = ((i - size[0] / 2) / (size[0] * 0.42)) ** 2 + ((j - size[1] / 2) / (size[1] * 0.32)) ** 2 < 1
    suv = np.where(body, 1.0, 0.05).astype(np.float32) + rng.random((size[2], size[1], size[0]), np.float32) * 0.3
    for ci, cj, ck in rng.integers(10, min(size) - 10, (6, 3)):
        suv[((i - ci) ** 2 + (j - cj) ** 2 + (k - ck) ** 2) < 16] = 8.0
    geometry = ImageGeometry(size=size, spacing=tuple(spacing), origin=ct.geometry.origin,
                             direction=ct.geometry.direction)
    return Volume(suv, geometry, modality="PT", units=UNITS_SUV)


@benchmark("fusion_slice_redraw")
def fusion_slice_redraw(data: Path):
    """set_slice → repaint() of the 512×512 axial view with labels and a PET fused over the CT (s, median of 60;
    budget 6 ms), vs the same view without the PET."""
    ct = _ct_volume(data)
    app, single_state, single_view = _slice_view(data, ct)
    _, state, view = _slice_view(data, ct)
    layer = state.study.add_layer(_pet_like(ct[0]), opacity=0.5)
    state.study.on_reference(layer.id)  # what the background resample leaves for the views
    state.study.announce_resampled(layer.id)
    rng = np.random.default_rng(1)
    try:
        yield Case(ours=lambda: (statistics.median(_redraw_times(state, view, rng.integers(0, SLICES, SAMPLES)))),
                   peer=lambda: (statistics.median(_redraw_times(single_state, single_view,
                                                                 rng.integers(0, SLICES, SAMPLES)))),
                   peer_name="single-layer slice_redraw", unit="s", timed=False)
    finally:
        view.close()
        single_view.close()
        app.processEvents()


def _seconds_to_line(args: list[str], marker: str, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if marker in line:
                return time.perf_counter() - start
        raise RuntimeError(f"{' '.join(args[:3])} exited ({proc.wait()}) without printing {marker!r}")
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


_BARE_WINDOW = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1500, 920)
window.show()
def painted():
    window.repaint()
    print("first frame", flush=True)
    app.exit(0)
QTimer.singleShot(0, painted)
app.exec()
"""


@benchmark("startup")
def startup(data: Path):
    """Process start → sample study painted in every view (python -m medseg_app), vs a bare PySide6 window (s)."""
    env = {**os.environ, "MEDSEG_EXIT_AFTER_FIRST_FRAME": "1"}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    yield Case(ours=lambda: _seconds_to_line([sys.executable, "-m", "medseg_app"], FIRST_FRAME, env),
               peer=lambda: _seconds_to_line([sys.executable, "-c", _BARE_WINDOW], FIRST_FRAME, env),
               peer_name="bare Qt window", timed=False)
