"""The segment list (a dock): add, delete, rename in place, recolour, show / hide, lock, opacity, the active segment.

One row per segment: visibility, colour swatch (double-click: choose a colour), name (double-click: edit),
lock and source (manual, threshold, region growing, AI model, or the RTSTRUCT / SEG / label map it was read from;
its tooltip says more: the ROI and the file, or the model). The selected row is the active segment, the one
the tools edit. The list follows the segmentation (undo / redo, tool results, a new study) through its events.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QColorDialog, QDockWidget, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSlider, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...core.viewer_state import ViewerState

COLUMNS = ("", "", "Name", "Lock", "Source")
VISIBLE, COLOUR, NAME, LOCK, SOURCE = range(5)


def _swatch(colour) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class SegmentListPanel(QDockWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__("Segments", parent)
        self.setObjectName("segment_list_dock")
        self.state = state
        self.choose_colour = self._colour_dialog  # (QColor) -> QColor | None; replaceable in tests
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        for column in (VISIBLE, COLOUR, LOCK):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SOURCE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(130)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.delete_button = QPushButton("Delete")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(QLabel("Opacity"))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        opacity_row.addWidget(self.opacity, 1)
        self.opacity_label = QLabel("")
        self.opacity_label.setMinimumWidth(36)
        opacity_row.addWidget(self.opacity_label)
        layout.addLayout(opacity_row)
        self.setWidget(body)
        self.add_button.clicked.connect(self.add_segment)
        self.delete_button.clicked.connect(self.delete_active)
        self.opacity.valueChanged.connect(self._opacity_moved)
        self.table.itemChanged.connect(self._item_changed)
        self.table.currentCellChanged.connect(self._current_changed)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segments)
        self.refresh()

    # --- model -> view -----------------------------------------------------------------------
    @property
    def segmentation(self):
        return self.state.segmentation

    def segment_ids(self) -> list[int]:
        return list(self.segmentation.segments) if self.segmentation is not None else []

    def _on_state(self, what: str) -> None:
        if what in ("volume", "segmentation"):
            self.refresh()

    def _on_segments(self, what: str, segment_id: int, box) -> None:
        if what == "mask":  # only the source can change (a tool filled an empty segment)
            row = self.row_of(segment_id)
            segment = self.segmentation.segments.get(segment_id)
            item = self.table.item(row, SOURCE) if row is not None else None
            if item is not None and segment is not None and item.text() != segment.source:
                self.table.blockSignals(True)
                item.setText(segment.source)
                self.table.blockSignals(False)
            return
        if what == "properties" and self.row_of(segment_id) is not None:
            self._update_row(segment_id)  # in place: this may come from the row's own edit
            return
        if what == "active":
            row = self.row_of(segment_id)
            if row is not None and row != self.table.currentRow():
                self.table.blockSignals(True)
                self.table.setCurrentCell(row, NAME)
                self.table.blockSignals(False)
            self._sync_opacity()
            return
        self.refresh()

    def _update_row(self, segment_id: int) -> None:
        row, segment = self.row_of(segment_id), self.segmentation.segments[segment_id]
        check = {True: Qt.CheckState.Checked, False: Qt.CheckState.Unchecked}
        self.table.blockSignals(True)
        self.table.item(row, VISIBLE).setCheckState(check[segment.visible])
        self.table.item(row, COLOUR).setIcon(_swatch(segment.colour))
        if self.table.item(row, NAME).text() != segment.name:
            self.table.item(row, NAME).setText(segment.name)
        self.table.item(row, LOCK).setCheckState(check[segment.locked])
        self.table.item(row, SOURCE).setText(segment.source)
        self.table.item(row, SOURCE).setToolTip(segment.source_detail or segment.source)
        self.table.blockSignals(False)
        if segment_id == self.segmentation.active_id:
            self._sync_opacity()

    def row_of(self, segment_id: int) -> int | None:
        ids = self.segment_ids()
        return ids.index(segment_id) if segment_id in ids else None

    def refresh(self) -> None:
        seg = self.segmentation
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for row, segment in enumerate(seg.segments.values() if seg is not None else []):
            self.table.insertRow(row)
            visible = QTableWidgetItem()
            visible.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            visible.setCheckState(Qt.CheckState.Checked if segment.visible else Qt.CheckState.Unchecked)
            visible.setToolTip("Show / hide")
            colour = QTableWidgetItem("")
            colour.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            colour.setIcon(_swatch(segment.colour))
            colour.setToolTip("Double-click to choose a colour")
            name = QTableWidgetItem(segment.name)
            name.setData(Qt.ItemDataRole.UserRole, segment.id)
            lock = QTableWidgetItem()
            lock.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            lock.setCheckState(Qt.CheckState.Checked if segment.locked else Qt.CheckState.Unchecked)
            lock.setToolTip("Locked segments are never edited")
            source = QTableWidgetItem(segment.source)
            source.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            source.setToolTip(segment.source_detail or segment.source)
            for column, item in enumerate((visible, colour, name, lock, source)):
                self.table.setItem(row, column, item)
        active_row = self.row_of(seg.active_id) if seg is not None and seg.active_id is not None else None
        if active_row is not None:
            self.table.setCurrentCell(active_row, NAME)
        self.table.blockSignals(False)
        self._sync_opacity()
        has = active_row is not None
        self.delete_button.setEnabled(has)
        self.opacity.setEnabled(has)
        self.add_button.setEnabled(seg is not None)

    def _sync_opacity(self) -> None:
        segment = self.active_segment()
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(100 * segment.opacity) if segment else 0)
        self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{round(100 * segment.opacity)} %" if segment else "")

    def active_segment(self):
        seg = self.segmentation
        return seg.segments.get(seg.active_id) if seg is not None and seg.active_id is not None else None

    # --- view -> model -----------------------------------------------------------------------
    def add_segment(self) -> None:
        if self.segmentation is None:
            return
        segment = self.segmentation.add_segment()
        self.segmentation.set_active(segment.id)

    def delete_active(self) -> None:
        segment = self.active_segment()
        if segment is not None:
            self.segmentation.remove_segment(segment.id)

    def _id_at(self, row: int) -> int | None:
        ids = self.segment_ids()
        return ids[row] if 0 <= row < len(ids) else None

    def _item_changed(self, item: QTableWidgetItem) -> None:
        segment_id = self._id_at(item.row())
        if segment_id is None:
            return
        checked = item.checkState() == Qt.CheckState.Checked
        if item.column() == VISIBLE:
            self.segmentation.set_properties(segment_id, visible=checked)
        elif item.column() == LOCK:
            self.segmentation.set_properties(segment_id, locked=checked)
        elif item.column() == NAME:
            name = item.text().strip()
            if name:
                self.segmentation.set_properties(segment_id, name=name)
            else:  # an empty name is refused: put the old one back once the editor has closed
                QTimer.singleShot(0, lambda: self._update_row(segment_id))

    def _current_changed(self, row: int, column: int, previous_row: int, previous_column: int) -> None:
        segment_id = self._id_at(row)
        if segment_id is not None and segment_id != self.segmentation.active_id:
            self.segmentation.set_active(segment_id)

    def _double_clicked(self, row: int, column: int) -> None:
        segment_id = self._id_at(row)
        if column != COLOUR or segment_id is None:
            return
        chosen = self.choose_colour(QColor(*self.segmentation.segments[segment_id].colour))
        if chosen is not None and chosen.isValid():
            self.segmentation.set_properties(segment_id, colour=(chosen.red(), chosen.green(), chosen.blue()))

    def _colour_dialog(self, initial: QColor) -> QColor | None:
        colour = QColorDialog.getColor(initial, self, "Segment colour")
        return colour if colour.isValid() else None

    def _opacity_moved(self, value: int) -> None:
        segment = self.active_segment()
        if segment is not None:
            self.segmentation.set_properties(segment.id, opacity=value / 100.0)
