"""Qt widget tests run on the offscreen platform: no display needed, and no window ever shows.

The platform is given to the test QApplication as ``-platform offscreen`` (the same as QT_QPA_PLATFORM=offscreen)
rather than through the environment, which every subprocess of the session would inherit. This folder is a package
so that its conftest (ui.conftest) never shadows tests/conftest.py, which other test modules import as ``conftest``.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(scope="session")
def qapp_args():
    return ["medseg-ui-tests", "-platform", "offscreen"]


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path, monkeypatch):
    """Autosave writes its recovery files here, never into the user's own folder."""
    folder = tmp_path / "recovery"
    monkeypatch.setenv("MEDSEG_RECOVERY_DIR", str(folder))
    return folder


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "medseg.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def main_window(qtbot, settings):
    from medseg_app.ui.main_window import MainWindow

    window = MainWindow(settings=settings, with_three_d=False)
    window.sessions.ask_unsaved = lambda: "discard"  # closing at teardown never waits on a dialog
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.loader.cancel()
    window.loader.wait()
    window.tool_worker.cancel()
    window.tool_worker.wait()


