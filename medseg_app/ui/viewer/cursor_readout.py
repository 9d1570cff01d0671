"""Status-bar text for the voxel under the mouse: index, LPS position in mm, value with units, segments there."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from ...core.viewer_state import ViewerState


def format_value(value: float, integral: bool) -> str:
    return f"{value:.0f}" if integral else f"{value:.4g}"


def format_readout(readout: dict | None, integral: bool = True) -> str:
    if readout is None:
        return ""
    i, j, k = readout["index"]
    x, y, z = readout["lps_mm"]
    units = f" {readout['units']}" if readout["units"] else ""
    text = (f"voxel ({i}, {j}, {k})    LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm    "
            f"value {format_value(readout['value'], integral)}{units}")
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
        self.setText(format_readout(readout, integral))
