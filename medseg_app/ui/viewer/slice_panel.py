"""A slice view with its title bar (name, fit, maximise) and the slider that picks its slice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSlider, QVBoxLayout, QWidget

from ...core.viewer_state import ViewerState
from .slice_view import SliceView
from .view_title_bar import ViewTitleBar


class SlicePanel(QWidget):
    maximise_toggled = Signal()

    def __init__(self, state: ViewerState, view: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.view_name = view
        self.title_bar = ViewTitleBar(view)
        self.view = SliceView(state, view)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)
        self.title_bar.maximise_clicked.connect(self.maximise_toggled)
        self.title_bar.fit_clicked.connect(self.view.fit)
        self.view.maximise_toggled.connect(self.maximise_toggled)
        self.slider.valueChanged.connect(self._slider_moved)
        state.subscribe(self._on_state)
        self._sync_slider()

    def _slider_moved(self, value: int) -> None:
        self.state.set_slice(self.view_name, value)

    def _sync_slider(self) -> None:
        has_volume = self.state.volume is not None
        self.slider.setEnabled(has_volume)
        if not has_volume:
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, self.state.slice_count(self.view_name) - 1)
        self.slider.setValue(self.state.slice_index(self.view_name))
        self.slider.blockSignals(False)

    def _on_state(self, what: str) -> None:
        if what in ("volume", "crosshair"):
            self._sync_slider()

    def set_maximised(self, maximised: bool) -> None:
        self.title_bar.set_maximised(maximised)
