"""Sessions in the window: File ▸ Save session… / Open session…, the autosave, restoring a recovery file at
start, and asking about unsaved changes on close (Save / Discard / Cancel)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..io.session_file import SUFFIX, SessionError, apply_session, check_image, load_session, save_session
from .autosave import Autosave

SESSION_FILTER = f"MedSeg sessions (*{SUFFIX});;All files (*)"


class SessionActions(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window, self.state = window, window.state
        self.autosave = Autosave(self.state, self._image_path, parent=self)
        self.autosave.failed.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.session_path: str = ""
        self._waiting = None  # (session, on_done) to apply once the study has loaded
        window.study_loaded.connect(self._study_loaded)
        # Replaceable for tests: returns "save", "discard" or "cancel".
        self.ask_unsaved = self._ask_unsaved

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

    # --- saving -----------------------------------------------------------------------------
    def save_as(self) -> bool:
        if self.state.volume is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session", self.session_path, SESSION_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path += SUFFIX
        return self.save(path)

    def save(self, path: str) -> bool:
        try:
            save_session(path, self.state, self._image_path())
        except (OSError, SessionError) as exc:
            QMessageBox.warning(self.window, "MedSeg: could not save", f"{path}: {exc}")
            return False
        self.session_path = path
        self.autosave.mark_clean()
        self.window.statusBar().showMessage(f"Saved the session to {path}.", 8000)
        return True

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
        self._waiting = (session, str(path), recovered)
        volume = self.state.volume
        if volume is not None:
            try:
                check_image(session, volume)
                self._study_loaded()
                return
            except SessionError:
                pass
        image = Path(session.image["path"])
        series = (session.image.get("series_uid") or None) if image.is_dir() else None
        self.window.open_path(image, series)

    def _study_loaded(self) -> None:
        if self._waiting is None:
            self.autosave.reset()  # the study's own structures are not unsaved edits
            return
        session, path, recovered = self._waiting
        self._waiting = None
        try:
            apply_session(self.state, session)
        except SessionError as exc:
            self.window.report_error(str(exc))
            return
        if recovered:
            self.autosave.mark_dirty()
            self.autosave.adopt(Path(path))
            self.autosave.save_if_dirty()
            self.window.statusBar().showMessage(f"Restored the unsaved work from {path}.", 15000)
        else:
            self.session_path = path
            self.autosave.mark_clean()
            self.window.statusBar().showMessage(f"Opened the session {path}.", 8000)

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
        """On close: ask about unsaved changes; False keeps the window open."""
        if not self.autosave.unsaved:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save_as()
        return answer == "discard"

    def shutdown(self) -> None:
        self.autosave.shutdown(remove=True)
