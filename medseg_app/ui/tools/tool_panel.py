"""The tool panel (a dock): pick a tool, set its options, Preview / Apply / Cancel, and the editing options.

"Navigate" (no tool) leaves the left button to the crosshair. "Source layer" picks the study image the tools read. Each tool's options widget is generated from its
parameters (:class:`ToolOptionsWidget`) or, for threshold and region growing, a special widget built on it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QDockWidget, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QStackedWidget, QVBoxLayout, QWidget)

from .edit_options_widget import EditOptionsWidget
from .hollow_options_widget import HollowOptionsWidget
from .scissors_options_widget import ScissorsOptionsWidget
from .split_islands_options_widget import SplitIslandsOptionsWidget
from .source_layer_combo import SourceLayerCombo
from .tool_controller import ToolController
from .tool_options_widget import ToolOptionsWidget

NAVIGATE = "navigate"
HINTS = {
    "brush": "Drag in a slice view to paint; one stroke is one undo step.",
    "seeds": "Click seeds in a slice view (Shift+click when seed mode is off); the preview follows.",
    "click": "Click in a slice view to fill there.",
    "lasso": "Drag a closed outline in a slice view; it is filled on that slice.",
    "cut": "Drag a shape in a slice view; it cuts along the view's normal (one shape, one undo step).",
    "trace": "Move the mouse over a slice: the outline at the level under it is drawn; click to fill it.",
    "wire": "Click points along a boundary; the path follows the edges. Double-click, Enter or click the first "
            "point to close and fill; Backspace removes the last point, Esc drops the contour.",
    "live": "The preview follows the options; Apply writes it into the active segment.",
    "volume": "Preview computes the result for the active segment; Apply writes it.",
}

PLAIN_SPECIAL_OPTIONS = {"hollow": HollowOptionsWidget, "scissors": ScissorsOptionsWidget,
                         "split_islands": SplitIslandsOptionsWidget}


def special_options(tool, controller: ToolController, segment_choices) -> ToolOptionsWidget:
    """A tool's options widget: a special one where the tool needs it, else the generated form."""
    if tool.id == "threshold":
        from .threshold_options_widget import ThresholdOptionsWidget
        return ThresholdOptionsWidget(tool, controller)
    if tool.id == "active_contour":
        from .active_contour_options_widget import ActiveContourOptionsWidget
        return ActiveContourOptionsWidget(tool, controller)
    if tool.id in ("kmeans", "fuzzy_cmeans", "otsu_multi"):
        from .intensity_classes_options_widget import IntensityClassesOptionsWidget
        return IntensityClassesOptionsWidget(tool, controller, segment_choices)
    if tool.id in PLAIN_SPECIAL_OPTIONS:
        return PLAIN_SPECIAL_OPTIONS[tool.id](tool)
    if tool.id == "mask_volume":
        from .mask_volume_options_widget import MaskVolumeOptionsWidget
        return MaskVolumeOptionsWidget(tool, controller)
    if tool.id == "level_trace":
        from .level_tracing_options_widget import LevelTracingOptionsWidget
        return LevelTracingOptionsWidget(tool, controller)
    if tool.id == "live_wire":
        from .live_wire_options_widget import LiveWireOptionsWidget
        return LiveWireOptionsWidget(tool, controller)
    if tool.id == "graph_cut":
        from .graph_cut_options_widget import GraphCutOptionsWidget
        return GraphCutOptionsWidget(tool, controller)
    if tool.id == "grow_competitive":
        from .grow_from_seeds_options_widget import GrowFromSeedsOptionsWidget
        return GrowFromSeedsOptionsWidget(tool, controller)
    if controller.kind_of(tool) == "seeds":
        from .region_growing_options_widget import RegionGrowingOptionsWidget
        return RegionGrowingOptionsWidget(tool, controller)
    return ToolOptionsWidget(tool, segment_choices=segment_choices)


