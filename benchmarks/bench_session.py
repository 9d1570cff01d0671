"""What the GUI thread spends on saving: the autosave's tick and File ▸ Save session, both of which snapshot the
segments on the GUI thread and leave the encoding and writing to a worker (medseg_app/ui/session/).

``autosave_gui_ms``: one autosave tick on the GUI thread (``Autosave.save_if_dirty``: the snapshot of every
segment, then the write handed to the writer thread), on the bundled sample CT with its GTV and two more segments
(as tests/ui/test_autosave.py edits them); every segment counts as changed, so this is the costliest tick (an
incremental one copies fewer). Budget 20 ms.
``session_snapshot_ms``: Save session's snapshot (``SessionActions.last_snapshot_ms``: ``session_job``, taken on
the GUI thread before the writer starts), with a copy of the image and a 2.4 M-voxel random mask (as
tests/ui/test_sessions.py saves). Budget 20 ms.
``session_save_gui_ms``: the whole ``SessionActions.save`` call on the GUI thread (that snapshot, the status bar,
handing the job to the writer). Budget 30 ms.
No peer: no other program saves these sessions. The tests count instead of timing (a busy machine fails a timed
test by chance): they show the writes run off the GUI thread, and these benchmarks keep the budgets. Each
measurement waits for the write in flight before the next one, untimed. Needs no shared data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.registry import REPO, Case, benchmark

SAMPLE_CT = REPO / "resources" / "sample" / "STS_001" / "CT" / "dicom"


def _app():
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _run(seconds: float, until) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    check = QTimer()
    check.setInterval(5)
    check.timeout.connect(lambda: until() and loop.quit())
    check.start()
    if not until():
        loop.exec()
    check.stop()


@contextmanager
def _sample_window():
    """A main window (no 3-D view) with the bundled sample CT open; closed, and its files removed, afterwards."""
    app = _app()
    folder = Path(tempfile.mkdtemp(prefix="medseg-bench-session-"))
    previous = os.environ.get("MEDSEG_RECOVERY_DIR")
    os.environ["MEDSEG_RECOVERY_DIR"] = str(folder / "recovery")
    window = None
    try:
        from PySide6.QtCore import QSettings

        from medseg_app.ui.main_window import MainWindow

        window = MainWindow(settings=QSettings(str(folder / "medseg.ini"), QSettings.Format.IniFormat),
                            with_three_d=False)
        window.sessions.ask_unsaved = lambda: "discard"
        errors: list[str] = []
        window.report_error = errors.append
        loaded: list[bool] = []
        window.study_loaded.connect(lambda: loaded.append(True))
        window.resize(1200, 800)
        window.show()
        window.open_path(str(SAMPLE_CT))
        _run(120, lambda: bool(loaded) or bool(errors))
        if errors or not loaded:
            raise RuntimeError("; ".join(errors) or "the sample CT did not load")
        yield window, folder
    finally:
        if window is not None:
            window.close()
            app.processEvents()
        if previous is None:
            os.environ.pop("MEDSEG_RECOVERY_DIR", None)
        else:
            os.environ["MEDSEG_RECOVERY_DIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)


@benchmark("autosave_gui_ms")
def autosave_gui_ms(data: Path):
    """GUI-thread time of one autosave tick, every segment changed (sample CT, 3 segments; ms; budget 20 ms)."""
    from medseg_app.core.box import Box

    with _sample_window() as (window, _folder):
        seg = window.state.segmentation
        a, b = seg.add_segment("A"), seg.add_segment("B")
        seg.modify(a.id, Box((10, 100, 100), (20, 140, 140)), np.ones((10, 40, 40), bool))
        seg.modify(b.id, Box((5, 50, 50), (8, 60, 60)), np.ones((3, 10, 10), bool))
        autosave = window.sessions.autosave
        autosave.timer.stop()  # only the ticks measured here

        def tick() -> float:
            autosave.wait()  # the previous write, untimed
            autosave.mark_dirty()  # every segment changed: the full snapshot
            started = time.perf_counter()
            if not autosave.save_if_dirty():
                raise RuntimeError("the autosave did not start a write")
            elapsed = (time.perf_counter() - started) * 1000.0
            autosave.wait()
            return elapsed

        yield Case(ours=tick, unit="ms", timed=False)


def _big_edit(window) -> None:
    """A segment over all of the sample CT with random voxels (2.4 M voxels): slow to encode, quick to copy."""
    from medseg_app.core.box import Box

    seg = window.state.segmentation
    segment = seg.add_segment("Noise")
    shape = window.state.volume.array.shape
    seg.modify(segment.id, Box((0, 0, 0), shape), np.random.default_rng(0).random(shape) > 0.5)


def _session_saver(window, folder: Path):
    """save(): (the snapshot's ms, the whole call's ms), waiting for the write afterwards (untimed)."""
    sessions = window.sessions
    count = [0]

    def save() -> tuple[float, float]:
        count[0] += 1
        started = time.perf_counter()
        if not sessions.save(str(folder / f"case-{count[0] % 2}.medseg"), include_image=True):
            raise RuntimeError("Save session did not start")
        whole = (time.perf_counter() - started) * 1000.0
        snapshot = sessions.last_snapshot_ms
        if not sessions.wait_for_saves(timeout=120):
            raise RuntimeError("Save session failed")
        return snapshot, whole

    return save


@benchmark("session_snapshot_ms")
def session_snapshot_ms(data: Path):
    """Save session's GUI-thread snapshot, with the image copy and a 2.4 M-voxel random mask (ms; budget 20 ms)."""
    with _sample_window() as (window, folder):
        _big_edit(window)
        save = _session_saver(window, folder)
        yield Case(ours=lambda: save()[0], unit="ms", timed=False)


@benchmark("session_save_gui_ms")
def session_save_gui_ms(data: Path):
    """The whole Save session call on the GUI thread, same session (ms; budget 30 ms)."""
    with _sample_window() as (window, folder):
        _big_edit(window)
        save = _session_saver(window, folder)
        yield Case(ours=lambda: save()[1], unit="ms", timed=False)
