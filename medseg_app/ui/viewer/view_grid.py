"""3D Slicer's four-up layout: axial | 3-D over sagittal | coronal; any one view can fill the grid and come back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from ...core.viewer_state import ViewerState
from .slice_panel import SlicePanel

_PLACES = {"axial": (0, 0), "3d": (0, 1), "sagittal": (1, 0), "coronal": (1, 1)}


class ViewGrid(QWidget):
    maximised_changed = Signal(object)  # the maximised view's name, or None when all four show

    def __init__(self, state: ViewerState, three_d_panel: QWidget, parent: QWidget | None = None):
        """``three_d_panel``: the 3-D view under its title bar, with a ``maximise_toggled`` signal and ``set_maximised``."""
        super().__init__(parent)
        self.panels: dict[str, QWidget] = {v: SlicePanel(state, v) for v in ("axial", "sagittal", "coronal")}
        self.panels["3d"] = three_d_panel
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        for name, (row, column) in _PLACES.items():
            layout.addWidget(self.panels[name], row, column)
            self.panels[name].maximise_toggled.connect(lambda name=name: self.toggle_maximised(name))
        for index in range(2):
            layout.setRowStretch(index, 1)
            layout.setColumnStretch(index, 1)
        self.maximised: str | None = None

    def slice_view(self, view: str):
        return self.panels[view].view

    def toggle_maximised(self, name: str) -> None:
        self.set_maximised(None if self.maximised == name else name)

    def set_maximised(self, name: str | None) -> None:
        self.maximised = name
        layout = self.layout()
        for index in range(2):
            layout.setRowStretch(index, 1 if name is None or _PLACES[name][0] == index else 0)
            layout.setColumnStretch(index, 1 if name is None or _PLACES[name][1] == index else 0)
        for other, panel in self.panels.items():
            panel.setVisible(name is None or other == name)
            panel.set_maximised(other == name)
        self.maximised_changed.emit(name)
