"""Undo for layer transforms: one entry per registration, manual adjustment gesture or import.

:meth:`Study.set_transform` returns the transform it replaced; :meth:`TransformHistory.apply` keeps it (with the
layer's registration note and registered flag) so :meth:`undo` puts the layer back exactly as it was. A burst of
small changes of one gesture (a spin box held down, a run of key nudges) is one entry: pass the same ``gesture``
key and only the first change of the burst is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layer_transform import LayerTransform
from .study import Study


@dataclass(frozen=True)
class _Entry:
    layer_id: int
    transform: LayerTransform
    note: str
    registered: bool
    gesture: object


class TransformHistory:
    def __init__(self, study: Study, limit: int = 50):
        self.study = study
        self.limit = limit
        self._entries: list[_Entry] = []

    def apply(self, layer_id: int, transform: LayerTransform, note: str, gesture: object = None) -> None:
        layer = self.study.layer(layer_id)
        note_before, registered_before = layer.registration_note, layer.registered
        old = self.study.set_transform(layer_id, transform, note)
        last = self._entries[-1] if self._entries else None
        if gesture is not None and last is not None and last.gesture == gesture and last.layer_id == layer_id:
            return
        self._entries.append(_Entry(layer_id, old, note_before, registered_before, gesture))
        del self._entries[:-self.limit]

    def end_gesture(self) -> None:
        """The next change starts a new undo step even if it passes the same gesture key."""
        if self._entries:
            entry = self._entries[-1]
            self._entries[-1] = _Entry(entry.layer_id, entry.transform, entry.note, entry.registered, None)

    def can_undo(self, layer_id: int | None = None) -> bool:
        return any(layer_id is None or e.layer_id == layer_id for e in self._entries)

    def undo(self, layer_id: int | None = None) -> bool:
        """Put back the transform before the last change (of ``layer_id``, if given); False when there is none."""
        for position in range(len(self._entries) - 1, -1, -1):
            entry = self._entries[position]
            if layer_id is not None and entry.layer_id != layer_id:
                continue
            del self._entries[position]
            try:
                layer = self.study.layer(entry.layer_id)
            except KeyError:  # the layer was removed since
                continue
            self.study.set_transform(entry.layer_id, entry.transform, entry.note or "undone")
            layer.registration_note, layer.registered = entry.note, entry.registered
            return True
        return False
