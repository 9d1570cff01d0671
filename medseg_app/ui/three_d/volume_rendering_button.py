"""The 3-D view's title-bar button that turns volume rendering on with a preset, or off (the default)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QToolButton, QWidget


class VolumeRenderingButton(QToolButton):
    preset_chosen = Signal(object)  # a preset name, or None for off

    def __init__(self, presets: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setText("Volume")
        self.setToolTip("Volume rendering of the image (off by default)")
        self.setAutoRaise(True)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        group = QActionGroup(self)
        group.setExclusive(True)
        self.actions_by_preset: dict[str | None, QAction] = {}
        for name, title in [(None, "Off")] + list(presets.items()):
            action = QAction(title, self, checkable=True)
            action.triggered.connect(lambda _=False, n=name: self._choose(n))
            group.addAction(action)
            menu.addAction(action)
            self.actions_by_preset[name] = action
        self.actions_by_preset[None].setChecked(True)
        self.setMenu(menu)

    def _choose(self, name: str | None) -> None:
        self.actions_by_preset[name].setChecked(True)
        self.setText("Volume" if name is None else f"Volume: {self.actions_by_preset[name].text()}")
        self.preset_chosen.emit(name)
