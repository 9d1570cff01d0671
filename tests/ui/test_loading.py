"""Loading off the GUI thread: progress, cancel, newer loads superseding older ones, errors, the series picker."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt

from medseg_app.core.errors import LoadCancelled
from medseg_app.io import list_series
from medseg_app.ui import main_window as main_window_module
from medseg_app.ui.worker import LoadWorker
from medseg_app.ui.study.series_picker_dialog import SeriesPickerDialog
from medseg_app.ui.study.study_loading import load_path

from .ui_test_data import SAMPLE_CT, SAMPLE_STUDY, open_and_wait


def test_progress_is_reported_and_the_result_arrives_on_the_gui_thread(qtbot):
    worker = LoadWorker()
    progress, results = [], []
    worker.progressed.connect(lambda f, m: progress.append(f))
    worker.submit(lambda p, c: load_path(SAMPLE_CT, None, p, c), results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=30000)
    assert len(progress) > 10 and progress == sorted(progress) and progress[-1] > 0.9
    assert results[0].volume.size == (198, 202, 59) and results[0].labels is not None
    assert not worker.busy


def _wait_for_cancel(seen: dict):
    def job(progress, cancelled):
        seen["started"] = True
        while not cancelled():
            progress(0.5, "working")
            time.sleep(0.002)
        seen["cancelled"] = True
        raise LoadCancelled("stopped")
    return job


def test_cancel_button_stops_the_load_and_keeps_the_open_volume(qtbot, main_window):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    before = main_window.state.volume
    seen, delivered = {}, []
    main_window.loader.submit(_wait_for_cancel(seen), delivered.append)
    qtbot.waitUntil(lambda: main_window.progress.isVisible() and seen.get("started"))
    qtbot.waitUntil(lambda: main_window.progress.bar.value() == 500)
    qtbot.mouseClick(main_window.progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: seen.get("cancelled", False))
    main_window.loader.wait()
    qtbot.wait(20)
    assert delivered == [] and main_window.state.volume is before
    assert not main_window.progress.isVisible()


def test_a_newer_load_supersedes_an_older_one(qtbot):
    """The older job finishes first, yet only the newer job's result arrives."""
    worker = LoadWorker()
    release_old, release_new = threading.Event(), threading.Event()
    delivered, old_saw_cancel = [], []

    def old(progress, cancelled):
        release_old.wait(10)
        old_saw_cancel.append(cancelled())
        return "old"

    def new(progress, cancelled):
        release_new.wait(10)
        return "new"

    worker.submit(old, lambda result: delivered.append(("first callback", result)))
    worker.submit(new, lambda result: delivered.append(("second callback", result)))
    release_old.set()
    qtbot.waitUntil(lambda: bool(old_saw_cancel))
    qtbot.wait(50)
    assert delivered == [] and worker.busy
    release_new.set()
    qtbot.waitUntil(lambda: bool(delivered))
    worker.wait()
    qtbot.wait(20)
    assert delivered == [("second callback", "new")] and old_saw_cancel == [True]


def test_a_load_error_is_shown_and_the_old_volume_stays(qtbot, main_window, tmp_path, monkeypatch):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    before, title = main_window.state.volume, main_window.windowTitle()
    shown = []
    monkeypatch.setattr(main_window_module.QMessageBox, "warning", lambda parent, caption, text: shown.append(text))
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"this is not a NIfTI file")
    with qtbot.waitSignal(main_window.loader.failed, timeout=30000):
        main_window.open_path(bad)
    assert len(shown) == 1 and "broken.nii.gz" in shown[0] and shown[0].count(". ") == 0
    assert main_window.state.volume is before and main_window.windowTitle() == title


def test_a_folder_of_several_series_asks_which_one(qtbot, main_window):
    asked = []

    def choose_pet(series, where):
        asked.append(series)
        return next(s["uid"] for s in series if s["modality"] == "PT")

    main_window.ask_series = choose_pet
    open_and_wait(qtbot, main_window, SAMPLE_STUDY)
    assert sorted(s["modality"] for s in asked[0]) == ["CT", "PT"]
    assert main_window.state.volume.modality == "PT" and main_window.state.volume.units == "SUV"
    assert main_window.state.labels is not None  # PET/nifti/mask/mask.nii.gz
    assert main_window.window_level_bar.preset_box.currentText() == "SUV 0–5"


def test_declining_the_series_picker_keeps_what_was_open(qtbot, main_window):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    before = main_window.state.volume
    asked = []
    main_window.ask_series = lambda series, where: asked.append(series)  # returns None: the user cancelled
    main_window.open_path(SAMPLE_STUDY)
    qtbot.waitUntil(lambda: bool(asked), timeout=30000)
    qtbot.waitUntil(lambda: not main_window.loader.busy)
    assert main_window.state.volume is before


def test_series_picker_dialog_lists_and_returns_the_chosen_series(qtbot):
    series = list_series(SAMPLE_STUDY)["series"]
    dialog = SeriesPickerDialog(series, str(SAMPLE_STUDY))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    cells = [[dialog.table.item(r, c).text() for c in range(5)] for r in range(2)]
    ct = next(row for row in cells if row[0] == "CT")
    assert ct[2] == "59" and ct[3] == "198×202×59"
    dialog.table.selectRow(1)
    assert dialog.selected_uid() == series[1]["uid"]
    dialog.table.clearSelection()
    assert dialog.selected_uid() is None
