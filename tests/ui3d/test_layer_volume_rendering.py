"""The 3-D view renders any layer of the study: the sample's PET over its CT is placed where it lies in the CT's
patient space, follows the layer's transform, and the view falls back to the CT when the layer is removed.

The widgets run in a subprocess (layer_volume_probe.py) in a real X window, as test_three_d_view.py does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@pytest.fixture(scope="module")
def probe(x_display, tmp_path_factory):
    out = tmp_path_factory.mktemp("layer_volume_xcb")
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run([sys.executable, str(HERE / "layer_volume_probe.py"), str(out)], env=env,
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_the_layer_combo_lists_the_study_and_shows_only_with_layers(probe):
    assert not probe["combo_visible_alone"] and probe["combo_visible"]
    assert len(probe["combo_items"]) == 2 and probe["combo_items"][1].startswith("PT")


def test_the_pet_layer_is_rendered_where_it_lies_in_patient_space(probe):
    pet = probe["pet"]
    assert pet["is_pet"] and pet["changed"] > 0.01 and pet["std"] > 5, f"the PET MIP is blank: {pet}"
    np.testing.assert_allclose(pet["bounds"], pet["expected"], atol=1e-3)


def test_the_rendering_follows_the_layers_transform(probe):
    # reference → layer adds 30 mm in x, so the layer's voxels lie 30 mm to -x in the reference's space
    shifted = np.asarray(probe["pet"]["expected"]) - np.array([30, 30, 0, 0, 0, 0])
    np.testing.assert_allclose(probe["moved"]["bounds"], shifted, atol=1e-3)
    assert probe["moved"]["changed"] > 0.005


def test_a_removed_layer_gives_the_rendering_back_to_the_reference(probe):
    after = probe["after_removal"]
    assert after["is_ct"] and not after["combo_visible"]
    np.testing.assert_allclose(after["bounds"], after["expected"], atol=1e-3)
