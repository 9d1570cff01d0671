"""Opening the viewer (window, slice views, 3-D view, the sample study) never imports torch or MONAI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_RUN_APP = """
import atexit, json, runpy, sys
roots = ("torch", "monai", "PySide6", "vtkmodules")
atexit.register(lambda: print("MODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(roots)))))
sys.argv = ["medseg"]
runpy.run_module("medseg_app", run_name="__main__")
"""


def test_app_start_path_does_not_import_torch_or_monai():
    env = {**os.environ, "MEDSEG_EXIT_AFTER_FIRST_FRAME": "1", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", _RUN_APP], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "first frame" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("MODULES "))
    loaded = set(json.loads(line.split(" ", 1)[1]))
    assert {"PySide6", "vtkmodules"} <= loaded, f"the GUI and 3-D view did not start: {loaded}"
    assert not loaded & {"torch", "monai"}, f"imported at start-up: {sorted(loaded & {'torch', 'monai'})}"
