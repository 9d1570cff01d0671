"""Starting the GUI: ``run(path, series, screenshot, layers)`` opens the window on a study, with ``layers`` fused
over it (and, for screenshots, saves the window once the study, its layers and every view are drawn, then quits)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Imported before PySide6 on purpose: once loaded, PySide6 reads the source of every module imported after it
# (shibokensupport.feature looks for ``from __feature__ import``), some 400 modules and 0.1 s of start-up. What the
# window needs that has no Qt in it (numpy, pydicom, SimpleITK, MedSeg's io, core and tools) is spared that.
from ..core import overlap_metrics, segment_display, viewer_state  # noqa: F401
from ..io import session_file, statistics_export, structure_files  # noqa: F401
from ..tools import registry  # noqa: F401

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..app_logging import configure_logging, install_crash_handler
from ..resources import icon_files
from .session.autosave import stale_recovery_files
from .session.crash_dialog import install_crash_dialog
from .main_window import MainWindow

SCREENSHOT_SETTLE_MS = 500
SCREENSHOT_TIMEOUT_MS = 180_000


def run(path: str | Path, series: str | None = None, screenshot: str | None = None, layers=(),
        allow_other_patient: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_logging()  # medseg.log and crash reports, patient identifiers redacted (app_logging)
    install_crash_handler()
    install_crash_dialog(app)
    app.setOrganizationName("MedSeg")
    app.setApplicationName("MedSeg")
    app.setDesktopFileName("medseg")  # resources/medseg.desktop: the desktop shows its name and icon for the window
    icon = QIcon()
    for png in icon_files():
        icon.addFile(str(png))
    app.setWindowIcon(icon)
    window = MainWindow()
    window.resize(1500, 920)
    if screenshot:
        _arrange_screenshot(app, window, Path(screenshot))
    if os.environ.get("MEDSEG_EXIT_AFTER_FIRST_FRAME"):
        window.study_loaded.connect(lambda: _report_first_frame(app, window))
    window.show()
    restoring = False
    if not screenshot:  # a session that did not exit cleanly left a recovery file: offer it (never in screenshots)
        stale = stale_recovery_files()
        if stale:
            accept = True if os.environ.get("MEDSEG_AUTO_RESTORE") == "1" else None
            restoring = window.sessions.offer_recovery(stale, accept)
    if not restoring and layers:  # one background load: study_loaded comes once every layer has joined
        window.study_opening.open_with_layers(path, series, list(layers), allow_other_patient)
    elif not restoring:
        window.open_path(path, series)
    _run_test_script(app, window)
    code = app.exec()
    window.sessions.shutdown()
    return code


def _run_test_script(app: QApplication, window: MainWindow) -> None:
    """Test hook: MEDSEG_TEST_SCRIPT=FILE runs FILE once, after the first study has loaded (and any restore was
    applied), with ``app`` and ``window`` in its globals; tests/ui/test_autosave.py uses it to edit and report."""
    script = os.environ.get("MEDSEG_TEST_SCRIPT")
    if not script:
        return
    done = []

    def run_once() -> None:
        if not done:
            done.append(True)
            exec(compile(Path(script).read_text(), script, "exec"), {"app": app, "window": window})

    window.study_loaded.connect(run_once)


def _arrange_screenshot(app: QApplication, window: MainWindow, out: Path) -> None:
    def first_series(series: list[dict], where: str) -> str:
        print(f"medseg: {where} holds {len(series)} image series; showing {series[0]['uid']} "
              f"(choose one with --series).", file=sys.stderr)
        return series[0]["uid"]

    def save() -> None:
        app.processEvents()
        for name in ("axial", "coronal", "sagittal"):
            window.grid.slice_view(name).repaint()
        image = window.grab_with_three_d()
        if not image.save(str(out)):
            print(f"medseg: {out}: the screenshot could not be written.", file=sys.stderr)
            app.exit(2)
            return
        app.exit(0)

    def failed(message: str) -> None:
        print(f"medseg: {message}", file=sys.stderr)
        app.exit(2)

    def timed_out() -> None:
        print("medseg: the study did not load in time for the screenshot.", file=sys.stderr)
        app.exit(3)

    window.ask_series = first_series
    window.report_error = failed
    def save_when_surfaces_built() -> None:  # the 3-D view builds segment surfaces in the background
        pending = getattr(window.three_d_view, "pending_surfaces", None)
        if pending is not None and pending():
            QTimer.singleShot(50, save_when_surfaces_built)
            return
        save()

    window.study_loaded.connect(lambda: QTimer.singleShot(SCREENSHOT_SETTLE_MS, save_when_surfaces_built))
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, timed_out)


def _report_first_frame(app: QApplication, window: MainWindow) -> None:
    """MEDSEG_EXIT_AFTER_FIRST_FRAME=1 (the start-up benchmark): paint the loaded study in every view, print the
    seconds since the process started, and quit."""
    for name in ("axial", "coronal", "sagittal"):
        window.grid.slice_view(name).repaint()
    if window.three_d_view is not None:
        window.three_d_view.grab_rgb()  # renders the 3-D view now rather than at its next paint
    try:  # Linux: process start time in clock ticks since boot (field 22 of /proc/self/stat)
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        elapsed = f"{float(Path('/proc/uptime').read_text().split()[0]) - ticks / os.sysconf('SC_CLK_TCK'):.3f}"
    except (OSError, ValueError, IndexError):
        elapsed = "?"
    print(f"medseg: first frame painted {elapsed} s after process start", flush=True)
    app.exit(0)
