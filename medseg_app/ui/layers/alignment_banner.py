"""The banner on a layer in another Frame of Reference that nobody has registered or confirmed yet."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

NOT_REGISTERED = "Not registered — register it or confirm the scanners share coordinates."


class AlignmentBanner(QWidget):
    confirm_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("alignment_banner")
        self.setStyleSheet("#alignment_banner { background: #5a4a10; } QLabel { color: #ffe8a0; }")
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        self.label = QLabel(NOT_REGISTERED)
        self.label.setWordWrap(True)
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("The scanners share coordinates: show the layer as it is, without a "
                                       "registration")
        self.confirm_button.clicked.connect(self.confirm_clicked)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.confirm_button)
