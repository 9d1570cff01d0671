"""Statistics rows to CSV, JSON and tab-separated text (the clipboard's copy-as-table).

A list value is spread over columns named by position: ``centroid_mm`` → ``centroid_mm_x/_y/_z``; a nested list
such as ``bbox_index`` → ``bbox_index_0_x`` … ``bbox_index_1_z``. None becomes an empty cell.

The rows hold numbers and the names of segments (and, for a comparison, of a reference mask's file); no patient,
study or series field. With ``anonymise=True`` (files meant to leave the hospital; :func:`anonymised_rows`) every
text cell loses any patient identifier and a file name in it becomes ``reference_file``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..core.privacy import anonymised_name, get_logger

_AXES = ("x", "y", "z")
_log = get_logger("export")


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


_FILE_NAME = re.compile(r"[^\s:/\\]*\.(?:nii(?:\.gz)?|nrrd|nhdr|mha|mhd|dcm)\b", re.IGNORECASE)


def _anonymised_cell(value, n: int):
    if not isinstance(value, str):
        return value
    return anonymised_name(_FILE_NAME.sub("reference_file", value), f"Structure_{n}")


def anonymised_rows(rows: list[dict]) -> list[dict]:
    """``rows`` with patient identifiers taken out of every text cell (and file names replaced)."""
    return [{key: _anonymised_cell(value, n) for key, value in row.items()} for n, row in enumerate(rows, start=1)]


def write_csv(rows: list[dict], path: str | Path, anonymise: bool = False) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        _write_delimited(anonymised_rows(rows) if anonymise else rows, stream, ",")
    _log.info("statistics written: %s (CSV, %d row(s)%s)", path, len(rows), ", anonymised" if anonymise else "")


def write_json(rows: list[dict], path: str | Path, anonymise: bool = False) -> None:
    Path(path).write_text(json.dumps(anonymised_rows(rows) if anonymise else rows, indent=2, allow_nan=False),
                          encoding="utf-8")
    _log.info("statistics written: %s (JSON, %d row(s)%s)", path, len(rows), ", anonymised" if anonymise else "")


def rows_as_tsv(rows: list[dict]) -> str:
    """Tab-separated text with a header line, as spreadsheets paste it."""
    stream = io.StringIO()
    _write_delimited(rows, stream, "\t")
    return stream.getvalue()
