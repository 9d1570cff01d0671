"""Status-bar progress of a load, with the Cancel button; hidden while nothing loads."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget


class LoadProgress(QWidget):
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_clicked)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def show_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.bar.setFormat(f"{message} %p%" if message else "%p%")
        self.setToolTip(message)

    def set_busy(self, busy: bool) -> None:
        if busy:
            self.bar.setValue(0)
            self.bar.setFormat("Loading… %p%")
        self.setVisible(busy)
