"""Run in a subprocess by test_large_ct.py: open a 512×512×1000 CT in the real main window (3-D view included)
through File ▸ Open's path, measuring the GUI event loop's latency while it loads, then time scrolling to the last
slice and painting a stroke there. Writes results.json to the folder given as argv[1]; argv[2] is the image.

The latency probe is a QTimer ticking every 10 ms on the GUI thread: the longest gap between two ticks is the
longest the window could not answer the user (a repaint, a click, the Cancel button).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from medseg_app.core.display_axes import index_to_screen  # noqa: E402

TICK_MS = 10


class Ticker:
    """Records the gaps between the ticks of a 10 ms timer (what a user would feel as a frozen window)."""

    def __init__(self):
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.gaps: list[tuple[float, float]] = []  # (gap ms, when: seconds since start)
        self.start_at = 0.0

    def start(self) -> None:
        self.start_at = self.last = time.perf_counter()
        self.gaps.clear()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(((now - self.last) * 1000.0, now - self.start_at))
        self.last = now

    def stop(self) -> dict:
        self.timer.stop()
        self._tick()
        gaps = sorted(self.gaps, reverse=True)
        return {"max_gap_ms": gaps[0][0], "max_gap_at_s": gaps[0][1], "ticks": len(self.gaps),
                "worst_gaps": [[round(g, 1), round(t, 3)] for g, t in gaps[:8]]}


def wait_until(condition, timeout_s: float) -> bool:
    """Run the event loop (as app.exec() does, not processEvents) until ``condition()`` or the timeout."""
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: condition() and loop.quit())
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    check.start()
    if not condition():
        loop.exec()
    check.stop()
    return bool(condition())


def spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def widget_point(view, index) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def main(out: Path, image: Path) -> None:
    os.environ.setdefault("MEDSEG_RECOVERY_DIR", str(out / "recovery"))
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from medseg_app.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(out / "medseg.ini"), QSettings.Format.IniFormat))
    window.sessions.ask_unsaved = lambda: "discard"
    errors: list[str] = []
    window.report_error = errors.append
    window.resize(1500, 920)
    window.show()
    spin(1.0)  # the empty window is drawn, VTK is initialised
    results: dict = {"platform": app.platformName(), "three_d": window.three_d_view is not None}
    loaded: list[float] = []
    window.study_loaded.connect(lambda: loaded.append(time.perf_counter()))

    # --- open, as File ▸ Open file… does, with the event loop watched ---------------------------
    ticker = Ticker()
    ticker.start()
    started = time.perf_counter()
    window.open_path(str(image))
    ok = wait_until(lambda: bool(loaded) or bool(errors), 120)
    spin(1.5)  # the first paint of every view after the load is part of opening
    results["load"] = ticker.stop()
    results["load"]["errors"] = errors
    if not ok or errors:
        results["error"] = "; ".join(errors) or "the study did not load within 120 s"
        (out / "results.json").write_text(json.dumps(results, indent=1))
        return
    results["load"]["seconds_to_loaded"] = loaded[0] - started
    state = window.state
    results["size"] = list(state.volume.size)
    from benchmarks.large_ct import expected_slice

    last_k = state.volume.size[2] - 1
    results["voxels_match"] = bool(np.array_equal(state.volume.array[last_k], expected_slice(last_k)))
    axial = window.grid.slice_view("axial")
    centre = state.slice_index("axial")
    shown = axial.grab().toImage()
    results["axial_grey_levels"] = len({shown.pixelColor(x, y).red() for x in range(0, shown.width(), 7)
                                        for y in range(0, shown.height(), 7)})

    # --- scroll to the last slice (as a key press does), then paint a stroke there --------------
    last = state.slice_count("axial") - 1
    timings = []
    for target in (last, 0, last):
        t0 = time.perf_counter()
        state.set_slice("axial", target)
        app.processEvents()  # every view and the 3-D planes follow the crosshair ...
        axial.repaint()  # ... and the axial view has drawn the new slice
        timings.append((time.perf_counter() - t0) * 1000.0)
    results["scroll_ms"] = timings
    results["scrolled_to"] = state.slice_index("axial")
    results["centre_slice"] = centre

    window.tool_panel.buttons["paint"].click()
    spin(0.2)
    k = state.slice_index("axial")
    i0, j0 = 200, 200
    points = [(i0 + 4 * n, j0 + 2 * n, k) for n in range(12)]
    t0 = time.perf_counter()
    QTest.mousePress(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(axial, points[0]))
    for point in points[1:]:
        QTest.mouseMove(axial, widget_point(axial, point))
    QTest.mouseRelease(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       widget_point(axial, points[-1]))
    app.processEvents()
    axial.repaint()
    results["stroke_ms"] = (time.perf_counter() - t0) * 1000.0
    seg = state.segmentation
    mask = seg.segments[seg.active_id].mask
    results["stroke_voxels"] = int(mask.count())
    results["stroke_box"] = [list(map(int, mask.box.start)), list(map(int, mask.box.stop))]
    results["stroke_slice"] = k
    spin(0.5)  # the 3-D surface of the stroke is built in the background
    results["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    (out / "results.json").write_text(json.dumps(results, indent=1))
    window.close()
    spin(0.2)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
