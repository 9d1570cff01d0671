"""A read-only table of result rows (dicts): one row per dict, one column per known key, units in the headers.

The statistics, comparison and audit sections all show their numbers through it; each keeps the rows it was
given (``rows()``) so Copy / Export write exactly what the table shows, with full precision.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

# key -> (header, decimals); "{u}" in a header is the image's intensity units
STATISTICS_COLUMNS = {
    "label": ("Label", 0),
    "name": ("Segment", None),
    "voxels": ("Voxels", 0),
    "volume_ml": ("Volume (mL)", 3),
    "mesh_volume_ml": ("Mesh volume (mL)", 3),
    "surface_mm2": ("Surface (mm²)", 1),
    "mean": ("Mean{u}", 2),
    "std": ("SD{u}", 2),
    "min": ("Min{u}", 2),
    "max": ("Max{u}", 2),
    "median": ("Median{u}", 2),
    "suv_max": ("SUVmax (SUV)", 3),
    "suv_peak": ("SUVpeak (SUV)", 3),
    "max_diameter_mm": ("Max diameter (mm)", 1),
    "centroid_mm": ("Centroid LPS (mm)", 1),
    "bbox_index": ("Bounding box (i, j, k)", 0),
    "bbox_mm": ("Bounding box LPS (mm)", 1),
}
# an overlay's columns (core/layer_statistics.py): "{prefix}_{key}", shown as "PET SUVmax", "CT Mean (HU)", ...
LAYER_MEASURES = {
    "suv_max": ("SUVmax", 3),
    "suv_peak": ("SUVpeak", 3),
    "suv_mean": ("SUVmean", 3),
    "mtv_ml": ("MTV (mL)", 3),
    "tlg": ("TLG (SUV·mL)", 1),
    "mean": ("Mean{u}", 2),
    "std": ("SD{u}", 2),
    "min": ("Min{u}", 2),
    "max": ("Max{u}", 2),
    "median": ("Median{u}", 2),
}
LAYER_HIDDEN = ("units", "read_on")  # kept in the rows (exports), not shown as columns
AUDIT_COLUMNS = {
    "segment": ("Segment", None),
    "source": ("Proposal from", None),
    "added_ml": ("Added (mL)", 3),
    "removed_ml": ("Removed (mL)", 3),
    "dice": ("Dice vs proposal", 4),
    "hd95_mm": ("HD95 vs proposal (mm)", 2),
}
COMPARISON_MEASURES = {
    "segment": ("Segment", None),
    "reference": ("Reference", None),
    "dice": ("Dice", 4),
    "jaccard": ("Jaccard", 4),
    "hd_mm": ("Hausdorff distance (mm)", 2),
    "hd95_mm": ("HD95 (mm)", 2),
    "assd_mm": ("ASSD (mm)", 2),
    "volume_diff_ml": ("Volume difference (mL)", 3),
    "volume_diff_percent": ("Volume difference (%)", 1),
}


def format_value(value, decimals: int | None) -> str:
    """Numbers to the column's decimals, sequences as "(a, b, c)", missing / NaN as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v, decimals)}" for k, v in value.items())
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if not isinstance(items, (list, tuple)):
            return format_value(items, decimals)
        return "(" + ", ".join(format_value(v, decimals) for v in items) + ")"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if decimals is None:
        return f"{number:g}"
    if decimals == 0 and float(number).is_integer():
        return f"{int(number)}"
    return f"{number:.{decimals}f}"


def unit_suffix(units: str) -> str:
    return f" ({units})" if units else ""


def layer_measure(key: str) -> str | None:
    """The measure of an overlay column ("PET_suv_max" → "suv_max"), None for any other key."""
    prefix, _, measure = key.partition("_")
    if prefix and (measure in LAYER_MEASURES or measure in LAYER_HIDDEN):
        return measure
    return None


