"""Run in a subprocess by test_large_ct.py: open a 512×512×1000 CT in the real main window (3-D view included)
through File ▸ Open's path, then scroll to the last slice and paint a stroke there. Writes results.json to the
folder given as argv[1]; argv[2] is the image.

What the test asserts is counted, never timed: every load job runs on a thread other than the GUI thread, and each
one first waits until a 10 ms QTimer on the GUI thread has ticked three more times (it cannot, were the GUI thread
busy or the job on it). The latency figures (the longest gap between two ticks, the scroll and stroke times) are
recorded for information only; their budgets are the benchmarks open_ct_1000_max_gap, ct_1000_scroll and
ct_1000_stroke.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
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
GATE_TICKS = 3  # GUI-thread ticks a load job waits for before it starts
GATE_TIMEOUT_S = 60.0  # a deadlock guard: the gate stays shut when the GUI thread cannot tick


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
        self.count = 0  # ticks since start (read by the load jobs' gate on their own thread)
        self.wakeup = threading.Event()  # set at every tick

    def start(self) -> None:
        self.start_at = self.last = time.perf_counter()
        self.gaps.clear()
        self.count = 0
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(((now - self.last) * 1000.0, now - self.start_at))
        self.last = now
        self.count += 1
        self.wakeup.set()

    def stop(self) -> dict:
        self.timer.stop()
        self._tick()
        gaps = sorted(self.gaps, reverse=True)
        return {"max_gap_ms": gaps[0][0], "max_gap_at_s": gaps[0][1], "ticks": len(self.gaps),
                "worst_gaps": [[round(g, 1), round(t, 3)] for g, t in gaps[:8]]}


def watch_load_jobs(window, ticker: Ticker) -> list[dict]:
    """Wrap every job the window's loader runs: it records its thread and first waits for GATE_TICKS GUI ticks."""
    gui_thread = threading.get_ident()
    jobs: list[dict] = []
    submit = window.loader.submit

    def watched_submit(job, on_done):
        def watched(progress, cancelled):
            record = {"on_gui_thread": threading.get_ident() == gui_thread, "gate_opened": False}
            jobs.append(record)
            start = ticker.count
            deadline = time.monotonic() + GATE_TIMEOUT_S
            while ticker.count - start < GATE_TICKS and time.monotonic() < deadline:
                ticker.wakeup.clear()
                ticker.wakeup.wait(0.5)
            record["gate_opened"] = ticker.count - start >= GATE_TICKS
            record["ticks_at_start"] = ticker.count
            try:
                return job(progress, cancelled)
            finally:
                record["ticks_during"] = ticker.count - record["ticks_at_start"]  # information only

        return submit(watched, on_done)

    window.loader.submit = watched_submit
    return jobs


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
    jobs = watch_load_jobs(window, ticker)
    ticker.start()
    started = time.perf_counter()
    window.open_path(str(image))
    results["ticks_when_open_path_returned"] = ticker.count
    ok = wait_until(lambda: bool(loaded) or bool(errors), 240)
    spin(1.5)  # the first paint of every view after the load is part of opening
    results["load"] = ticker.stop()
    results["load"]["errors"] = errors
    results["load"]["jobs"] = jobs
    if not ok or errors:
        results["error"] = "; ".join(errors) or "the study did not load within 240 s"
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
