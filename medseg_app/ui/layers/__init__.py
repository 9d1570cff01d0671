"""The Layers dock: one row per image layer of the study (the reference first, then the overlays in drawing order):
visibility, name and modality, opacity, colour map, fusion mode, window or SUV range with the modality's presets,
order (buttons and drag), remove; a banner on a layer that is not registered, with Confirm.

Public module: ``layers_dock`` (LayersDock). Imports only ``ui.viewer`` and ``ui.worker`` of ui (checked by the
import-linter contract in pyproject.toml).
"""