class ToolPanel(QDockWidget):
    def __init__(self, controller: ToolController, parent: QWidget | None = None):
        super().__init__("Tools", parent)
        self.setObjectName("tool_panel_dock")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        grid = QGridLayout()
        grid.setSpacing(2)
        self.buttons: dict[str, QPushButton] = {}
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        entries = [(NAVIGATE, "Navigate")] + [(t.id, t.title) for t in controller.tools.values()]
        for n, (tool_id, title) in enumerate(entries):
            button = QPushButton(title)
            button.setCheckable(True)
            button.setObjectName(f"tool_{tool_id}")
            button.clicked.connect(lambda _=False, t=tool_id: self.select(t))
            self.group.addButton(button)
            self.buttons[tool_id] = button
            grid.addWidget(button, n // 3, n % 3)
        self.buttons[NAVIGATE].setChecked(True)
        layout.addLayout(grid)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.source = SourceLayerCombo(controller)
        layout.addWidget(self.source)
        self.stack = QStackedWidget()
        self.stack.addWidget(QWidget())
        self.options: dict[str, ToolOptionsWidget] = {}
        layout.addWidget(self.stack, 1)
        actions = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.apply_button = QPushButton("Apply")
        self.cancel_button = QPushButton("Cancel")
        for button in (self.preview_button, self.apply_button, self.cancel_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.edit_options = EditOptionsWidget(controller.state)
        layout.addWidget(self.edit_options)
        self.setWidget(body)
        self.preview_button.clicked.connect(controller.request_preview)
        self.apply_button.clicked.connect(controller.apply)
        self.cancel_button.clicked.connect(controller.cancel)
        controller.source_changed.connect(lambda _id: self.edit_options.set_source(controller.source()))
        controller.tool_changed.connect(self._tool_changed)
        controller.preview_changed.connect(self._preview_changed)
        controller.state.subscribe_segments(self._segments_changed)
        self._tool_changed(controller.active)

    def select(self, tool_id: str) -> None:
        """Make ``tool_id`` the active tool ("navigate": none)."""
        self.controller.activate(None if tool_id == NAVIGATE else tool_id)

    def _segment_choices(self):
        seg = self.controller.state.segmentation
        return [(s.id, s.name) for s in seg.segments.values()] if seg is not None else []

    def options_widget(self, tool) -> ToolOptionsWidget:
        if tool.id not in self.options:
            widget = special_options(tool, self.controller, self._segment_choices)
            widget.changed.connect(self.controller.set_parameter)
            self.options[tool.id] = widget
            self.stack.addWidget(widget)
        return self.options[tool.id]

    def _tool_changed(self, tool) -> None:
        key = NAVIGATE if tool is None else tool.id
        if key in self.buttons and not self.buttons[key].isChecked():
            self.buttons[key].setChecked(True)
        kind = self.controller.kind
        if tool is None:
            self.stack.setCurrentIndex(0)
            self.hint.setText("Left click moves the crosshair. Pick a tool to edit the active segment.")
        else:
            self.stack.setCurrentWidget(self.options_widget(tool))
            self.hint.setText(HINTS.get(kind, ""))
        self.preview_button.setVisible(kind in ("seeds", "volume", "live"))
        self.apply_button.setVisible(kind in ("seeds", "volume", "live"))
        self.cancel_button.setVisible(tool is not None)
        self._preview_changed(self.controller.preview is not None)

    def _preview_changed(self, has_preview: bool) -> None:
        preview = self.controller.preview
        self.apply_button.setEnabled(has_preview or self.controller.kind in ("volume", "live"))
        if preview is not None:
            voxels = sum(int(region.sum()) for _sid, _box, region, _mode in preview.changes)
            details = ", ".join(f"{k} {v}" for k, v in preview.info.items() if not isinstance(v, (list, dict)))
            self.info.setText(f"Preview: {voxels} voxels" + (f" ({details})" if details else ""))
        else:
            self.info.setText("")

    def _segments_changed(self, what: str, segment_id: int, box) -> None:
        if what in ("added", "removed", "properties"):
            for widget in self.options.values():
                widget.refresh_segments()
