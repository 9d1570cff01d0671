"""One background thread that builds segment surfaces, newest request per segment first come, first served.

``submit(segment_id, ticket, job)`` queues ``job()`` (it must return numpy arrays only); a request for a segment
still waiting replaces the older one, which is never run. ``built(segment_id, ticket, result)`` arrives on the GUI
thread (``result`` is the job's return value or the exception it raised); the receiver compares ``ticket`` with
the newest it asked for and drops stale results. One thread, so surfaces never compete with each other for the
two cores VTK's SMP back-end already uses.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal


class SurfaceBuilder(QObject):
    built = Signal(int, int, object)  # segment id, ticket, result or exception

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pending: dict[int, tuple[int, Callable[[], object]]] = {}
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, segment_id: int, ticket: int, job: Callable[[], object]) -> None:
        with self._condition:
            if self._closed:
                return
            self._pending.pop(segment_id, None)  # re-queued at the back, replacing what was waiting
            self._pending[segment_id] = (ticket, job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="medseg-surfaces", daemon=True)
                self._thread.start()
            self._condition.notify()

    def discard(self, segment_id: int | None = None) -> None:
        """Forget the waiting request of one segment (None: of every segment); a running job still reports."""
        with self._condition:
            if segment_id is None:
                self._pending.clear()
            else:
                self._pending.pop(segment_id, None)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking requests and wait for the running job (shutdown)."""
        with self._condition:
            self._closed = True
            self._pending.clear()
            self._condition.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                segment_id = next(iter(self._pending))
                ticket, job = self._pending.pop(segment_id)
            try:
                result = job()
            except Exception as exc:  # reported to the GUI thread, which decides what to say
                result = exc
            try:
                self.built.emit(segment_id, ticket, result)
            except RuntimeError:  # the receiver is gone (window closed)
                return
