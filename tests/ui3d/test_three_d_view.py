"""ThreeDView draws the three slice planes, follows the crosshair, and puts voxels where they are in the patient.

The widget runs in a subprocess (view_probe.py) so that an X / OpenGL failure cannot take the test run down,
once in a real X window (xcb, on Xvfb when there is no display) and once on Qt's offscreen platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _probe(out: Path, env: dict) -> dict:
    result = subprocess.run([sys.executable, str(HERE / "view_probe.py"), str(out)], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def xcb(x_display, tmp_path_factory):
    out = tmp_path_factory.mktemp("three_d_xcb")
    return _probe(out, {"DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}), out


@pytest.fixture(scope="module")
def offscreen(tmp_path_factory):
    out = tmp_path_factory.mktemp("three_d_offscreen")
    return _probe(out, {"QT_QPA_PLATFORM": "offscreen"}), out


def _check_views(results: dict) -> None:
    for name in ("sample_ct", "t2s"):
        r = results[name]
        assert r["shape"] == [520, 640, 3] and r["dtype"] == "uint8"
        assert r["front_std"] > 20 and r["front_lit"] > 0.05, f"{name}: the rendering is blank"
        share = r["plane_share_when_hidden"]
        assert all(s > 0.005 for s in share), f"{name}: a plane is not visible (pixels it covers: {share})"
        assert r["crosshair_changed"] > 0.005, f"{name}: moving the crosshair did not change the rendering"
    blob = results["blob"]
    assert min(blob["value"]) > 200, f"the bright voxels are not drawn where they lie in the patient: {blob}"
    assert max(blob["mirrored_value"]) < 120, f"the slice texture is mirrored: {blob}"


def test_three_d_view_in_an_x_window(xcb):
    results, out = xcb
    assert results["platform"] == "xcb"
    _check_views(results)
    assert (out / "sample_ct_anterior.png").stat().st_size > 1000


def test_three_d_view_on_the_offscreen_platform(offscreen):
    results, _ = offscreen
    assert results["platform"] == "offscreen"
    _check_views(results)
