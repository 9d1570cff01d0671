"""Opening a 512×512×1000 CT (524 MB int16, the bundled sample's slices repeated; benchmarks/large_ct.py) in the
main window, as File ▸ Open does.

``open_ct_1000``: seconds from ``MainWindow.open_path`` to the study loaded and every view painted; the peer is
SimpleITK reading the same NRRD into a numpy array (the reading alone, no window). ``verify`` checks that the
window shows what SimpleITK reads: the same voxels, origin, spacing and direction.
``open_ct_1000_max_gap``: the longest the GUI event loop went without running (ms) during that open, measured by a
10 ms QTimer; budget 200 ms (tests/ui3d/test_large_ct.py checks, by counting timer ticks, that the work runs off
the GUI thread; the durations are budgets here, never assertions in tests).
Needs no shared data: the file is written to a temporary folder (about 1 s) and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from benchmarks.large_ct import write_large_ct
from benchmarks.registry import Case, benchmark


def _app():
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


class _Opener:
    """One main window that opens the file again on each call and watches its event loop meanwhile."""

    def __init__(self, folder: Path, image: Path):
        from PySide6.QtCore import QSettings

        self.app = _app()
        os.environ.setdefault("MEDSEG_RECOVERY_DIR", str(folder / "recovery"))
        from medseg_app.ui.main_window import MainWindow

        self.image = image
        self.window = MainWindow(settings=QSettings(str(folder / "medseg.ini"), QSettings.Format.IniFormat))
        self.window.sessions.ask_unsaved = lambda: "discard"
        self.errors: list[str] = []
        self.window.report_error = self.errors.append
        self.window.resize(1500, 920)
        self.window.show()
        self._loaded = False
        self.window.study_loaded.connect(self._on_loaded)
        self._run(0.5)

    def _on_loaded(self) -> None:
        self._loaded = True

    def _run(self, seconds: float, until=None) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        check = QTimer()
        check.setInterval(5)
        if until is not None:
            check.timeout.connect(lambda: until() and loop.quit())
            check.start()
        loop.exec()
        check.stop()

    def open(self) -> tuple[float, float]:
        """(seconds to loaded and painted, max event-loop gap in ms)."""
        from PySide6.QtCore import QTimer, Qt

        ticks = []
        ticker = QTimer()
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        ticker.setInterval(10)
        ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))
        self._loaded = False
        start = time.perf_counter()
        ticks.append(start)
        ticker.start()
        self.window.open_path(str(self.image))
        self._run(120, until=lambda: self._loaded or bool(self.errors))
        if self.errors:
            raise RuntimeError("; ".join(self.errors))
        for name in ("axial", "coronal", "sagittal"):
            self.window.grid.slice_view(name).repaint()
        if self.window.three_d_view is not None:
            self.window.three_d_view.grab_rgb()
        elapsed = time.perf_counter() - start
        self._run(0.3)  # the paints that follow the load count towards the gaps
        ticker.stop()
        ticks.append(time.perf_counter())
        gap = max(b - a for a, b in zip(ticks, ticks[1:]))
        return elapsed, gap * 1000.0

    def close(self) -> None:
        self.window.close()
        self._run(0.1)


def _sitk_read(image: Path):
    """Seconds for SimpleITK to read the file into a numpy array (timed here: the case reports its own values)."""
    import SimpleITK as sitk

    def read() -> float:
        start = time.perf_counter()
        sitk.GetArrayFromImage(sitk.ReadImage(str(image)))
        return time.perf_counter() - start

    return read


@contextmanager
def _large_ct_opener():
    """An _Opener on a freshly written 512×512×1000 CT; the window is closed and the file removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="medseg-bench-ct1000-"))
    opener = None
    try:
        image = write_large_ct(folder / "ct.nrrd")
        opener = _Opener(folder, image)
        yield opener, image
    finally:
        if opener is not None:
            opener.close()
        shutil.rmtree(folder, ignore_errors=True)


def _shows_what_simpleitk_reads(opener: _Opener, image: Path):
    """A verify: the volume the window opened holds SimpleITK's voxels on SimpleITK's grid."""
    import numpy as np
    import SimpleITK as sitk

    def verify(_ours, _peer) -> None:
        volume = opener.window.state.volume
        theirs = sitk.ReadImage(str(image))
        array = sitk.GetArrayViewFromImage(theirs)
        if volume.array.dtype != array.dtype or not np.array_equal(volume.array, array):
            raise AssertionError("the window's voxels differ from SimpleITK's")
        geometry = (list(volume.origin), list(volume.spacing), volume.geometry.direction_row_major())
        if geometry != (list(theirs.GetOrigin()), list(theirs.GetSpacing()), list(theirs.GetDirection())):
            raise AssertionError(f"the window's grid {geometry} is not SimpleITK's")

    return verify


@benchmark("open_ct_1000")
def open_ct_1000(data: Path):
    """512×512×1000 CT (NRRD): File ▸ Open to every view painted, vs SimpleITK reading the array (s)."""
    with _large_ct_opener() as (opener, image):
        yield Case(ours=lambda: opener.open()[0], peer=_sitk_read(image), peer_name="SimpleITK read",
                   timed=False, verify=_shows_what_simpleitk_reads(opener, image))


@benchmark("open_ct_1000_max_gap")
def open_ct_1000_max_gap(data: Path):
    """The longest GUI event-loop gap while the 512×512×1000 CT opens (ms; a 10 ms timer; budget 200 ms)."""
    with _large_ct_opener() as (opener, _image):
        yield Case(ours=lambda: opener.open()[1], unit="ms", timed=False)
