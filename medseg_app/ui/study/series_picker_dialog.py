"""Asks which series to open when a DICOM folder holds several: modality, description, slices, size."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

COLUMNS = ("Modality", "Description", "Slices", "Size", "Series UID")


class SeriesPickerDialog(QDialog):
    def __init__(self, series: list[dict], where: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Choose a series")
        self.series = series
        self.table = QTableWidget(len(series), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        for row, s in enumerate(series):
            size = "×".join(str(v) for v in s["size"]) if s.get("size") else "?"
            values = (s["modality"], s["description"], str(s.get("slices", "")), size, s["uid"])
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.selectRow(0)
        self.table.doubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{where} holds {len(series)} image series; open which one?"))
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(720, 320)

    def selected_uid(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.series[rows[0].row()]["uid"] if rows else None
