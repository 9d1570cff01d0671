"""Active contour options: the tool's parameters, "Click bubbles" mode and Clear, Play / Pause / Step, and the
evolution's iteration count, RMS change and why it stopped. With region speed and no range typed in, the range the
bubbles gave is shown in the Lower / Upper boxes (still "from the bubbles" until one is edited)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .tool_options_widget import ToolOptionsWidget


class ActiveContourOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.controller = controller
        self.runner = controller.evolution
        bubbles = QHBoxLayout()
        self.bubble_mode = QPushButton("Click bubbles")
        self.bubble_mode.setCheckable(True)
        self.bubble_mode.setChecked(controller.seed_mode)
        self.bubble_mode.setToolTip("On: a click places a bubble. Off: Shift+click does, a click moves the crosshair.")
        self.clear = QPushButton("Clear bubbles")
        self.count = QLabel("")
        for widget in (self.bubble_mode, self.clear):
            bubbles.addWidget(widget)
        bubbles.addWidget(self.count, 1)
        self.extra.addLayout(bubbles)
        controls = QHBoxLayout()
        self.play = QPushButton("Play")
        self.pause = QPushButton("Pause")
        self.step = QPushButton("Step")
        for button in (self.play, self.pause, self.step):
            button.setObjectName(f"contour_{button.text().lower()}")
            controls.addWidget(button)
        self.extra.addLayout(controls)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.extra.addWidget(self.status)
        self.bubble_mode.toggled.connect(self._mode_toggled)
        self.clear.clicked.connect(controller.clear_seeds)
        self.play.clicked.connect(self._play_evolution)
        self.pause.clicked.connect(self.runner.pause)
        self.step.clicked.connect(self._step_once)
        controller.seeds_changed.connect(self._seeds_changed)
        controller.tool_changed.connect(lambda _tool: self.bubble_mode.setChecked(controller.seed_mode))
        self.runner.changed.connect(self._evolution_changed)
        self.changed.connect(self._range_edited)
        self._prefilled: dict[str, float] = {}  # the bubbles' range shown in Lower / Upper while both are None
        self._seeds_changed()
        self._evolution_changed()

    def _mine(self) -> bool:
        return self.controller.active is self.tool

    def _play_evolution(self) -> None:
        if self._mine() and self.controller.ensure_segment() is not None:
            self.runner.play()

    def _step_once(self) -> None:
        if self._mine() and self.controller.ensure_segment() is not None:
            self.runner.step()

    def _mode_toggled(self, on: bool) -> None:
        if self._mine():
            self.controller.seed_mode = on

    def _seeds_changed(self) -> None:
        n = len(self.controller.seeds) if self._mine() else 0
        self.count.setText(f"{n} bubble{'s' if n != 1 else ''}")

    def _evolution_changed(self) -> None:
        runner = self.runner
        evolution = runner.evolution if runner.tool is self.tool else None
        self.play.setEnabled(not runner.playing)
        self.pause.setEnabled(runner.playing)
        if evolution is None:
            self.status.setText("Place bubbles (or start from the segment), then Play or Step.")
            return
        rms = "–" if evolution.rms is None else f"{evolution.rms:.4f}"
        text = f"Iteration {evolution.iterations}, RMS change {rms}"
        if evolution.done:
            text += f": {evolution.stop_reason}"
        elif runner.playing:
            text += " (playing)"
        self.status.setText(text)
        values = evolution.values
        if values["speed"] == "region" and self.tool.values["lower"] is None and self.tool.values["upper"] is None:
            self._prefilled = {"lower": values["lower"], "upper": values["upper"]}
            for name, value in self._prefilled.items():
                self.set_value(name, value)

    def _range_edited(self, name: str, value) -> None:
        """Editing one bound of a prefilled range keeps the other as shown (None would mean "no bound")."""
        if name not in ("lower", "upper") or not self._prefilled:
            return
        other = "upper" if name == "lower" else "lower"
        prefilled, self._prefilled = self._prefilled, {}
        if self.tool.values[other] is None and value is not None:
            self.changed.emit(other, prefilled[other])