class ResultsTable(QTableWidget):
    """Rows of dicts shown under ``columns`` (key -> (header, decimals)); unknown keys get their own column."""

    def __init__(self, columns: dict, parent: QWidget | None = None):
        super().__init__(0, 0, parent)
        self.columns = dict(columns)
        self.units = ""
        self._rows: list[dict] = []
        self._keys: list[str] = []
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMinimumHeight(90)

    def keys_for(self, rows: list[dict]) -> list[str]:
        present = {key for row in rows for key in row}
        known = [key for key in self.columns if key in present]
        prefixes = list(dict.fromkeys(key.split("_", 1)[0] for row in rows for key in row
                                      if key not in self.columns and layer_measure(key) is not None))
        grouped = [f"{prefix}_{measure}" for prefix in prefixes for measure in list(LAYER_MEASURES) + list(
            LAYER_HIDDEN) if f"{prefix}_{measure}" in present]
        extra = sorted(present - set(self.columns) - set(grouped))
        return known + [key for key in grouped if layer_measure(key) in LAYER_MEASURES] + extra

    def _layer_units(self, prefix: str) -> str:
        return next((row[f"{prefix}_units"] for row in self._rows if row.get(f"{prefix}_units")), "")

    def header_for(self, key: str) -> str:
        measure = layer_measure(key) if key not in self.columns else None
        if measure in LAYER_MEASURES:
            prefix = key.split("_", 1)[0]
            return f"{prefix} " + LAYER_MEASURES[measure][0].replace("{u}", unit_suffix(self._layer_units(prefix)))
        header = self.columns.get(key, (key, 3))[0]
        return header.replace("{u}", unit_suffix(self.units))

    def decimals_for(self, key: str) -> int | None:
        measure = layer_measure(key) if key not in self.columns else None
        if measure in LAYER_MEASURES:
            return LAYER_MEASURES[measure][1]
        return self.columns.get(key, (key, 3))[1]

    def set_rows(self, rows: list[dict], units: str | None = None) -> None:
        if units is not None:
            self.units = units
        current = self.currentRow()
        self._rows = [dict(row) for row in rows]
        self._keys = self.keys_for(self._rows) if self._rows else [k for k in self.columns if k == "name"]
        self.setColumnCount(len(self._keys))
        self.setHorizontalHeaderLabels([self.header_for(key) for key in self._keys])
        self.setRowCount(len(self._rows))
        for r, row in enumerate(self._rows):
            for c, key in enumerate(self._keys):
                item = QTableWidgetItem(format_value(row.get(key), self.decimals_for(key)))
                if self.decimals_for(key) is not None and not isinstance(row.get(key), str):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        if 0 <= current < len(self._rows):  # the selection survives a recomputation
            self.setCurrentCell(current, 0)

    def rows(self) -> list[dict]:
        return [dict(row) for row in self._rows]

    def headers(self) -> list[str]:
        return [self.header_for(key) for key in self._keys]

    def keys(self) -> list[str]:
        return list(self._keys)

    def text(self, row: int, key: str) -> str:
        """The shown text of ``key`` in ``row`` (tests, copy)."""
        return self.item(row, self._keys.index(key)).text()


class MeasuresTable(QTableWidget):
    """One result row shown vertically: measure | value (fits a narrow dock)."""

    def __init__(self, measures: dict, parent: QWidget | None = None):
        super().__init__(0, 2, parent)
        self.measures = dict(measures)
        self.units = ""
        self._row: dict = {}
        self.setHorizontalHeaderLabels(["Measure", "Value"])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(90)

    def set_row(self, row: dict | None, units: str | None = None) -> None:
        if units is not None:
            self.units = units
        self._row = dict(row or {})
        keys = [k for k in self.measures if k in self._row] + sorted(set(self._row) - set(self.measures))
        keys = [k for k in keys if k in self.measures or layer_measure(k) not in LAYER_HIDDEN]
        self.setRowCount(len(keys))
        for r, key in enumerate(keys):
            header, decimals = self.measures.get(key, (key, 3))
            header = header.replace("{u}", unit_suffix(self.units))
            measure = layer_measure(key) if key not in self.measures else None
            if measure in LAYER_MEASURES:
                prefix = key.split("_", 1)[0]
                header, decimals = LAYER_MEASURES[measure]
                header = f"{prefix} " + header.replace("{u}", unit_suffix(self._row.get(f"{prefix}_units", "")))
            self.setItem(r, 0, QTableWidgetItem(header))
            value = QTableWidgetItem(format_value(self._row[key], decimals))
            value.setData(Qt.ItemDataRole.UserRole, key)
            self.setItem(r, 1, value)

    def rows(self) -> list[dict]:
        return [dict(self._row)] if self._row else []

    def value_text(self, key: str) -> str:
        for r in range(self.rowCount()):
            if self.item(r, 1).data(Qt.ItemDataRole.UserRole) == key:
                return self.item(r, 1).text()
        raise KeyError(key)
