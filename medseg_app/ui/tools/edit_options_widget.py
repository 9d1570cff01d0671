"""Editing options shared by every tool (3D Slicer's masking): edit only within an intensity range, and what
happens to other segments where a tool adds voxels (overwrite none / visible / all). Bound to the current
``Segmentation.options``; a new study starts from the defaults (no range, overwrite none). The range is in the
units of the tools' source layer (:meth:`EditOptionsWidget.set_source`); choosing another source clears it, since
its numbers meant the other image's units."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QWidget

from ...core.segmentation import OVERWRITE_MODES
from ...core.viewer_state import ViewerState

OVERWRITE_LABELS = {"none": "none (segments may overlap)", "visible": "visible segments", "all": "all segments"}


class EditOptionsWidget(QGroupBox):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__("Editing options", parent)
        self.state = state
        self.source_volume = None  # the source layer's own Volume, None for the reference
        form = QFormLayout(self)
        self.range_enabled = QCheckBox("Edit only where the intensity is in")
        self.range_enabled.setObjectName("edit_range_enabled")
        self.lower = QDoubleSpinBox()
        self.upper = QDoubleSpinBox()
        for box in (self.lower, self.upper):
            box.setRange(-1e6, 1e6)
            box.setDecimals(1)
            box.setKeyboardTracking(False)
        row = QHBoxLayout()
        row.addWidget(self.lower)
        row.addWidget(self.upper)
        form.addRow(self.range_enabled)
        form.addRow("Range", row)
        self.overwrite = QComboBox()
        for mode in OVERWRITE_MODES:
            self.overwrite.addItem(OVERWRITE_LABELS[mode], mode)
        form.addRow("Overwrite", self.overwrite)
        self.range_enabled.toggled.connect(self._write)
        self.lower.valueChanged.connect(self._write)
        self.upper.valueChanged.connect(self._write)
        self.overwrite.currentIndexChanged.connect(self._write)
        state.subscribe(self._on_state)
        self.read()

    def set_source(self, layer) -> None:
        """The tools read ``layer`` (an ImageLayer; None or the reference: the reference image) from now on."""
        study = self.state.study
        reference = layer is None or study is None or layer is study.reference
        volume = None if reference else layer.volume
        if volume is self.source_volume:
            return
        self.source_volume = volume
        seg = self.state.segmentation
        if seg is not None:
            seg.options.intensity_range = None
        units = (volume or self.state.volume).units if (volume or self.state.volume) is not None else ""
        where = "intensity" if reference else f"{layer.modality or 'layer'} value"
        self.range_enabled.setText(f"Edit only where the {where}{f' ({units})' if units else ''} is in")
        self.read()

    def _on_state(self, what: str) -> None:
        if what in ("volume", "segmentation"):
            self.read()

    def read(self) -> None:
        """Show the current segmentation's options (the range defaults to the image's value range)."""
        seg, volume = self.state.segmentation, self.source_volume or self.state.volume
        self.setEnabled(seg is not None)
        if seg is None:
            return
        widgets = (self.range_enabled, self.lower, self.upper, self.overwrite)
        for widget in widgets:
            widget.blockSignals(True)
        options = seg.options
        if options.intensity_range is not None:
            lo, hi = options.intensity_range
        elif volume is not None:
            lo, hi = volume.value_range()  # computed once, by the loader
        else:
            lo, hi = 0.0, 0.0
        self.range_enabled.setChecked(options.intensity_range is not None)
        self.lower.setValue(lo)
        self.upper.setValue(hi)
        self.overwrite.setCurrentIndex(max(self.overwrite.findData(options.overwrite), 0))
        self.lower.setEnabled(self.range_enabled.isChecked())
        self.upper.setEnabled(self.range_enabled.isChecked())
        for widget in widgets:
            widget.blockSignals(False)

    def _write(self, *_args) -> None:
        seg = self.state.segmentation
        if seg is None:
            return
        on = self.range_enabled.isChecked()
        self.lower.setEnabled(on)
        self.upper.setEnabled(on)
        lo, hi = sorted((self.lower.value(), self.upper.value()))
        seg.options.intensity_range = (lo, hi) if on else None
        seg.options.overwrite = self.overwrite.currentData()
