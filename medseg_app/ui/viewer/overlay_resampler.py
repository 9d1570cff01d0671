"""Resamples each image layer onto the reference grid in the background, so the views can slice it.

Until a layer's whole-volume resample (``Study.on_reference``) is ready, the slice views sample the displayed slice
on the fly (core/fused_display.py); when it is, :meth:`Study.announce_resampled` makes them redraw from it. A layer
added or re-registered meanwhile is picked up by the next round: one job at a time, so two never resample the same
layer together. A resample made for a transform that has since changed is never shown (the study keys its cache by
the transform) and a layer removed meanwhile keeps none. While :meth:`hold` is on (a layer dragged by the mouse, its
transform changing at every move) no round starts: the views sample on the fly, and the release starts the round.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ...core.privacy import get_logger
from ...core.viewer_state import ViewerState
from ..worker import LoadWorker

_log = get_logger("ui")


class OverlayResampler(QObject):
    resampled = Signal(int)  # layer id whose resample onto the reference grid is now shown

    def __init__(self, state: ViewerState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.worker = LoadWorker(self)
        self.worker.failed.connect(lambda message: _log.warning("a layer could not be resampled: %s", message))
        self.worker.failed.connect(lambda _message: self._finished(retry=False))
        self.jobs = 0  # rounds submitted (tests)
        self._again = False
        self.held = False
        state.subscribe(self._on_state)

    def _on_state(self, what: str) -> None:
        if what == "volume":
            self.worker.cancel()  # the old study's layers are no longer shown
            self._again = False
        if what in ("volume", "layers"):
            self.schedule()

    def _missing(self) -> list[int]:
        study = self.state.study
        if study is None:
            return []
        return [layer.id for layer in study.overlays if study.cached_on_reference(layer.id) is None]

    def hold(self, held: bool) -> None:
        """Start no round while ``held`` (a drag changing a transform); on release, one for what is missing."""
        self.held = bool(held)
        if not self.held:
            self.schedule()

    def schedule(self) -> None:
        """Start a round for the layers without a resample, or ask for one after the round in flight."""
        if self.held:
            return
        if self.worker.busy:
            self._again = True
            return
        missing = self._missing()
        if not missing:
            return
        study = self.state.study

        def job(progress, cancelled):
            done = []
            for n, layer_id in enumerate(missing):
                if cancelled():
                    break
                progress(n / len(missing), "Resampling image layers onto the reference grid…")
                try:
                    study.on_reference(layer_id)
                except KeyError:  # removed meanwhile
                    continue
                done.append(layer_id)
            return study, done

        self.jobs += 1
        self.worker.submit(job, self._done)

    def _done(self, result) -> None:
        study, done = result
        if study is self.state.study:
            for layer_id in done:
                if any(layer.id == layer_id for layer in study.layers):
                    study.announce_resampled(layer_id)
                    self.resampled.emit(layer_id)
        self._finished()

    def _finished(self, retry: bool = True) -> None:
        """After a round: another for what changed meanwhile (after a failure, only for that: the views go on
        sampling the failed layer slice by slice)."""
        again, self._again = self._again, False
        if retry or again:
            self.schedule()

    def shutdown(self) -> None:
        self.worker.cancel()
        self.worker.wait()
