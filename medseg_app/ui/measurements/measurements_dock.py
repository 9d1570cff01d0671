"""The Measurements dock: the Ruler and Ellipse modes, RECIST diameters, and the table of measurements.

Each row is one ruler (its length in mm) or ellipse ROI (mean ± SD, min / max of the source layer's values inside
it, in the source's units, and its area in mm²); the name is edited in place, a double-click shows its slice,
Delete removes the selected rows. The source layer is the tools' (``context()``, an EditContext): its values on
the reference grid are read only once its resample is made (``source_ready``); until then the row says so.
"RECIST diameters" measures the active segment on the current slice of the view last used (the longest in-plane
diameter and the longest perpendicular to it, core.recist) and adds them as two rulers, replacing that
segment's earlier pair on that slice.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...core.measurements import Ruler, ellipse_statistics, on_slice
from ...core.recist import sparse_segment_recist
from .measurement_interaction import MeasurementInteraction

COLUMNS = ("Name", "Measure", "Slice")


def ellipse_text(stats: dict, units: str) -> str:
    if stats["pixels"] == 0:
        return "no pixel inside"
    if np.isnan(stats["mean"]):
        return f"no value (outside the source), {stats['area_mm2']:.1f} mm²"
    unit = f" {units}" if units else ""
    text = (f"mean {stats['mean']:.1f} ± {stats['sd']:.1f}{unit}, min {stats['min']:.1f}, max {stats['max']:.1f}, "
            f"{stats['area_mm2']:.1f} mm²")
    return text + (f" ({stats['no_value']} px without a value)" if stats["no_value"] else "")


class MeasurementsDock(QDockWidget):
    message = Signal(str)

    def __init__(self, state, interaction: MeasurementInteraction, context, parent: QWidget | None = None):
        super().__init__("Measurements", parent)
        self.setObjectName("measurements_dock")
        self.state = state
        self.interaction = interaction
        self.context = context  # () -> EditContext: the tools' source layer
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        modes = QHBoxLayout()
        self.ruler_button = QPushButton("Ruler")
        self.ellipse_button = QPushButton("Ellipse / circle")
        for button, mode in ((self.ruler_button, "ruler"), (self.ellipse_button, "ellipse")):
            button.setCheckable(True)
            button.setToolTip("Drag on a slice view" + (" (Shift: a circle)" if mode == "ellipse" else ""))
            button.clicked.connect(lambda on, m=mode: interaction.set_mode(m if on else None))
            modes.addWidget(button)
        self.recist_button = QPushButton("RECIST diameters")
        self.recist_button.setToolTip("The active segment's longest diameter and its perpendicular on this slice")
        self.recist_button.clicked.connect(self.measure_recist)
        modes.addWidget(self.recist_button)
        layout.addLayout(modes)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.itemChanged.connect(self._renamed)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.show_slice(row))
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = QPushButton("Delete all")
        self.clear_button.clicked.connect(state.measurements.clear)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.ids: list[int] = []
        interaction.mode_changed.connect(self._mode_changed)
        state.measurements.subscribe(lambda *_: self.refresh())
        self.refresh()

    def _mode_changed(self, mode) -> None:
        self.ruler_button.setChecked(mode == "ruler")
        self.ellipse_button.setChecked(mode == "ellipse")

    # --- the table -----------------------------------------------------------------------------
    def measure_text(self, item) -> str:
        if isinstance(item, Ruler):
            return f"{item.length_mm:.1f} mm"
        context = self.context()
        if context is None or context.volume is None:
            return ""
        if not context.source_ready:
            return f"{context.source_name} is being resampled onto the reference grid"
        return ellipse_text(ellipse_statistics(context.image, self.state.volume.geometry, item), context.units)

    def where(self, item) -> tuple[str, int] | None:
        """The first view (axial, coronal, sagittal) with a slice holding all the item's points, and that slice."""
        volume = self.state.volume
        if volume is None:
            return None
        for view in ("axial", "coronal", "sagittal"):
            axis = self.state.axes[view].slice_axis
            index = int(np.rint(volume.geometry.patient_to_index(item.points[0])[axis]))
            if on_slice(volume.geometry, item.points, axis, index):
                return view, index
        return None

    def refresh(self) -> None:
        items = list(self.state.measurements.items.values())
        self.ids = [item.id for item in items]
        self.table.blockSignals(True)
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            name = QTableWidgetItem(item.name)
            measure = QTableWidgetItem(self.measure_text(item))
            measure.setToolTip(measure.text())
            where = self.where(item)
            place = QTableWidgetItem(f"{where[0]} {where[1] + 1}" if where else "")
            for column, cell in enumerate((name, measure, place)):
                if column:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
        self.table.blockSignals(False)
        self.delete_button.setEnabled(bool(items))
        self.clear_button.setEnabled(bool(items))

    def _renamed(self, cell: QTableWidgetItem) -> None:
        if cell.column() == 0 and cell.row() < len(self.ids) and cell.text().strip():
            self.state.measurements.rename(self.ids[cell.row()], cell.text().strip())

    def delete_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        for measurement_id in [self.ids[row] for row in rows if row < len(self.ids)]:
            self.state.measurements.remove(measurement_id)

    def show_slice(self, row: int) -> None:
        item = self.state.measurements.items.get(self.ids[row]) if row < len(self.ids) else None
        where = self.where(item) if item is not None else None
        if where is not None:
            self.state.set_slice(*where)

    # --- RECIST --------------------------------------------------------------------------------
    def measure_recist(self) -> bool:
        """Add the active segment's RECIST diameters on the last used view's slice; False (and why) if none."""
        state = self.state
        seg, view = state.segmentation, self.interaction.last_view
        if state.volume is None or seg is None or seg.active_id is None or view is None:
            self.message.emit("RECIST diameters: pick a segment first.")
            return False
        segment = seg.segments[seg.active_id]
        index = state.slice_index(view.view)
        found = sparse_segment_recist(segment.mask, state.volume.geometry, view.axes.slice_axis, index)
        if found is None:
            self.message.emit(f"RECIST diameters: {segment.name} has no pixel on {view.view} slice {index + 1}.")
            return False
        geometry = state.volume.geometry
        names = (f"{segment.name} long axis ({view.view} {index + 1})",
                 f"{segment.name} short axis ({view.view} {index + 1})")
        for measurement_id, item in list(state.measurements.items.items()):
            if item.name in names:
                state.measurements.remove(measurement_id)
        for name, diameter in zip(names, (found.longest, found.perpendicular)):
            if diameter is not None:
                state.measurements.add_ruler(geometry.index_to_patient(diameter.start),
                                             geometry.index_to_patient(diameter.end), name)
        short = f" × {found.perpendicular.length_mm:.1f}" if found.perpendicular is not None else ""
        self.message.emit(f"RECIST diameters of {segment.name}: {found.longest.length_mm:.1f}{short} mm.")
        return True
