"""A multi-series study without Qt: one reference image, whose grid the segmentation lives on, and image layers.

Each layer has its own Volume, window / level, colour map, opacity, visibility and a :class:`LayerTransform` to the
reference (identity for a series in the reference's Frame of Reference; a registration result otherwise). The
reference is layer 0 and is always drawn first; ``layers`` lists every layer in drawing order (bottom → top).

A layer in another Frame of Reference with no registration is ``registered = False``: it is shown, with a banner,
until the user registers it or confirms that the scanners share coordinates (:meth:`Study.confirm_alignment`).

``on_reference(layer_id)`` gives the layer resampled onto the reference grid (linear, NaN outside), computed once
per transform and kept: every intensity tool, statistic and the fused display reads that, so "source layer" is the
same code path as the reference itself. Listeners hear ``(what, layer_id)`` with what in: "added", "removed",
"order", "display" (window, colour map, opacity, visibility), "transform", "resampled" (:meth:`on_reference`
filled by a background job).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .errors import LoadError
from .layer_resampling import overlap_fraction, resample_onto_reference
from .layer_transform import LayerTransform
from .volume import UNITS_SUV, Volume
from .window_level import COLOUR_MAPS, WindowLevel, volume_default_window

StudyListener = Callable[[str, int], None]

LAYER_COLOUR_MAPS = ("grey", "hot", "rainbow", "inverted")
# how an overlay meets the layers under it: alpha blend at ``opacity`` (the usual fusion), or the registration
# checks a user looks at: a checkerboard of reference and layer, their absolute difference (each windowed)
FUSION_MODES = ("blend", "checkerboard", "difference")


class LayerError(LoadError):
    """A layer that cannot join the study as it stands (other patient, no overlap); the study is unchanged."""


class OtherPatientError(LayerError):
    """The layer's PatientID differs from the reference's; add it again with ``allow_other_patient=True``."""


def default_overlay_colour_map(volume: Volume) -> str:
    return "hot" if volume.modality == "PT" or volume.units == UNITS_SUV else "grey"


@dataclass(eq=False)  # a layer is itself: lists of layers compare by identity, never by their voxel arrays
class ImageLayer:
    id: int
    volume: Volume
    name: str
    window: WindowLevel
    colour_map: str = "grey"
    opacity: float = 1.0
    visible: bool = True
    fusion_mode: str = "blend"  # one of FUSION_MODES
    transform: LayerTransform = field(default_factory=LayerTransform.identity)
    registered: bool = True  # False: another Frame of Reference and neither registered nor confirmed
    registration_note: str = ""  # how the transform was obtained: "same frame of reference", "rigid MI", ...

    @property
    def modality(self) -> str:
        return self.volume.modality

    @property
    def units(self) -> str:
        return self.volume.units


def layer_name(volume: Volume) -> str:
    desc = volume.identity.series_description
    return f"{volume.modality or 'image'}{' ' + desc if desc else ''}".strip()


class Study:
    def __init__(self, reference: Volume, name: str | None = None):
        self._ids = itertools.count()
        self._listeners: list[StudyListener] = []
        self._resampled: dict[int, tuple[LayerTransform, Volume]] = {}
        first = ImageLayer(next(self._ids), reference, name or layer_name(reference), volume_default_window(reference))
        first.registration_note = "reference"
        self.layers: list[ImageLayer] = [first]

    # --- observers --------------------------------------------------------------------------
    def subscribe(self, listener: StudyListener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str, layer_id: int) -> None:
        for listener in list(self._listeners):
            listener(what, layer_id)

    # --- layers -----------------------------------------------------------------------------
    @property
    def reference(self) -> ImageLayer:
        return self.layers[0]

    @property
    def geometry(self):
        return self.reference.volume.geometry

    @property
    def overlays(self) -> list[ImageLayer]:
        return self.layers[1:]

    def layer(self, layer_id: int) -> ImageLayer:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(f"no layer {layer_id}")

    def by_modality(self, modality: str) -> ImageLayer | None:
        """The first layer of ``modality`` (reference first), or None."""
        return next((layer for layer in self.layers if layer.modality == modality), None)

    def find(self, name_or_modality: str) -> ImageLayer:
        """A layer by name, modality or id (as a string): what ``--layer-source PET`` and scripts say."""
        for layer in self.layers:
            if name_or_modality in (layer.name, str(layer.id)):
                return layer
        layer = self.by_modality(name_or_modality)
        if layer is None:
            raise KeyError(f"the study has no layer {name_or_modality!r}; it has "
                           f"{', '.join(f'{l.name} ({l.modality})' for l in self.layers)}")
        return layer

    def add_layer(self, volume: Volume, name: str | None = None, *, transform: LayerTransform | None = None,
                  allow_other_patient: bool = False, opacity: float = 0.5) -> ImageLayer:
        """Add an overlay. Raises :class:`OtherPatientError` (PatientID differs) or :class:`LayerError` (no
        overlap with the reference) and leaves the study as it was."""
        ref = self.reference.volume.identity
        ident = volume.identity
        if ref.patient_id and ident.patient_id and ref.patient_id != ident.patient_id and not allow_other_patient:
            raise OtherPatientError(volume.source_path or "the layer",
                                    "belongs to another patient (its Patient ID differs from the reference's); "
                                    "confirm to add it anyway.")
        same_frame = bool(ref.frame_of_reference_uid) and ref.frame_of_reference_uid == ident.frame_of_reference_uid
        given = transform is not None and not transform.is_identity
        transform = transform or LayerTransform.identity()
        if overlap_fraction(volume.geometry, transform, self.geometry) == 0.0:
            raise LayerError(volume.source_path or "the layer",
                             "does not overlap the reference image anywhere; it was not added.")
        registered = same_frame or given
        layer = ImageLayer(next(self._ids), volume, name or layer_name(volume), volume_default_window(volume),
                           colour_map=default_overlay_colour_map(volume), opacity=opacity, transform=transform,
                           registered=registered,
                           registration_note="same frame of reference" if same_frame else
                           ("given transform" if registered else ""))
        self.layers.append(layer)
        self._notify("added", layer.id)
        return layer

    def remove_layer(self, layer_id: int) -> None:
        layer = self.layer(layer_id)
        if layer is self.reference:
            raise LayerError("the reference image", "cannot be removed: the segmentation lives on its grid.")
        self.layers.remove(layer)
        self._resampled.pop(layer_id, None)
        self._notify("removed", layer_id)

    def restore_layer(self, layer: ImageLayer, position: int) -> None:
        """Put back an overlay that was removed (the redo of an added layer), at drawing position ``position``."""
        if any(other.id == layer.id for other in self.layers):
            return
        self.layers.insert(int(np.clip(position, 1, len(self.layers))), layer)
        self._notify("added", layer.id)

    def move_layer(self, layer_id: int, position: int) -> None:
        """Move an overlay to drawing position ``position`` (1 = just above the reference)."""
        layer = self.layer(layer_id)
        if layer is self.reference:
            raise LayerError("the reference image", "is always drawn first.")
        self.layers.remove(layer)
        self.layers.insert(int(np.clip(position, 1, len(self.layers))), layer)
        self._notify("order", layer_id)

    # --- display ----------------------------------------------------------------------------
    def set_display(self, layer_id: int, *, window: WindowLevel | None = None, colour_map: str | None = None,
                    opacity: float | None = None, visible: bool | None = None,
                    fusion_mode: str | None = None) -> None:
        layer = self.layer(layer_id)
        if fusion_mode is not None:
            if fusion_mode not in FUSION_MODES:
                raise ValueError(f"unknown fusion mode {fusion_mode!r}; one of {', '.join(FUSION_MODES)}")
            layer.fusion_mode = fusion_mode
        if colour_map is not None:
            if colour_map not in LAYER_COLOUR_MAPS and colour_map not in COLOUR_MAPS:
                raise ValueError(f"unknown colour map {colour_map!r}")
            layer.colour_map = colour_map
        if window is not None:
            layer.window = WindowLevel(max(window.window, 1e-6), window.level)
        if opacity is not None:
            layer.opacity = float(np.clip(opacity, 0.0, 1.0))
        if visible is not None:
            layer.visible = bool(visible)
        self._notify("display", layer_id)

    # --- transforms -------------------------------------------------------------------------
    def set_transform(self, layer_id: int, transform: LayerTransform, note: str = "") -> LayerTransform:
        """Replace a layer's transform (a registration, a manual adjustment, an undo); returns the old one."""
        layer = self.layer(layer_id)
        if layer is self.reference:
            raise LayerError("the reference image", "defines the study's coordinates; register the other layers.")
        old = layer.transform
        layer.transform = transform
        layer.registered = True
        layer.registration_note = note or layer.registration_note or "manual"
        self._resampled.pop(layer_id, None)
        self._notify("transform", layer_id)
        return old

    def confirm_alignment(self, layer_id: int) -> None:
        """The user says the layer's scanner shares the reference's coordinates: keep the transform, drop the banner."""
        layer = self.layer(layer_id)
        layer.registered = True
        layer.registration_note = layer.registration_note or "confirmed by the user"
        self._notify("transform", layer_id)

    def unregistered(self) -> list[ImageLayer]:
        return [layer for layer in self.overlays if not layer.registered]

    def rereference(self, layer_id: int) -> "Study":
        """A new study with layer ``layer_id`` as its reference (Segment ▸ Copy segments to another layer): the
        old reference becomes an overlay with the inverse of that layer's transform, every other layer's transform
        is re-expressed from the new reference (new reference → old reference → layer); ids, names and display
        settings are kept. This study is left as it was; the segments must be carried over separately
        (core/segmentation_transfer.py)."""
        chosen = self.layer(layer_id)
        if chosen is self.reference:
            raise LayerError("that layer", "is already the reference.")
        new_to_old = chosen.transform.inverse()
        study = Study(chosen.volume, chosen.name)
        study._ids = itertools.count(max(layer.id for layer in self.layers) + 1)
        first = study.layers[0]
        first.id, first.window, first.colour_map = chosen.id, chosen.window, chosen.colour_map
        first.opacity, first.visible, first.fusion_mode = 1.0, True, "blend"
        for layer in self.layers:
            if layer is chosen:
                continue
            was_reference = layer is self.reference
            moved = ImageLayer(layer.id, layer.volume, layer.name, layer.window, colour_map=layer.colour_map,
                               opacity=0.5 if was_reference else layer.opacity, visible=layer.visible,
                               fusion_mode=layer.fusion_mode,
                               transform=new_to_old if was_reference else new_to_old.then(layer.transform),
                               # known relative to the new reference only as far as the chosen layer was
                               registered=chosen.registered and (was_reference or layer.registered),
                               registration_note="former reference" if was_reference else layer.registration_note)
            study.layers.append(moved)
        return study

    # --- layer voxels on the reference grid ------------------------------------------------
    def on_reference(self, layer_id: int) -> Volume:
        """The layer's voxels on the reference grid (the reference's own Volume for the reference); kept until the
        layer's transform changes. Slow for a big CT (a full resample): call it off the GUI thread."""
        layer = self.layer(layer_id)
        if layer is self.reference:
            return layer.volume
        cached = self._resampled.get(layer_id)
        if cached is not None and cached[0] is layer.transform:
            return cached[1]
        transform = layer.transform
        volume = resample_onto_reference(layer.volume, transform, self.geometry)
        if any(other is layer for other in self.layers):  # a layer removed meanwhile (a background job) keeps none
            self._resampled[layer_id] = (transform, volume)
        return volume

    def announce_resampled(self, layer_id: int) -> None:
        """A background job has filled :meth:`on_reference`'s cache for the layer: the views may read it now."""
        if self.cached_on_reference(layer_id) is not None:
            self._notify("resampled", layer_id)

    def cached_on_reference(self, layer_id: int) -> Volume | None:
        """:meth:`on_reference` if it is ready, else None (the GUI thread's question)."""
        layer = self.layer(layer_id)
        if layer is self.reference:
            return layer.volume
        cached = self._resampled.get(layer_id)
        return cached[1] if cached is not None and cached[0] is layer.transform else None

    def values_at(self, reference_index) -> list[tuple[ImageLayer, float | None]]:
        """Each visible layer's value at a reference voxel index (None outside the layer): the status bar."""
        point = self.geometry.index_to_patient(np.asarray(reference_index, dtype=float))
        out = []
        for layer in self.layers:
            if not layer.visible:
                continue
            idx = layer.volume.geometry.patient_to_nearest_index(layer.transform.map_to_layer(point))
            if np.all(idx >= 0) and np.all(idx < np.asarray(layer.volume.size)):
                out.append((layer, float(layer.volume.array[idx[2], idx[1], idx[0]])))
            else:
                out.append((layer, None))
        return out
