"""Autosave: while there are unsaved edits, a recovery copy of the session is written at most every
``interval_s`` seconds (30 by default) to the recovery folder, off the GUI thread.

The GUI thread only copies the small sparse arrays of the segments changed since the last autosave (the time it
takes is kept in ``last_snapshot_ms``); the writer thread re-encodes those and reuses the encoded payloads of the
others. Recovery files are named ``recovery-<pid>.medseg``; a clean exit removes this process's file, so a file
whose process is gone was left by a session that did not exit cleanly (:func:`stale_recovery_files`).
A change of the study's image layers (added, removed, reordered, restyled, re-registered) is an edit too: the
recovery file lists the layers by reference (``io.session_layers``).

Environment: ``MEDSEG_RECOVERY_DIR`` (the folder; default QStandardPaths AppDataLocation/recovery) and
``MEDSEG_AUTOSAVE_INTERVAL_S`` (the interval, for tests).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from ...core.privacy import get_logger
from ...io.session_file import (build_manifest, encode_payloads, image_reference, snapshot_segments, view_state,
                               write_atomic)
from ...io.session_layers import layer_entries

DEFAULT_INTERVAL_S = 30.0


def recovery_dir() -> Path:
    env = os.environ.get("MEDSEG_RECOVERY_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".medseg") / "recovery"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_recovery_files(folder: Path | None = None) -> list[Path]:
    """Recovery files of processes that are no longer running (newest first)."""
    folder = folder or recovery_dir()
    found = []
    for path in folder.glob("recovery-*.medseg"):
        try:
            pid = int(path.stem.split("-", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class Autosave(QObject):
    """Tracks unsaved edits of ``state`` (a ViewerState) and writes recovery copies in the background."""

    saved = Signal(str)  # the recovery file, after each completed write (GUI thread)
    failed = Signal(str)

    def __init__(self, state, image_path=lambda: "", interval_s: float | None = None, parent=None,
                 copy_in=lambda: ""):
        super().__init__(parent)
        self.state = state
        self.image_path = image_path
        self.copy_in = copy_in  # a session file holding a copy of the image (the study was opened from it), or ""
        env = os.environ.get("MEDSEG_AUTOSAVE_INTERVAL_S")
        self.interval_s = float(interval_s if interval_s is not None else env or DEFAULT_INTERVAL_S)
        self.path = recovery_dir() / f"recovery-{os.getpid()}.medseg"
        self.unsaved = False  # edits since the session was last saved or opened (asks on close)
        self.dirty = False  # edits since the last autosave
        self.edits = 0  # counts every edit: a save compares it before and after its write
        self._changed: set[int] = set()
        self._generation = 0
        self._cache: dict[str, bytes] = {}  # writer thread only
        self._cache_generation = -1
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medseg-autosave")
        self._pending = None
        self._adopted: list[Path] = []  # a restored recovery file, removed after our first write
        self.last_snapshot_ms = 0.0
        self.last_encoded: list[int] = []  # segment ids re-encoded by the last completed write
        self.last_saved_at = 0.0  # time.time() of the snapshot the last completed write holds
        self.writes = 0
        self._lock = threading.Lock()
        state.subscribe_segments(self._segment_changed)
        state.subscribe(self._state_changed)
        self.timer = QTimer(self)
        self.timer.setInterval(int(self.interval_s * 1000))
        self.timer.timeout.connect(self.save_if_dirty)
        self.timer.start()
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_done)

    # --- tracking ---------------------------------------------------------------------------
    def _segment_changed(self, what: str, segment_id: int, box) -> None:
        if what == "active":
            return
        self._changed.add(segment_id)
        self.edits += 1
        self.dirty = self.unsaved = True

    def _state_changed(self, what: str) -> None:
        if what in ("volume", "segmentation"):  # a new study or segmentation: nothing unsaved, nothing cached
            self.reset()
        elif what == "layers":  # a layer added, removed, moved, restyled or re-registered: written by reference
            self.edits += 1
            self.dirty = self.unsaved = True

    def reset(self) -> None:
        """What is shown now was just loaded: nothing unsaved, and the next autosave encodes everything."""
        self._generation += 1
        self._changed.clear()
        self.dirty = self.unsaved = False

    def mark_clean(self) -> None:
        """The session was saved or opened by the user."""
        self.unsaved = False

    def mark_dirty(self) -> None:
        """Everything counts as changed (after a restore)."""
        seg = self.state.segmentation
        self._generation += 1
        self._changed = set(seg.segments) if seg is not None else set()
        self.edits += 1
        self.dirty = self.unsaved = True

    def adopt(self, path: Path) -> None:
        self._adopted.append(Path(path))

    # --- writing ----------------------------------------------------------------------------
    def save_if_dirty(self) -> bool:
        """Snapshot (GUI thread) and write in the background; False when clean or a write is in flight."""
        if not self.dirty or self._pending is not None or self.state.volume is None:
            return False
        started = time.perf_counter()
        seg = self.state.segmentation
        generation = self._generation
        full = generation != self._cache_generation
        snapshots = snapshot_segments(seg, None if full else set(self._changed))
        manifest = build_manifest(image_reference(self.state.volume, self.image_path(), self.copy_in()), snapshots,
                                  view_state(self.state), seg.active_id, layer_entries(self.state.study))
        self._changed.clear()
        self.dirty = False
        taken_at = time.time()
        self.last_snapshot_ms = (time.perf_counter() - started) * 1000.0
        self._pending = self._executor.submit(self._write, generation, snapshots, manifest, taken_at)
        self._poll.start()
        return True

    def _write(self, generation, snapshots, manifest, taken_at):
        with self._lock:
            if generation != self._cache_generation:
                self._cache = {}
                self._cache_generation = generation
            payloads, encoded = encode_payloads(snapshots, self._cache)
            live = set(payloads)
            for name in list(self._cache):
                if name not in live:
                    del self._cache[name]
            write_atomic(self.path, manifest, payloads)
            return encoded, taken_at

    def _check_done(self) -> None:
        future = self._pending
        if future is None or not future.done():
            return
        self._pending = None
        self._poll.stop()
        try:
            encoded, taken_at = future.result()
        except Exception as exc:  # a failed write is retried at the next tick; the edits stay dirty
            self._cache_generation = -1
            self.dirty = True
            get_logger("autosave").warning("autosave failed: %s", exc)
            self.failed.emit(f"Autosave failed: {exc}")
            return
        self.last_encoded, self.last_saved_at = encoded, taken_at
        self.writes += 1
        get_logger("autosave").info("autosave written: %s (%d segment(s) re-encoded)", self.path,
                                                  len(encoded))
        for old in self._adopted:
            old.unlink(missing_ok=True)
        self._adopted.clear()
        self.saved.emit(str(self.path))

    def wait(self, timeout: float = 30.0) -> None:
        """Block until an in-flight write ends (tests, shutdown)."""
        future = self._pending
        if future is not None:
            future.exception(timeout=timeout)
            self._check_done()

    def shutdown(self, remove: bool = True) -> None:
        """A clean exit: stop, wait for the writer, and remove this process's recovery file."""
        self.timer.stop()
        self._poll.stop()
        try:
            self.wait()
        except Exception:
            pass
        self._executor.shutdown(wait=True)
        if remove:
            self.path.unlink(missing_ok=True)
