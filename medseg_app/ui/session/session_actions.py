"""Sessions in the window: File ▸ Save session… / Open session…, the autosave, restoring a recovery file at
start, and asking about unsaved changes on close (Save / Discard / Cancel).

Saving: the save dialog offers "Include a copy of the image" (checked by default when the open session holds
one, so that saving it again keeps it). The GUI thread only snapshots what is written (copies of the masks' small
box arrays; the image is shared, volumes are never edited in place, so a copy costs it nothing) and a writer
thread encodes and writes the file atomically (``io.session_file``); the window title's session name and its
unsaved-changes mark follow when the write ends, and a failed write is reported in a message box. Closing waits
for a save in flight (and asks about unsaved changes again when it failed).

Opening: a session holding a copy of the image opens that copy (in the background, like File ▸ Open) unless the
same image is open already, so it opens on a machine without the original files; otherwise the referenced image
is opened (see ``io.session_file.image_copy_source``). A session with image layers rebuilds the fused study whole:
the reference and every layer (its copy, else its path) in one background load, each layer with its display,
transform and registration state (``io.session_layers``); a layer that cannot be read is said in one sentence
and the rest opens.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QCheckBox, QFileDialog, QGridLayout, QMessageBox

from ...io.session_file import (SUFFIX, SessionError, apply_session, check_image, image_copy_source, load_session,
                               session_job)
from .autosave import Autosave
from ..study.layer_loading import FILE_WEIGHT, layer_weight, session_layer, study_with_layers
from ..study.study_loading import load_image_copy_study, load_path

SESSION_FILTER = f"MedSeg sessions (*{SUFFIX});;All files (*)"
INCLUDE_IMAGE_TEXT = "Include a copy of the image (opens without the original files; a larger file)"


def session_save_dialog(parent, folder: str, include_image: bool) -> tuple[QFileDialog, QCheckBox]:
    """Qt's own save dialog (a native one cannot hold the checkbox) with "Include a copy of the image"."""
    dialog = QFileDialog(parent, "Save session", folder, SESSION_FILTER)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setDefaultSuffix(SUFFIX.lstrip("."))
    box = QCheckBox(INCLUDE_IMAGE_TEXT, dialog)
    box.setObjectName("include_image")
    box.setChecked(include_image)
    box.setToolTip("The session file then holds the image's voxels, geometry and identity too, exactly as loaded.")
    layout = dialog.layout()
    if isinstance(layout, QGridLayout):
        layout.addWidget(box, layout.rowCount(), 0, 1, layout.columnCount())
    elif layout is not None:
        layout.addWidget(box)
    return dialog, box


