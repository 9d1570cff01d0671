"""Statistics rows to CSV, JSON and tab-separated text (the clipboard's copy-as-table).

A list value is spread over columns named by position: ``centroid_mm`` → ``centroid_mm_x/_y/_z``; a nested list
such as ``bbox_index`` → ``bbox_index_0_x`` … ``bbox_index_1_z``. None becomes an empty cell.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

_AXES = ("x", "y", "z")


def _flatten(key: str, value, out: dict) -> None:
    if isinstance(value, (list, tuple)):
        names = _AXES if len(value) == 3 and not any(isinstance(v, (list, tuple)) for v in value) else None
        for position, item in enumerate(value):
            _flatten(f"{key}_{names[position] if names else position}", item, out)
    else:
        out[key] = value


def flat_row(row: dict) -> dict:
    out: dict = {}
    for key, value in row.items():
        _flatten(key, value, out)
    return out


def _columns(flat_rows: list[dict]) -> list[str]:
    columns: dict[str, None] = {}
    for row in flat_rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _write_delimited(rows: list[dict], stream, delimiter: str) -> None:
    flat = [flat_row(r) for r in rows]
    columns = _columns(flat)
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in flat:
        writer.writerow([_cell(row.get(c)) for c in columns])


def write_csv(rows: list[dict], path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        _write_delimited(rows, stream, ",")


def write_json(rows: list[dict], path: str | Path) -> None:
    Path(path).write_text(json.dumps(rows, indent=2, allow_nan=False), encoding="utf-8")


def rows_as_tsv(rows: list[dict]) -> str:
    """Tab-separated text with a header line, as spreadsheets paste it."""
    stream = io.StringIO()
    _write_delimited(rows, stream, "\t")
    return stream.getvalue()
