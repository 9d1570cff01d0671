"""Status-bar text for the voxel under the mouse: index, LPS position in mm, value with units, segments there.

With image layers fused over the reference, the value part lists each visible layer's value at the same patient
point (the crosshair and the mouse are in the reference's voxels, mapped through each layer's transform):
``CT 34 HU · PT 7.2 SUV · MR 412``; "–" where the point lies outside a layer.
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QWidget

from ...core.viewer_state import ViewerState

SEPARATOR = " · "


def format_value(value: float, integral: bool) -> str:
    return f"{value:.0f}" if integral else f"{value:.4g}"


def format_layer_value(value: float, integral: bool) -> str:
    """A layer's value for the status bar: integers as they are, SUV and other floats to a useful precision."""
    if integral or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def format_layer_values(values) -> str:
    """``[(layer, value or None), ...]`` (Study.values_at) as ``CT 34 HU · PT 7.2 SUV``."""
    parts = []
    for layer, value in values:
        label = layer.modality or layer.name
        if value is None or math.isnan(value):
            parts.append(f"{label} –")
            continue
        units = f" {layer.units}" if layer.units else ""
        parts.append(f"{label} {format_layer_value(value, layer.volume.array.dtype.kind in 'iu')}{units}")
    return SEPARATOR.join(parts)


def format_readout(readout: dict | None, integral: bool = True, layer_values=None) -> str:
    if readout is None:
        return ""
    i, j, k = readout["index"]
    x, y, z = readout["lps_mm"]
    text = f"voxel ({i}, {j}, {k})    LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm    "
    if layer_values:
        text += format_layer_values(layer_values)
    else:
        units = f" {readout['units']}" if readout["units"] else ""
        text += f"value {format_value(readout['value'], integral)}{units}"
    if readout.get("segments"):
        text += "    " + ", ".join(readout["segments"])
    return text


class CursorReadout(QLabel):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.setMinimumWidth(520)

    def show_voxel(self, index) -> None:
        volume = self.state.volume
        readout = None if index is None else self.state.readout(index)
        integral = volume is not None and volume.array.dtype.kind in "iu"
        study = self.state.study
        layer_values = None
        if readout is not None and study is not None and study.overlays:
            layer_values = study.values_at(readout["index"])
        self.setText(format_readout(readout, integral, layer_values))
