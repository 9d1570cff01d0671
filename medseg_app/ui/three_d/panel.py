"""The 3-D view (or the note that stands in for it) under a title bar with the maximise button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..viewer.view_title_bar import ViewTitleBar


class ThreeDPanel(QWidget):
    maximise_toggled = Signal()

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.content = content
        self.title_bar = ViewTitleBar("3d", with_fit=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title_bar)
        layout.addWidget(content, 1)
        self.title_bar.maximise_clicked.connect(self.maximise_toggled)
        self.volume_button = None
        self.layer_combo = None
        if hasattr(content, "set_volume_rendering"):  # the real ThreeDView, not the 'unavailable' note
            from .volume_rendering_button import VolumeRenderingButton

            self.volume_button = VolumeRenderingButton(content.volume_rendering_presets())
            self.volume_button.preset_chosen.connect(content.set_volume_rendering)
            bar = self.title_bar.layout()
            bar.insertWidget(bar.indexOf(self.title_bar.maximise_button), self.volume_button)
            # which of the study's layers the volume rendering shows (shown when there is more than one)
            from .volume_layer_combo import VolumeLayerCombo

            self.layer_combo = VolumeLayerCombo(content.state)
            self.layer_combo.layer_chosen.connect(content.set_volume_rendering_layer)
            bar.insertWidget(bar.indexOf(self.volume_button), self.layer_combo)

    def set_maximised(self, maximised: bool) -> None:
        self.title_bar.set_maximised(maximised)
