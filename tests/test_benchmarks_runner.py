"""benchmarks/run.py: a benchmark whose data is absent is skipped with a reason, and the run still succeeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import run  # noqa: E402
from benchmarks.registry import REGISTRY  # noqa: E402


def test_missing_data_is_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "DATA", tmp_path / "no-such-data")
    assert run.main(["--json", "load_dicom_ct", "load_dicom_ct_134"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in lines] == ["load_dicom_ct", "load_dicom_ct_134"]
    assert all("not found" in r["skipped"] for r in lines)


def test_all_benchmarks_are_listed(capsys):
    assert run.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert {"load_dicom_ct", "load_dicom_ct_134"} <= set(REGISTRY)
    assert all(name in out for name in REGISTRY)
