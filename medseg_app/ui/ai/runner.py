"""Running an AI model off the GUI thread: load the network once per bundle, segment, hand back the result.

``AiRunner.run`` submits one job to its own :class:`LoadWorker`: the predictor (torch and MONAI are imported
here, in the worker, never at start-up) is built on the first run of a bundle and cached, keyed by the bundle's
folder and its weights' modification time; then ``Predictor.segment`` runs with the worker's progress and
cancel. A newer run supersedes a running one (its result is dropped); Cancel stops at the next sliding window
and nothing is returned. Errors come back as one sentence (``failed``). A model may read a study layer other than
the reference (``run(..., layer=)``: the PET under a planning CT); its result still lands on the reference grid.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject

from ...ai.bundle import ModelBundle, ModelError
from ...core.errors import LoadCancelled
from ...core.heat_overlay import quantise
from ...core.volume import Volume
from ..worker import LoadWorker


@dataclass
class AiOutcome:
    bundle: ModelBundle
    volume: Volume  # the reference image its result lies on: a result for another image is stale
    segmentation: object  # the segmentation it is meant for
    result: object  # ai.inference.SegmentationResult
    uncertainty: np.ndarray  # uint8 levels of result.uncertainty, on result.region
    device: str  # where the network ran, in words


def default_predictor(bundle: ModelBundle):
    from ...ai.inference import Predictor

    return Predictor(bundle, device="auto")


def device_words(device: str) -> str:
    """'CUDA (NVIDIA H100 …)', 'CPU', 'MPS' for a torch device name (torch is loaded when this is asked)."""
    if device.startswith("cuda"):
        try:
            import torch

            return f"CUDA ({torch.cuda.get_device_name(0)})"
        except Exception:  # noqa: BLE001 - the name is a nicety
            return "CUDA"
    return device.upper()


def _sentence(text: str) -> str:
    text = text.strip() or "the model failed"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


class AiRunner(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = LoadWorker(self)
        self.make_predictor: Callable[[ModelBundle], object] = default_predictor  # tests give a known network
        self._predictors: dict[tuple, object] = {}
        self._lock = threading.Lock()  # one job at a time uses a predictor (a superseded one ends soon)

    @property
    def busy(self) -> bool:
        return self.worker.busy

    @staticmethod
    def _key(bundle: ModelBundle) -> tuple:
        weights = bundle.weights
        stamp = weights.stat().st_mtime_ns if weights is not None and weights.exists() else None
        return str(bundle.path.resolve()), stamp

    def cached(self, bundle: ModelBundle) -> bool:
        return self._key(bundle) in self._predictors

    def _predictor(self, bundle: ModelBundle):
        key = self._key(bundle)
        if key not in self._predictors:
            try:
                self._predictors[key] = self.make_predictor(bundle)
            except ImportError as exc:
                raise ModelError(f"AI segmentation needs PyTorch and MONAI, which could not be imported "
                                 f"({exc.name or exc}).") from None
        return self._predictors[key]

    def run(self, bundle: ModelBundle, volume: Volume, segmentation, box_lps,
            on_done: Callable[[AiOutcome], None], layer=None) -> None:
        """Segment ``volume`` with ``bundle`` (``box_lps``: two opposite LPS corners in mm, or None). ``layer``: the
        study ImageLayer (not the reference) the model reads instead; its probabilities are resampled onto
        ``volume``'s grid (linear, through the layer's transform) before the arg-max, and the box stays in
        ``volume``'s patient space."""
        from_box = box_lps is not None
        if layer is None:
            source, onto = volume, {}
        else:  # the layer's volume and transform as they are now: a later re-registration is another run
            source, onto = layer.volume, {"reference": volume.geometry, "transform": layer.transform}

        def job(progress, cancelled):
            with self._lock:
                if cancelled():
                    raise LoadCancelled("AI segmentation cancelled")
                if not self.cached(bundle):
                    progress(0.0, f"Loading {bundle.name}…")
                predictor = self._predictor(bundle)
                message = f"Segmenting{' the box' if from_box else ''}…"
                progress(0.0, message)
                from ...ai.inference import InferenceCancelled

                try:
                    result = predictor.segment(source.array, source.geometry, box_lps,
                                               progress=lambda f: progress(f, message), cancelled=cancelled, **onto)
                except InferenceCancelled:
                    raise LoadCancelled("AI segmentation cancelled") from None
                except (ValueError, RuntimeError) as exc:
                    raise ModelError(_sentence(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) \
                        from None
                progress(1.0, "Finishing…")
                return AiOutcome(bundle, volume, segmentation, result, quantise(result.uncertainty),
                                 device_words(str(result.device)))

        self.worker.submit(job, on_done)

    def cancel(self) -> None:
        self.worker.cancel()

    def shutdown(self) -> None:
        self.worker.cancel()
        self.worker.wait()
