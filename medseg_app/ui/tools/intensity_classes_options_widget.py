"""Options of the intensity-class tools (k-means, fuzzy c-means, Otsu multiple thresholds): the generated form,
then, once a preview came, the region's histogram with the thresholds between the classes and the classes found
(name = mean, voxel count); for fuzzy c-means, which class's membership Apply adds as a layer."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .intensity_histogram_widget import IntensityHistogramWidget
from .tool_options_widget import ToolOptionsWidget


class IntensityClassesOptionsWidget(ToolOptionsWidget):
    def __init__(self, tool, controller, segment_choices=None, parent: QWidget | None = None):
        super().__init__(tool, parent, segment_choices=segment_choices)
        self.controller = controller
        self.histogram = IntensityHistogramWidget()
        self.extra.addWidget(self.histogram)
        self.classes = QLabel("")
        self.classes.setObjectName("classes_found")
        self.classes.setWordWrap(True)
        self.extra.addWidget(self.classes)
        controller.preview_changed.connect(self._preview_changed)
        self._adopt_shown_segment()

    def refresh_segments(self) -> None:
        super().refresh_segments()
        self._adopt_shown_segment()

    def _adopt_shown_segment(self) -> None:
        """The mask segment the picker shows is the tool's (the picker shows the first one while none is set)."""
        picker = self.editors.get("within_segment_id")
        shown = picker.itemData(picker.currentIndex()) if picker is not None and picker.count() else None
        if shown is not None and self.tool.values.get("within_segment_id") not in [
                picker.itemData(n) for n in range(picker.count())]:
            self.tool.set(within_segment_id=shown)

    def _preview_changed(self, has_preview: bool) -> None:
        preview = self.controller.preview
        if not has_preview or preview is None or self.controller.active is not self.tool:
            return
        info = preview.info
        histogram = info.get("histogram")
        if histogram is None:
            return
        self.histogram.set_histogram(histogram["counts"], histogram["edges"], info.get("boundaries", ()),
                                     info.get("units", ""))
        lines = [f"{c['name']}: {c['voxels']} voxels" for c in info.get("classes", ())]
        if "selected" in info:
            lines.append(f"Clicked: {info['selected']}")
        if "reason" in info:
            lines.append(f"Nothing to apply: {info['reason']}")
        membership = info.get("membership")
        if membership is not None and self.tool.values.get("membership_layer"):
            lines.append(f"Apply adds the membership of {membership['name']} as a layer")
        self.classes.setText("\n".join(lines))
