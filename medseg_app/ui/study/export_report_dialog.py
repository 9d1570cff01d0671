"""What an export wrote and, for RTSTRUCT and SEG, how the file read back: per structure Dice, volume change and
centroid shift with PASS / FAIL (core/export_verification.py). A failure is shown in red with its reason."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

COLUMNS = ["Structure", "Volume (mL)", "Dice", "Volume change (%)", "Centroid shift (mm)", "Result"]
FAIL_COLOUR = QColor(192, 40, 30)
PASS_COLOUR = QColor(30, 130, 60)


def row_cells(row: dict) -> list[str]:
    change, shift = row["volume_change_percent"], row["centroid_shift_mm"]
    return [row["name"], f"{row['volume_ml']:.2f}", f"{row['dice']:.4f}",
            "–" if change is None else f"{change:+.2f}", "–" if shift is None else f"{shift:.2f}",
            "PASS" if row["passed"] else f"FAIL: {row['reason']}"]


class ExportReportDialog(QDialog):
    def __init__(self, files: list[str], rows: list[dict] | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.rows = rows or []
        written = "Wrote " + ", ".join(files) + "."
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        failed = [r for r in self.rows if not r["passed"]]
        if rows is None:
            self.summary.setText(written)
        elif failed:
            self.summary.setText(f"{written}\nVerification FAILED for {failed[0]['name']!r} ({failed[0]['reason']}): "
                                 "the file was written but does not match the structures.")
            self.summary.setStyleSheet(f"color: {FAIL_COLOUR.name()}; font-weight: bold;")
        else:
            self.summary.setText(f"{written}\nRead back and verified: every structure passed.")
            self.summary.setStyleSheet(f"color: {PASS_COLOUR.name()};")
        self.table = QTableWidget(len(self.rows), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row_cells(row)):
                item = QTableWidgetItem(text)
                if c == len(COLUMNS) - 1:
                    item.setForeground(PASS_COLOUR if row["passed"] else FAIL_COLOUR)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setVisible(rows is not None)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(720, 160 + 30 * len(self.rows))

    def cell(self, row: int, column: int) -> str:
        return self.table.item(row, column).text()
