"""Runs load jobs on a QThread and hands their results back on the GUI thread.

A new job supersedes the one before it: the old job is told it is cancelled (its ``cancelled()`` turns True)
and whatever it still returns is dropped, so only the newest request ever reaches the window.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from ..core.errors import LoadCancelled, MedSegError
from ..core.privacy import get_logger

_log = get_logger("ui")
Job = Callable[[Callable[[float, str], None], Callable[[], bool]], object]


class _JobThread(QThread):
    progressed = Signal(int, float, str)
    done = Signal(int, object, object)  # ticket, result, exception

    def __init__(self, ticket: int, job: Job, stop: threading.Event):
        super().__init__()
        self.ticket, self.job, self.stop = ticket, job, stop

    def run(self) -> None:
        try:
            result = self.job(lambda f, m: self.progressed.emit(self.ticket, float(f), str(m)), self.stop.is_set)
        except BaseException as exc:  # everything goes back to the GUI thread, which decides what to say
            self.done.emit(self.ticket, None, exc)
        else:
            self.done.emit(self.ticket, None if self.stop.is_set() else result, None)


class LoadWorker(QObject):
    progressed = Signal(float, str)
    failed = Signal(str)  # one sentence for the user
    cancelled = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ticket = 0
        self._stop: threading.Event | None = None
        self._on_done: Callable[[object], None] | None = None
        self._threads: set[_JobThread] = set()

    @property
    def busy(self) -> bool:
        return self._stop is not None

    def submit(self, job: Job, on_done: Callable[[object], None]) -> int:
        """Start ``job(progress, cancelled)``; ``on_done(result)`` runs on the GUI thread unless superseded."""
        if self._stop is not None:
            self._stop.set()
        self._ticket += 1
        self._stop = threading.Event()
        self._on_done = on_done
        thread = _JobThread(self._ticket, job, self._stop)
        thread.progressed.connect(self._progressed)
        thread.done.connect(self._done)
        thread.finished.connect(self._reap)
        self._threads.add(thread)
        thread.start()
        self.busy_changed.emit(True)
        return self._ticket

    def cancel(self) -> None:
        if self._stop is None:
            return
        self._stop.set()
        self._finish()
        self.cancelled.emit()

    def wait(self, msecs: int = 30000) -> None:
        """Block until every job thread has ended (shutdown and tests)."""
        for thread in list(self._threads):
            thread.wait(msecs)

    def _reap(self) -> None:
        for thread in [t for t in self._threads if t.isFinished()]:
            thread.wait()
            self._threads.discard(thread)

    def _finish(self) -> None:
        self._stop, self._on_done = None, None
        self._ticket += 1
        self.busy_changed.emit(False)

    def _progressed(self, ticket: int, fraction: float, message: str) -> None:
        if ticket == self._ticket:
            self.progressed.emit(fraction, message)

    def _done(self, ticket: int, result: object, error: BaseException | None) -> None:
        if ticket != self._ticket:
            return
        on_done = self._on_done
        self._finish()
        if isinstance(error, LoadCancelled):
            self.cancelled.emit()
        elif isinstance(error, MedSegError):
            self.failed.emit(str(error))
        elif error is not None:
            _log.error("unexpected error in a background job", exc_info=error)  # redacted by the log's filter
            self.failed.emit(f"Unexpected error: {type(error).__name__}: {error}.")
        elif on_done is not None:
            try:
                on_done(result)
            except MedSegError as exc:
                self.failed.emit(str(exc))
