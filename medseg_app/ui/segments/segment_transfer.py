"""Segment ▸ Copy segments to another layer…: the chosen layer becomes the study's reference and every segment is
carried onto its grid (core/segmentation_transfer.py) on a worker thread, with progress and Cancel in the status
bar; the result replaces the study and segmentation in one step, and only if neither changed meanwhile."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMainWindow, QMenu

from ...core.segmentation import Segment, Segmentation
from ...core.segmentation_transfer import rereferenced
from ...core.viewer_state import ViewerState
from ..study.load_progress import LoadProgress
from ..worker import LoadWorker
from .copy_to_layer_dialog import CopySegmentsDialog


def detached_copy(segmentation: Segmentation) -> Segmentation:
    """The segments (masks copied, same ids and order) that the worker reads while the GUI may go on editing."""
    copy = Segmentation(segmentation.geometry, undo_budget_bytes=0)
    for segment_id, s in segmentation.segments.items():
        copy.segments[segment_id] = Segment(id=s.id, name=s.name, colour=s.colour, mask=s.mask.copy(),
                                            visible=s.visible, opacity=s.opacity, locked=s.locked, source=s.source,
                                            source_detail=s.source_detail)
    copy.active_id = segmentation.active_id
    return copy


def segment_menu(window: QMainWindow) -> QMenu:
    """The window's Segment menu (made on first use)."""
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == "Segment":
            return action.menu()
    return window.menuBar().addMenu("&Segment")


class SegmentTransfer(QObject):
    finished = Signal(str)  # what happened, one sentence (also shown in the status bar)

    def __init__(self, state: ViewerState, window: QMainWindow):
        super().__init__(window)
        self.state, self.window = state, window
        self.worker = LoadWorker(self)
        self.progress = LoadProgress()
        window.statusBar().addPermanentWidget(self.progress)
        self.worker.progressed.connect(self.progress.show_progress)
        self.worker.busy_changed.connect(self._busy)
        self.worker.failed.connect(lambda message: self._say(message))
        self.worker.cancelled.connect(lambda: self._say("Copying segments cancelled; nothing was changed."))
        self.progress.cancel_clicked.connect(self.worker.cancel)
        self.ask_layer = self._ask_layer  # (study, segment count) -> layer id or None; replaceable in tests
        self.action = QAction("Copy segments to another &layer…", window)
        self.action.triggered.connect(self.start)
        self._edits = 0  # segment events seen: an edit during a copy makes its result stale
        state.subscribe_segments(self._count_edit)

    def _count_edit(self, *_event) -> None:
        self._edits += 1

    def add_actions(self, window: QMainWindow) -> None:
        segment_menu(window).addAction(self.action)

    def _busy(self, busy: bool) -> None:
        self.progress.set_busy(busy)
        if busy:
            self.progress.bar.setFormat("Copying segments… %p%")
        self.action.setEnabled(not busy)

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)
        self.finished.emit(message)

    def _ask_layer(self, study, segment_count: int) -> int | None:
        dialog = CopySegmentsDialog(study, segment_count, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen_layer_id()

    def start(self) -> None:
        study, segmentation = self.state.study, self.state.segmentation
        if study is None or segmentation is None:
            self._say("Open an image first.")
            return
        if not study.overlays:
            self._say("The study has no other image layer to copy the segments to.")
            return
        layer_id = self.ask_layer(study, len(segmentation.segments))
        if layer_id is None:
            return
        self.run(layer_id)

    def run(self, layer_id: int) -> None:
        """Carry every segment onto layer ``layer_id`` and make it the reference (in the background)."""
        study, segmentation = self.state.study, self.state.segmentation
        copy = detached_copy(segmentation)
        edits = self._edits
        name = study.layer(layer_id).name
        count = len(copy.segments)

        def job(progress, cancelled):
            return rereferenced(study, copy, layer_id, progress=lambda f: progress(f, f"Copying to {name}"),
                                cancelled=cancelled)

        def done(result):
            if self.state.study is not study or self.state.segmentation is not segmentation:
                self._say("The study changed while the segments were copied; nothing was changed.")
                return
            if self._edits != edits:
                self._say("The segments were edited while they were copied; copy them again.")
                return
            new_study, carried = result
            self.state.set_study(new_study, carried)
            self._say(f"Copied {count} segment{'s' if count != 1 else ''} onto {name}, now the reference.")

        self.worker.submit(job, done)
