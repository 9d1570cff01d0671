"""Play / pause / step of an evolving tool (the active contour), one worker job per step, a preview after each.

The tool's ``start(cancelled, previous=..., **inputs)`` (made in the worker: the speed image is slow) returns an
evolution whose ``step(cancelled)`` runs a few iterations and returns the contour as a Preview. While playing, each
step's preview is shown on the GUI thread and the next step is submitted from there, so only one step ever runs
and the level set is never read and written at once. Pause lets the step in flight finish and show, then stops;
Step runs exactly one; the evolution stops by itself when it is ``done`` (converged or at its iteration limit).

A step that another job superseded (a resample, a newer preview) never reports; the runner notices when the
worker falls idle and, if it was playing, goes on. A result of an evolution that was dropped meanwhile (Cancel,
Apply, other bubbles) is not shown. Options changed since the evolution started are handed to the tool's
``start`` again before the next step: weights apply from there on, a new start place starts afresh.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ...core.errors import MedSegError
from ..worker import LoadWorker


class ContourEvolutionRunner(QObject):
    changed = Signal()  # playing, the evolution, its iteration count or its RMS changed
    message = Signal(str)

    def __init__(self, worker: LoadWorker, show: Callable[[object, object], None],
                 request: Callable[[], None], parent: QObject | None = None):
        """``show(tool, preview)`` puts a preview on screen; ``request()`` asks for a start with the current
        inputs (the controller's request_preview, which calls :meth:`start`)."""
        super().__init__(parent)
        self.worker, self._show, self._request = worker, show, request
        self.tool = None
        self.evolution = None
        self.playing = False
        self.steps_shown = 0  # previews of steps shown since the evolution started
        self._step_wanted = False
        self._in_flight = False
        worker.busy_changed.connect(lambda busy: busy or QTimer.singleShot(0, self._check_lost))

    # --- commands ------------------------------------------------------------------------------
    def start(self, tool, inputs: dict) -> None:
        """Start (or retune) the evolution from ``inputs`` in the worker; its first contour is shown."""
        if tool.values.get("init") == "bubbles" and not inputs.get("seeds"):
            self.message.emit(f"{tool.title}: click bubbles in a slice view (or start from the segment).")
            return
        previous = self.evolution if self.tool is tool else None
        self.tool = tool

        def job(progress, cancelled):
            progress(0.0, f"{tool.title}: preparing the speed image…")
            try:
                evolution = tool.start(cancelled, previous=previous, **inputs)
            except (ValueError, KeyError) as exc:
                raise MedSegError(str(exc)) from exc
            return evolution, evolution.preview(tool.values["mode"])

        self._in_flight = True
        self.worker.submit(job, lambda result, tool=tool: self._started(tool, result))

    def play(self) -> None:
        self.playing = True
        self.changed.emit()
        self._next()

    def pause(self) -> None:
        """No further step; the one in flight still shows."""
        self.playing, self._step_wanted = False, False
        self.changed.emit()

    def step(self) -> None:
        self.playing, self._step_wanted = False, True
        self.changed.emit()
        self._next()

    def reset(self) -> None:
        """Drop the evolution (Cancel, Apply, other bubbles, another tool)."""
        self.evolution, self.tool = None, None
        self.playing, self._step_wanted, self._in_flight = False, False, False
        self.steps_shown = 0
        self.changed.emit()

    # --- the loop ------------------------------------------------------------------------------
    def _stale(self) -> bool:
        return self.evolution is None or self.evolution.parameters != self.tool.values

    def _next(self) -> None:
        if self._in_flight:
            return  # the job in flight continues the loop when it reports
        if self.evolution is None or self._stale():
            self._request()
            return
        if self.evolution.done:
            self.playing, self._step_wanted = False, False
            self.changed.emit()
            return
        if not (self.playing or self._step_wanted):
            return
        self._step_wanted = False
        evolution, tool = self.evolution, self.tool

        def job(progress, cancelled):
            progress(0.0, f"{tool.title}: iteration {evolution.iterations}…")
            return evolution.step(cancelled)

        self._in_flight = True
        self.worker.submit(job, lambda preview: self._stepped(evolution, preview))

    def _started(self, tool, result) -> None:
        self._in_flight = False
        if tool is not self.tool or result is None:
            return
        evolution, preview = result
        if evolution is not self.evolution:
            self.steps_shown = 0
        self.evolution = evolution
        self._show(tool, preview)
        self.changed.emit()
        if self.evolution is not None and (self.playing or self._step_wanted):
            self._next()

    def _stepped(self, evolution, preview) -> None:
        self._in_flight = False
        if evolution is not self.evolution or preview is None:
            return
        self.steps_shown += 1
        self._show(self.tool, preview)  # an Apply waiting for this preview applies it and resets the runner
        if self.evolution is not None and evolution.done:
            self.playing = False
        self.changed.emit()
        if self.evolution is not None and self.playing:
            self._next()

    def _check_lost(self) -> None:
        """The worker is idle but the runner's job never reported: it was superseded or cancelled."""
        if self._in_flight and not self.worker.busy:
            self._in_flight = False
            if self.playing or self._step_wanted:
                self._next()
