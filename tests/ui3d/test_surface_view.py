"""The 3-D view shows each segment's surface, rebuilds only what was edited (in the background, stale results
dropped), restyles without rebuilding, drops removed segments, and renders the image with each volume preset.

The widgets run in a subprocess (surface_probe.py) in a real X window, as test_three_d_view.py does.
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


@pytest.fixture(scope="module")
def probe(x_display, tmp_path_factory):
    out = tmp_path_factory.mktemp("surfaces_xcb")
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run([sys.executable, str(HERE / "surface_probe.py"), str(out)], env=env,
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), out


def test_only_the_edited_segment_is_rebuilt_once_per_stroke(probe):
    r = probe[0]["incremental"]
    a, b = str(r["a"]), str(r["b"])
    assert r["after_add"] == {a: 1, b: 1}
    assert r["after_stroke"] == {a: 2, b: 1}, "six dabs of one stroke must cost one rebuild of that segment only"
    assert r["a_triangles"][0] == r["a_triangles"][1], "the shown surface is not the edited mask's"


def test_restyling_does_not_rebuild_and_hidden_segments_wait(probe):
    r = probe[0]["incremental"]
    assert r["after_style"] == r["after_stroke"]
    colour, opacity, visible = r["b_style"]
    assert colour == [0.0, 1.0, 0.0] and opacity == pytest.approx(0.4) and visible == 0
    assert r["hidden_edit_builds"] == 1, "a hidden segment's edit is built when it is shown, not before"
    assert r["shown_builds"] == 2


def test_a_result_overtaken_by_a_newer_edit_is_dropped(probe):
    shown, expected = probe[0]["incremental"]["a_latest"]
    assert shown == expected


def test_removal_drops_the_actor_and_undo_brings_it_back(probe):
    r = probe[0]["incremental"]
    assert r["after_remove"] == {"actors": [r["a"]], "in_renderer": False}
    assert r["after_undo"] == [r["a"], r["b"]]
    assert r["after_new_segmentation"] == []


def test_the_sample_gtv_appears_as_a_red_surface_with_the_planes(probe):
    r, out = probe
    s = r["sample"]
    assert s["actors"] == [s["gtv"]]
    red, green, blue = s["colour"]
    assert red > 0.8 and green < 0.3 and blue < 0.3
    assert s["red_with_planes"] > 0.005 and s["red_alone"] > 0.02, "the GTV surface is not drawn"
    assert (out / "sample_gtv.png").stat().st_size > 1000


@pytest.mark.parametrize("preset", ["ct_bone", "ct_soft_tissue", "pet_mip"])
def test_volume_rendering_presets_draw_something(probe, preset):
    s = probe[0]["sample"]
    v = s["volume"][preset]
    assert v["changed"] > 0.03 and v["std"] > 10, f"{preset}: the volume rendering is blank: {v}"
    if preset == "pet_mip":
        assert v["blend"] == 1  # vtkVolumeMapper.MAXIMUM_INTENSITY_BLEND
    assert s["volume_off_changed"] < 0.001, "turning volume rendering off must restore the view"
