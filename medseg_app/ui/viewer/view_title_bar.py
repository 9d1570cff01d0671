"""The strip above a view: its coloured name, an optional 'fit' button and the maximise / restore button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from .view_colours import VIEW_COLOURS, VIEW_TITLES


class ViewTitleBar(QWidget):
    maximise_clicked = Signal()
    fit_clicked = Signal()

    def __init__(self, view: str, with_fit: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        colour = VIEW_COLOURS[view]
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"background-color: {colour.darker(170).name()}; color: white;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 1, 2, 1)
        layout.setSpacing(2)
        self.title = QLabel(VIEW_TITLES[view])
        self.title.setStyleSheet(f"font-weight: bold; color: {colour.lighter(130).name()};")
        layout.addWidget(self.title)
        layout.addStretch(1)
        self.fit_button = None
        if with_fit:
            self.fit_button = QToolButton(text="Fit")
            self.fit_button.setToolTip("Fit the slice to the view (F)")
            self.fit_button.setAutoRaise(True)
            self.fit_button.clicked.connect(self.fit_clicked)
            layout.addWidget(self.fit_button)
        self.maximise_button = QToolButton()
        self.maximise_button.setAutoRaise(True)
        self.maximise_button.clicked.connect(self.maximise_clicked)
        layout.addWidget(self.maximise_button)
        self.set_maximised(False)

    def set_maximised(self, maximised: bool) -> None:
        self.maximise_button.setText("❐" if maximised else "□")
        self.maximise_button.setToolTip("Restore the four views (double-click)" if maximised
                                        else "Maximise this view (double-click)")
