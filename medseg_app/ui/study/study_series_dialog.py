"""File ▸ Open study…: the image series of one patient found in a folder, each with a checkbox (open it) and a
radio button (draw the study on it: the reference, whose grid the segments live on; the CT by default, else the
first series). The checked series other than the reference join it as layers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QDialog, QDialogButtonBox, QLabel, QRadioButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

COLUMNS = ("Open", "Reference", "Modality", "Description", "Slices", "Size")


class StudySeriesDialog(QDialog):
    def __init__(self, series: list[dict], reference: int = 0, where: str = "", left_out: int = 0,
                 parent: QWidget | None = None):
        """``series``: scan summaries (``SeriesEntry.summary()``); ``reference``: the row picked by default."""
        super().__init__(parent)
        self.setWindowTitle("Open study")
        self.series = series
        self.table = QTableWidget(len(series), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.references = QButtonGroup(self)
        for row, s in enumerate(series):
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            check.setCheckState(Qt.CheckState.Checked)
            self.table.setItem(row, 0, check)
            radio = QRadioButton()
            radio.setToolTip("Draw the study on this series: the segments live on its grid.")
            self.references.addButton(radio, row)
            self.table.setCellWidget(row, 1, radio)
            size = "×".join(str(v) for v in s["size"]) if s.get("size") else "?"
            for column, value in enumerate((s["modality"], s["description"], str(s.get("slices", "")), size), 2):
                self.table.setItem(row, column, QTableWidgetItem(value))
        if series:
            self.references.button(reference).setChecked(True)
        self.references.idToggled.connect(self._reference_toggled)
        self.table.itemChanged.connect(self._check_changed)
        self.table.resizeColumnsToContents()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        others = f" ({left_out} series of other patients are not offered)" if left_out else ""
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{where} holds {len(series)} image series of one patient{others}. Open the "
                                f"checked ones; the other series are fused over the reference."))
        layout.addWidget(self.table)
        layout.addWidget(self.buttons)
        self.resize(720, 320)

    def checked_rows(self) -> list[int]:
        return [row for row in range(self.table.rowCount())
                if self.table.item(row, 0).checkState() == Qt.CheckState.Checked]

    def set_checked(self, row: int, checked: bool) -> None:
        self.table.item(row, 0).setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def reference_row(self) -> int:
        return self.references.checkedId()

    def set_reference(self, row: int) -> None:
        self.references.button(row).setChecked(True)

    def _reference_toggled(self, row: int, on: bool) -> None:
        if on:  # the reference is always opened
            self.set_checked(row, True)

    def _check_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        checked = self.checked_rows()
        if item.row() == self.reference_row() and item.checkState() != Qt.CheckState.Checked and checked:
            self.set_reference(checked[0])  # unchecking the reference hands the part to the first checked series
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(bool(checked))

    def selection(self) -> tuple[str, list[str]] | None:
        """(the reference's series key, the layers' keys in the order listed), or None when nothing is checked."""
        checked = self.checked_rows()
        if not checked:
            return None
        reference = self.reference_row() if self.reference_row() in checked else checked[0]
        return self.series[reference]["uid"], [self.series[r]["uid"] for r in checked if r != reference]
