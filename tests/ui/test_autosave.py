"""Autosave: interval, incremental encoding, GUI-thread cost, clean exit, close prompt, and a real kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from medseg_app.core.box import Box
from medseg_app.io.session_file import load_session

from .ui_test_data import REPO, SAMPLE_CT, open_and_wait

SCRIPTS = Path(__file__).parent / "scripts"


def _writes(autosave, qtbot, n, timeout=5000):
    qtbot.waitUntil(lambda: autosave.writes >= n, timeout=timeout)


def test_autosave_writes_within_interval_and_only_changed_segments(qtbot, main_window, recovery_dir):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    autosave = window.sessions.autosave
    autosave.timer.setInterval(300)
    assert not autosave.dirty and autosave.writes == 0
    seg = window.state.segmentation
    gtv = next(iter(seg.segments.values()))
    a = seg.add_segment("A")
    b = seg.add_segment("B")
    seg.modify(a.id, Box((10, 100, 100), (20, 140, 140)), np.ones((10, 40, 40), bool))
    started = time.monotonic()
    _writes(autosave, qtbot, 1)
    assert time.monotonic() - started < 2.0  # within its interval (0.3 s) plus the write
    assert autosave.path.parent == recovery_dir and autosave.path.exists()
    assert sorted(autosave.last_encoded) == sorted([gtv.id, a.id, b.id])
    first_ms = autosave.last_snapshot_ms
    seg.modify(b.id, Box((5, 50, 50), (8, 60, 60)), np.ones((3, 10, 10), bool))
    _writes(autosave, qtbot, 2)
    assert autosave.last_encoded == [b.id]  # the others' payloads were reused
    second_ms = autosave.last_snapshot_ms
    saved = {s["name"]: s["mask"].count() for s in load_session(autosave.path).segments}
    assert saved == {gtv.name: gtv.mask.count(), "A": 16000, "B": 300}
    qtbot.wait(900)
    assert autosave.writes == 2  # nothing changed: nothing written
    print(f"\nGUI-thread snapshot: first (all segments) {first_ms:.2f} ms, incremental {second_ms:.2f} ms")
    assert first_ms <= 20 and second_ms <= 20


def test_clean_exit_removes_the_recovery_file_and_close_asks(qtbot, main_window):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    autosave = window.sessions.autosave
    seg = window.state.segmentation
    seg.modify(next(iter(seg.segments)), Box((0, 0, 0), (1, 2, 2)), np.ones((1, 2, 2), bool))
    assert autosave.save_if_dirty()
    autosave.wait()
    assert autosave.path.exists()
    asked = []
    window.sessions.ask_unsaved = lambda: asked.append(1) or "cancel"
    assert not window.close() and window.isVisible() and asked == [1]
    window.sessions.ask_unsaved = lambda: "discard"
    assert window.close()
    assert not autosave.path.exists()


def test_session_menu_save_marks_clean(qtbot, main_window, tmp_path):
    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    seg = window.state.segmentation
    seg.add_segment("New")
    assert window.sessions.autosave.unsaved
    assert window.sessions.save(str(tmp_path / "s.medseg"))
    qtbot.waitUntil(lambda: not window.sessions.saving)  # written in the background
    assert not window.sessions.autosave.unsaved
    assert [s["name"] for s in load_session(tmp_path / "s.medseg").segments][-1] == "New"


def _app(env, log_name):
    cmd = [sys.executable, "-m", "medseg_app", str(SAMPLE_CT)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=open(log_name, "w"))


def test_kill_9_then_restart_restores_the_autosaved_edits(tmp_path):
    recovery = tmp_path / "recovery"
    edit_log, report = tmp_path / "edits.log", tmp_path / "report.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MEDSEG_RECOVERY_DIR": str(recovery),
           "MEDSEG_AUTOSAVE_INTERVAL_S": "1", "EDIT_LOG": str(edit_log), "REPORT": str(report),
           "MEDSEG_TEST_SCRIPT": str(SCRIPTS / "autosave_edit.py")}
    child = _app(env, tmp_path / "first.err")
    try:
        deadline = time.monotonic() + 120
        while not list(recovery.glob("recovery-*.medseg")) and time.monotonic() < deadline:
            assert child.poll() is None, (tmp_path / "first.err").read_text()
            time.sleep(0.1)
        time.sleep(2.6)  # a few more autosaves, and the kill lands between two of them
        assert child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    edits = [line.split() for line in edit_log.read_text().splitlines()]
    times = {int(n): float(t) for n, t in edits}
    files = list(recovery.glob("recovery-*.medseg"))
    assert len(files) == 1
    env["MEDSEG_AUTO_RESTORE"] = "1"
    env["MEDSEG_TEST_SCRIPT"] = str(SCRIPTS / "autosave_report.py")
    second = _app(env, tmp_path / "second.err")
    second.wait(120)
    err = (tmp_path / "second.err").read_text()
    assert "restoring the recovery file" in err, err
    restored = json.loads(report.read_text())
    kept = restored["Killed"]
    assert kept >= 1 and "GTV_Mass_CT" in restored
    loss_s = max(times.values()) - times[kept]
    print(f"\nkill -9: {len(times)} edits made, {kept} restored; work lost: {loss_s:.2f} s (interval 1 s)")
    assert loss_s <= 1.0 + 1.0  # at most one interval plus the write
    assert second.returncode == 0
    assert not list(recovery.glob("*.medseg"))  # the restored file was replaced, then removed at the clean exit