class SessionActions(QObject):
    _written = Signal(int, object)  # (ticket, exception or None), emitted by the writer thread

    def __init__(self, window):
        super().__init__(window)
        self.window, self.state = window, window.state
        self.image_copy_in = ""  # a session file holding a copy of the open image, when the study came from it
        self.include_image = False  # the save dialog's default for "Include a copy of the image"
        self.autosave = Autosave(self.state, self._image_path, parent=self, copy_in=lambda: self.image_copy_in)
        self.autosave.failed.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.session_path: str = ""
        self._waiting = None  # (session, path, recovered, image copy source) to apply once the study has loaded
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medseg-session-save")
        self._saves: dict[int, tuple[Future, str, int, bool]] = {}  # ticket -> (future, path, edits, copy)
        self._ticket = 0
        self.last_snapshot_ms = 0.0  # GUI-thread time of the last save (tests, diagnostics)
        self._written.connect(self._save_finished, Qt.ConnectionType.QueuedConnection)
        window.study_loaded.connect(self._study_loaded)
        self.state.subscribe_segments(self._edited)
        self.state.subscribe(lambda what: what == "layers" and self._edited(what, -1, None))
        # Replaceable for tests: returns "save", "discard" or "cancel"; (path, include_image) or None; shows text.
        self.ask_unsaved = self._ask_unsaved
        self.ask_save_path = self._ask_save_path
        self.warn = self._warn

    def _image_path(self) -> str:
        study = self.window.study
        return getattr(self.window, "opened_path", "") or (str(study.path) if study is not None else "")

    def add_actions(self, menu) -> None:
        open_action = QAction("Open se&ssion…", self.window)
        open_action.triggered.connect(self._choose_open)
        save_action = QAction("&Save session…", self.window, shortcut=QKeySequence.StandardKey.Save)
        save_action.triggered.connect(self.save_as)
        menu.addAction(open_action)
        menu.addAction(save_action)

    # --- the title --------------------------------------------------------------------------
    def update_title(self) -> None:
        """"MedSeg — <study> — <session file>", marked modified (``[*]``) while there are unsaved edits."""
        base = getattr(self.window, "study_title", "MedSeg")
        name = f" — {Path(self.session_path).name}" if self.session_path else ""
        self.window.setWindowTitle(f"{base}{name}[*]")
        self.window.setWindowModified(self.autosave.unsaved)

    def _edited(self, what: str, segment_id: int, box) -> None:
        if what != "active" and not self.window.isWindowModified():
            self.window.setWindowModified(True)

    # --- saving -----------------------------------------------------------------------------
    def _ask_save_path(self) -> tuple[str, bool] | None:
        dialog, box = session_save_dialog(self.window, self.session_path, self.include_image)
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return dialog.selectedFiles()[0], box.isChecked()

    def save_as(self) -> bool:
        """Ask where (and whether to include the image) and start the save; True when it was started."""
        if self.state.volume is None:
            return False
        answer = self.ask_save_path()
        if not answer:
            return False
        path, include_image = answer
        if not path.endswith(SUFFIX):
            path += SUFFIX
        return self.save(path, include_image)

    def save(self, path: str, include_image: bool | None = None) -> bool:
        """Snapshot the session (GUI thread, fast) and write it in the background; True when the write started.

        ``include_image`` None: as the last save or the open session did."""
        include = self.include_image if include_image is None else bool(include_image)
        started = time.perf_counter()
        try:
            job = session_job(path, self.state, self._image_path(), include, self.image_copy_in)
        except SessionError as exc:
            self.warn(f"{path}: {exc}")
            return False
        self.include_image = include
        self.window.statusBar().showMessage(f"Saving the session to {path}…")
        self._ticket += 1
        ticket = self._ticket
        self.last_snapshot_ms = (time.perf_counter() - started) * 1000.0
        future = self._writer.submit(job.write)  # last: the writer thread starts at once and takes the GIL
        self._saves[ticket] = (future, str(path), self.autosave.edits, include)
        future.add_done_callback(lambda done, t=ticket: self._written.emit(t, done.exception()))
        return True

    @property
    def saving(self) -> bool:
        """A save is being written."""
        return bool(self._saves)

    def _save_finished(self, ticket: int, error: BaseException | None) -> bool:
        entry = self._saves.pop(ticket, None)
        if entry is None:  # already finished by wait_for_saves
            return True
        _future, path, edits, _include = entry
        if error is not None:
            self.window.statusBar().showMessage(f"Could not save the session to {path}.", 8000)
            self.warn(f"{path}: {error}")
            return False
        self.session_path = path
        if self.autosave.edits == edits:  # nothing changed while it was written
            self.autosave.mark_clean()
        self.update_title()
        self.window.statusBar().showMessage(f"Saved the session to {path}.", 8000)
        return True

    def wait_for_saves(self, timeout: float | None = None) -> bool:
        """Block until every save in flight has been written (closing, tests); False if one failed."""
        ok = True
        if not self._saves:
            return ok
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            for ticket in sorted(self._saves):
                future = self._saves[ticket][0]
                try:
                    error = future.exception(timeout=timeout)
                except TimeoutError as exc:
                    error = exc
                ok = self._save_finished(ticket, error) and ok
        finally:
            QApplication.restoreOverrideCursor()
        return ok

    def _warn(self, text: str) -> None:
        QMessageBox.warning(self.window, "MedSeg: could not save", text)

    # --- opening ----------------------------------------------------------------------------
    def _choose_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", "", SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path, recovered: bool = False) -> None:
        """Open the session's image (unless it is open already) and restore its segments and view."""
        try:
            session = load_session(path)
        except SessionError as exc:
            self.window.report_error(str(exc))
            return
        self._waiting = (session, str(path), recovered, None)
        if session.layers:
            self._open_with_layers(session, str(path), recovered)
            return
        volume = self.state.volume
        if volume is not None:
            try:
                check_image(session, volume)
                self._study_loaded()
                return
            except SessionError:
                pass
        source = image_copy_source(session)
        if source is not None:
            self._waiting = (session, str(path), recovered, str(source))
            self.window.load_study(lambda progress, cancelled: load_image_copy_study(source, progress, cancelled),
                                   source, reference=session.image.get("path", ""))
            return
        image = Path(session.image["path"])
        series = (session.image.get("series_uid") or None) if image.is_dir() else None
        self.window.open_path(image, series)

    def _open_with_layers(self, session, path: str, recovered: bool) -> None:
        source = image_copy_source(session)
        if source is not None:
            self._waiting = (session, path, recovered, str(source))
            reference = (FILE_WEIGHT, lambda progress, cancelled: load_image_copy_study(source, progress, cancelled))
            shown, recorded = source, session.image.get("path", "")
        else:
            image = Path(session.image["path"])
            series = (session.image.get("series_uid") or None) if image.is_dir() else None
            reference = (layer_weight(image), lambda progress, cancelled: load_path(image, series, progress,
                                                                                    cancelled))
            shown, recorded = image, None
        layers = [session_layer(path, entry) for entry in session.layers]
        self.window.load_study(lambda progress, cancelled: study_with_layers(reference, layers, progress, cancelled),
                               shown, reference=recorded)

    def _study_loaded(self) -> None:
        if self._waiting is None:
            self.autosave.reset()  # the study's own structures are not unsaved edits
            self.session_path, self.image_copy_in = "", ""
            self.update_title()
            return
        session, path, recovered, copy_source = self._waiting
        self._waiting = None
        try:
            apply_session(self.state, session)
        except SessionError as exc:
            self.window.report_error(str(exc))
            return
        if session.layers == [] and self.state.study is not None:  # saved without layers: the open ones go
            for layer in list(self.state.study.overlays):
                self.state.study.remove_layer(layer.id)
        if copy_source is not None:
            self.image_copy_in = copy_source
        if recovered:
            self.autosave.mark_dirty()
            self.autosave.adopt(Path(path))
            self.autosave.save_if_dirty()
            self.window.statusBar().showMessage(f"Restored the unsaved work from {path}.", 15000)
        else:
            self.session_path = path
            self.include_image = session.has_image_copy
            self.autosave.mark_clean()
            self.window.statusBar().showMessage(f"Opened the session {path}.", 8000)
        self.update_title()

    def offer_recovery(self, files: list[Path], accept: bool | None = None) -> bool:
        """Ask whether to restore the newest recovery file (``accept`` answers without asking); True if restoring.

        A declined file is removed."""
        newest = files[0]
        if accept is None:
            answer = QMessageBox.question(
                self.window, "MedSeg: restore unsaved work?",
                f"MedSeg did not exit cleanly last time. Restore the unsaved work autosaved in {newest}?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            accept = answer == QMessageBox.StandardButton.Yes
        if not accept:
            for path in files:
                path.unlink(missing_ok=True)
            return False
        print(f"medseg: restoring the recovery file {newest}", file=sys.stderr, flush=True)
        for older in files[1:]:
            self.autosave.adopt(older)
        self.open(newest, recovered=True)
        return True

    # --- closing ----------------------------------------------------------------------------
    def _ask_unsaved(self) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "MedSeg: unsaved changes",
                          "The segments have unsaved changes. Save the session before closing?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def may_close(self) -> bool:
        """On close: finish a save in flight, then ask about unsaved changes; False keeps the window open."""
        self.wait_for_saves()  # a failed save leaves its edits unsaved: asked about below
        if not self.autosave.unsaved:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save_as() and self.wait_for_saves()
        return answer == "discard"

    def shutdown(self) -> None:
        self.wait_for_saves()
        self._writer.shutdown(wait=True)
        self.autosave.shutdown(remove=True)
