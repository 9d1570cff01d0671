"""Sessions in the window: Save session writes in the background (the GUI thread only snapshots), the title and
unsaved mark follow the write, errors reach a message box, closing waits for a save in flight; a session holding a
copy of the image opens without the original files. Nothing here is timed (a busy machine would fail it by chance):
that the write leaves the GUI thread free is counted (tests/ui/gui_ticks.py); what the GUI thread's snapshot costs
is the benchmark ``session_snapshot_ms`` (and ``session_save_gui_ms``)."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
from PySide6.QtWidgets import QCheckBox

from medseg_app.core.box import Box
from medseg_app.io import session_file
from medseg_app.io.session_file import load_image_copy, load_session
from medseg_app.ui.session import session_actions
from medseg_app.ui.session.session_actions import session_save_dialog

from .gui_ticks import TickGate
from .ui_test_data import SAMPLE_CT, open_and_wait, ramp_volume


def _big_edit(window):
    """A segment over most of the sample CT with random voxels: slow to encode, quick to copy."""
    seg = window.state.segmentation
    segment = seg.add_segment("Noise")
    shape = window.state.volume.array.shape
    seg.modify(segment.id, Box((0, 0, 0), shape), np.random.default_rng(0).random(shape) > 0.5)
    return segment


def _held_writes(monkeypatch, gate: TickGate) -> None:
    """Every session save's write (job.write, on the writer thread) first waits for ``gate``'s GUI ticks."""
    real_job = session_actions.session_job

    def job(*args, **kwargs):
        made = real_job(*args, **kwargs)
        made.write = gate.hold(made.write)
        return made

    monkeypatch.setattr(session_actions, "session_job", job)


def test_save_encodes_and_writes_off_the_gui_thread(qtbot, main_window, tmp_path, monkeypatch):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    sessions = window.sessions
    noise = _big_edit(window)
    assert sessions.autosave.unsaved and window.isWindowModified()
    path = tmp_path / "case.medseg"
    gate = TickGate(needed=3)
    _held_writes(monkeypatch, gate)
    assert sessions.save(str(path), include_image=True)
    assert sessions.saving and not path.exists()  # save() returned before the file was written
    qtbot.waitUntil(lambda: not sessions.saving, timeout=60000)
    gate.stop()
    # The encoding and writing ran on the writer thread while the GUI thread went on running its event loop.
    assert gate.off_gui_thread and len(gate.job_threads) == 1, (gate.job_threads, gate.opened, gate.gui_thread)
    print(f"\nSave session: GUI-thread snapshot {sessions.last_snapshot_ms:.1f} ms (information only; the budget "
          f"is the benchmark session_snapshot_ms), {gate.ticks} GUI ticks until written")
    with zipfile.ZipFile(path) as archive:  # complete: every entry's CRC checks
        assert archive.testzip() is None
        assert {"manifest.json", session_file.IMAGE_COPY_FILE} <= set(archive.namelist())
    saved = {s["name"]: s["mask"] for s in load_session(path).segments}
    assert np.array_equal(saved["Noise"].to_dense(), noise.mask.to_dense())
    assert np.array_equal(load_image_copy(path).array, window.state.volume.array)
    assert not sessions.autosave.unsaved and not window.isWindowModified()
    assert "case.medseg" in window.windowTitle() and sessions.session_path == str(path)
    assert not list(tmp_path.glob(".case.medseg.*"))  # no temporary file left


def test_an_edit_during_the_write_stays_unsaved(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    _big_edit(window)
    sessions = window.sessions
    assert sessions.save(str(tmp_path / "case.medseg"))
    seg = window.state.segmentation
    seg.modify(seg.add_segment("Late").id, Box((1, 1, 1), (2, 3, 3)), np.ones((1, 2, 2), bool))
    qtbot.waitUntil(lambda: not sessions.saving, timeout=60000)
    assert sessions.session_path.endswith("case.medseg")
    assert sessions.autosave.unsaved and window.isWindowModified()  # "Late" is not in the file


def test_a_failed_save_is_reported_in_a_message_box(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    window.state.segmentation.add_segment("New")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    shown = []
    window.sessions.warn = shown.append
    assert window.sessions.save(str(blocker / "case.medseg"))  # started; fails in the writer
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    assert "not-a-folder" in shown[0] and not window.sessions.saving
    assert window.sessions.autosave.unsaved and window.sessions.session_path == ""


def test_closing_waits_for_a_save_in_flight(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    _big_edit(window)
    asked = []
    window.sessions.ask_unsaved = lambda: asked.append(1) or "cancel"
    path = tmp_path / "case.medseg"
    assert window.sessions.save(str(path), include_image=True) and window.sessions.saving
    assert window.close()  # no question: the save in flight was finished first, and left nothing unsaved
    assert asked == []
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    assert [s["name"] for s in load_session(path).segments][-1] == "Noise"


def test_save_on_close_writes_the_file_before_the_window_goes(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    _big_edit(window)
    path = tmp_path / "closing.medseg"
    window.sessions.ask_unsaved = lambda: "save"
    window.sessions.ask_save_path = lambda: (str(path), False)
    assert window.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    assert [s["name"] for s in load_session(path).segments][-1] == "Noise"


def test_a_session_with_its_image_opens_without_the_original_files(qtbot, main_window, tmp_path):
    window = main_window
    folder = tmp_path / "ct"
    shutil.copytree(SAMPLE_CT, folder)
    open_and_wait(qtbot, window, folder)
    original = window.state.volume
    seg = window.state.segmentation
    gtv = next(iter(seg.segments.values()))
    seg.modify(gtv.id, Box((30, 100, 100), (32, 104, 104)), np.ones((2, 4, 4), bool))
    expected = gtv.mask.to_dense()
    path = tmp_path / "case.medseg"
    window.sessions.ask_save_path = lambda: (str(path), True)  # the save dialog, "Include a copy" checked
    assert window.sessions.save_as()
    qtbot.waitUntil(lambda: not window.sessions.saving, timeout=60000)
    shutil.rmtree(folder)
    window.state.set_volume(ramp_volume())  # another image is open now
    with qtbot.waitSignal(window.study_loaded, timeout=60000):
        window.sessions.open(path)
    volume = window.state.volume
    assert volume.geometry.size == original.geometry.size
    for what in ("spacing", "origin", "direction"):
        assert np.array_equal(getattr(volume.geometry, what), getattr(original.geometry, what))
    assert np.array_equal(volume.array, original.array) and volume.identity == original.identity
    assert np.array_equal(window.state.segmentation.by_name(gtv.name).mask.to_dense(), expected)
    sessions = window.sessions
    assert window.opened_path == str(folder) and sessions.image_copy_in == str(path)
    assert sessions.include_image and sessions.session_path == str(path)
    assert str(path) not in window.recent.paths()  # a session file is not an image to offer in Open recent
    # A reference-only session saved now records where the copy is, so it opens here too.
    later = tmp_path / "later.medseg"
    assert sessions.save(str(later), include_image=False)
    qtbot.waitUntil(lambda: not sessions.saving, timeout=60000)
    assert load_session(later).image["copy_in"] == str(path)
    window.state.set_volume(ramp_volume())
    with qtbot.waitSignal(window.study_loaded, timeout=60000):
        sessions.open(later)
    assert np.array_equal(window.state.volume.array, original.array)


def test_the_save_dialog_offers_to_include_the_image(qtbot, main_window):
    dialog, box = session_save_dialog(main_window, "", True)
    qtbot.addWidget(dialog)
    assert box in dialog.findChildren(QCheckBox) and box.isChecked() and "copy of the image" in box.text()


def test_a_session_keeps_where_the_sample_label_map_came_from(qtbot, main_window, tmp_path):
    """The sample's image folder alone (no RTSTRUCT beside it) opens its label map twin, named after the RTSTRUCT
    ROI: the source column says label map, the tooltip which file and which ROI; a session keeps both."""
    from medseg_app.ui.segments.segment_list_panel import SOURCE

    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT / "image")
    (gtv,) = window.state.segmentation.segments.values()
    detail = "label map mask/mask.nii.gz label 1, named after RTSTRUCT ROI 'GTV_Mass_CT' from RS.dcm"
    assert (gtv.name, gtv.source, gtv.source_detail) == ("GTV_Mass_CT", "label map", detail)
    item = window.segment_list.table.item(0, SOURCE)
    assert (item.text(), item.toolTip()) == ("label map", detail)
    path = tmp_path / "twin.medseg"
    window.sessions.ask_save_path = lambda: (str(path), True)  # with a copy of the image
    assert window.sessions.save_as()
    qtbot.waitUntil(lambda: not window.sessions.saving, timeout=60000)
    assert [(e["source"], e["source_detail"]) for e in load_session(path).segments] == [("label map", detail)]
    window.state.set_volume(ramp_volume())
    with qtbot.waitSignal(window.study_loaded, timeout=60000):
        window.sessions.open(path)
    (restored,) = window.state.segmentation.segments.values()
    assert (restored.name, restored.source, restored.source_detail) == ("GTV_Mass_CT", "label map", detail)
    item = window.segment_list.table.item(0, SOURCE)
    assert (item.text(), item.toolTip()) == ("label map", detail)
