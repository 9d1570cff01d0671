"""Mask volume options: inside / outside, the fill value ("auto": the source's lowest value), and the name of the
layer Apply will add to the study (the source layer masked by the active segment); the loaded images never change."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .tool_options_widget import ToolOptionsWidget


class MaskVolumeOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, parent)
        self.controller = controller
        self.editors["fill_value"].setToolTip("auto: the source image's lowest value (air on CT, 0 on PET)")
        self.result = QLabel("")
        self.result.setObjectName("mask_volume_result")
        self.result.setWordWrap(True)
        self.extra.addWidget(self.result)
        controller.tool_changed.connect(lambda _tool: self.update_result())
        controller.source_changed.connect(lambda _id: self.update_result())
        controller.state.subscribe_segments(lambda what, _sid, _box: what in ("active", "properties", "added",
                                                                              "removed") and self.update_result())
        self.update_result()

    def update_result(self) -> None:
        source, seg = self.controller.source(), self.controller.state.segmentation
        segment = seg.segments.get(seg.active_id) if seg is not None and seg.active_id is not None else None
        if source is None or segment is None:
            self.result.setText("Pick a segment: Apply adds the masked image as a new layer.")
            return
        self.result.setText(f"Apply adds the layer \"{source.name} masked by {segment.name}\" to the study; "
                            f"{source.name} itself is not changed.")
