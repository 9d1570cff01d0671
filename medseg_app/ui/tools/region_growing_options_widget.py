"""Region growing options: the tool's parameters, then "Click seeds" mode (a click in a slice view adds a
seed; with the mode off, Shift+click does and a plain click moves the crosshair), the seed count and Clear."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .tool_options_widget import ToolOptionsWidget


class RegionGrowingOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent, skip=("seeds",))
        self.controller = controller
        row = QHBoxLayout()
        self.seed_mode = QPushButton("Click seeds")
        self.seed_mode.setCheckable(True)
        self.seed_mode.setChecked(controller.seed_mode)
        self.seed_mode.setToolTip("On: a click adds a seed. Off: Shift+click adds a seed, a click moves the crosshair.")
        self.clear = QPushButton("Clear seeds")
        self.count = QLabel("")
        row.addWidget(self.seed_mode)
        row.addWidget(self.clear)
        row.addWidget(self.count, 1)
        self.extra.addLayout(row)
        self.seed_mode.toggled.connect(self._mode_toggled)
        self.clear.clicked.connect(controller.clear_seeds)
        controller.seeds_changed.connect(self._seeds_changed)
        controller.tool_changed.connect(lambda _tool: self.seed_mode.setChecked(controller.seed_mode))
        self._seeds_changed()

    def _mode_toggled(self, on: bool) -> None:
        if self.controller.active is self.tool:
            self.controller.seed_mode = on

    def _seeds_changed(self) -> None:
        n = len(self.controller.seeds) if self.controller.active is self.tool else 0
        self.count.setText(f"{n} seed{'s' if n != 1 else ''}")
