"""`medseg PATH --layer PATH2 --screenshot OUT.png` opens the study with its layers before the screenshot is taken;
a layer of another patient is refused in one sentence unless `--allow-other-patient` (run under Xvfb)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pydicom

from conftest import SAMPLE, require_tool

MEDSEG = [sys.executable, "-m", "medseg_app"]
CT = SAMPLE / "CT" / "dicom" / "image"
PET = SAMPLE / "PET" / "dicom" / "image"
# Runs once the study has loaded (ui.app's MEDSEG_TEST_SCRIPT hook): records what the screenshot shows.
RECORD_LAYERS = """
import json, os
study = window.state.study
with open(os.environ["LAYERS_OUT"], "w") as out:
    json.dump([[l.modality, l.registered, list(l.volume.size)] for l in study.layers], out)
"""


def _medseg(tmp_path, *args) -> tuple[subprocess.CompletedProcess, list | None]:
    xvfb = require_tool("xvfb-run")
    script, record = tmp_path / "record_layers.py", tmp_path / "layers.json"
    script.write_text(RECORD_LAYERS)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(MEDSEG_TEST_SCRIPT=str(script), LAYERS_OUT=str(record), MEDSEG_RECOVERY_DIR=str(tmp_path / "rec"))
    result = subprocess.run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", *MEDSEG, *map(str, args)],
                            capture_output=True, text=True, timeout=240, env=env)
    return result, json.loads(record.read_text()) if record.exists() else None


def test_layer_on_the_command_line_is_loaded_before_the_screenshot(tmp_path):
    from PIL import Image

    out = tmp_path / "fused.png"
    result, layers = _medseg(tmp_path, CT, "--layer", PET, "--screenshot", out)
    assert result.returncode == 0, result.stderr
    assert layers == [["CT", True, [198, 202, 59]], ["PT", True, [41, 43, 59]]]
    shot = np.asarray(Image.open(out).convert("RGB"))
    assert shot.shape[:2] == (920, 1500) and shot.std() > 10


def test_another_patients_layer_is_refused_unless_allowed(tmp_path):
    other = tmp_path / "other_pet"
    other.mkdir()
    for path in sorted(PET.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PatientID = "SOMEONE-ELSE-42"
        ds.save_as(other / path.name)
    out = tmp_path / "refused.png"
    result, _ = _medseg(tmp_path, CT, "--layer", other, "--screenshot", out)
    assert result.returncode == 2 and not out.exists()
    [sentence] = [line for line in result.stderr.splitlines() if "another patient" in line]
    assert "--allow-other-patient" in sentence and sentence.count(". ") == 0
    allowed = tmp_path / "allowed.png"
    result, layers = _medseg(tmp_path, CT, "--layer", other, "--allow-other-patient", "--screenshot", allowed)
    assert result.returncode == 0, result.stderr
    assert [modality for modality, _, _ in layers] == ["CT", "PT"] and allowed.exists()
