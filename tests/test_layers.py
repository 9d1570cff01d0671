"""Layers import one way (cli > ui > render > io | tools | ai > core); core stays free of Qt, VTK and torch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True)


def test_import_contracts_hold():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_import_contracts_catch_a_violation(tmp_path):
    """The check itself must be able to fail: a core module importing Qt, and core importing ui."""
    shutil.copytree(REPO / "medseg_app", tmp_path / "medseg_app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "medseg_app" / "core" / "bad.py").write_text("import PySide6\nfrom medseg_app import ui\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "medseg_app.core.bad" in result.stdout


def test_loading_and_cli_import_no_gui_or_ai_stack():
    """Heavy packages stay out of the CLI and loaders (start-up speed; torch and MONAI load lazily)."""
    code = (
        "import sys, medseg_app.cli, medseg_app.io, medseg_app.core.volume\n"
        "heavy = [m for m in ('torch', 'monai', 'PySide6', 'vtk', 'vtkmodules') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
