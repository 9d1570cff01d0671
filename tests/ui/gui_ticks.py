"""Showing that work runs off the GUI thread by counting, never timing: a 10 ms QTimer on the GUI thread counts
its ticks, and a background job wrapped by :meth:`TickGate.hold` waits, before it does its work, until the GUI
thread has ticked ``needed`` more times. If the job ran on the GUI thread (or blocked it), no tick could run while
it waits: the gate stays shut, the wait ends at its (generous) timeout and ``opened`` records False.

Timings belong in benchmarks/ (``autosave_gui_ms``, ``session_snapshot_ms``, ...): a test that asserts a duration
fails by chance on a busy machine; a count of ticks or a thread id does not.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer

GATE_TIMEOUT_S = 20.0  # a deadlock guard: how long a held job waits for the GUI thread before giving up


class TickGate:
    def __init__(self, needed: int = 3, interval_ms: int = 10, timeout_s: float = GATE_TIMEOUT_S):
        self.needed, self.timeout_s = needed, timeout_s
        self.ticks = 0  # GUI-thread timer ticks so far
        self.gui_thread = threading.get_ident()
        self.job_threads: list[int] = []  # the thread each held job ran on
        self.opened: list[bool] = []  # per held job: the GUI thread ticked ``needed`` times while it waited
        self._armed_at: int | None = None
        self._open = threading.Event()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1
        armed = self._armed_at
        if armed is not None and self.ticks - armed >= self.needed:
            self._open.set()

    def hold(self, fn):
        """``fn`` wrapped: records its thread, waits for ``needed`` GUI ticks (or the timeout), then runs."""

        def held(*args, **kwargs):
            self.job_threads.append(threading.get_ident())
            self._open.clear()
            self._armed_at = self.ticks
            self.opened.append(self._open.wait(self.timeout_s))
            self._armed_at = None
            return fn(*args, **kwargs)

        return held

    @property
    def off_gui_thread(self) -> bool:
        """Every held job ran on a thread other than the GUI thread, and the GUI thread ticked while it waited."""
        return bool(self.job_threads) and all(t != self.gui_thread for t in self.job_threads) and all(self.opened)

    def stop(self) -> None:
        self.timer.stop()
