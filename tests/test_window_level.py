"""Window / level mapping, colour maps and the two-look-up overlay blend."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.window_level import (CT_PRESETS, WindowLevel, auto_window, blend_table, colour_table,
                                          default_window, presets_for, render_rgba, to_grey8)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.float32])
def test_grey8_matches_the_window_formula(dtype):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    lo, hi = (max(info.min, -2000), min(info.max, 3000)) if info else (-2000, 3000)
    plane = rng.integers(lo, hi, size=(64, 48)).astype(dtype)
    wl = WindowLevel(400, 40)
    expected = np.clip((plane.astype(np.float64) - wl.low) * 255 / wl.window, 0, 255).astype(np.uint8)
    got = to_grey8(plane, wl)
    assert got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_presets_by_modality():
    assert set(presets_for("CT", "HU")) == {"Soft tissue", "Lung", "Bone", "Brain", "Liver", "Mediastinum"}
    assert CT_PRESETS["Lung"].low == -1350 and CT_PRESETS["Lung"].high == 150
    pet = presets_for("PT", "SUV")
    assert (pet["SUV 0–5"].low, pet["SUV 0–5"].high) == (0, 5)
    assert presets_for("MR", "") == {}


def test_mr_default_is_a_percentile_window():
    values = np.arange(10000, dtype=np.float32).reshape(100, 100, 1)
    wl = default_window("MR", "", values)
    assert wl.low == pytest.approx(99.99, abs=1) and wl.high == pytest.approx(9899, abs=2)
    assert auto_window(np.zeros((4, 4, 4))).window > 0


def test_colour_maps():
    assert colour_table("grey")[200].tolist() == [200, 200, 200]
    assert colour_table("inverted")[0].tolist() == [255, 255, 255]
    hot = colour_table("hot")
    assert hot[0].tolist() == [0, 0, 0] and hot[255].tolist() == [255, 255, 255]
    assert hot[100, 0] > hot[100, 1] >= hot[100, 2]
    jet = colour_table("rainbow")
    assert jet[0, 2] > 100 and jet[0, :2].tolist() == [0, 0]  # dark blue
    assert jet[128, 1] == 255 and jet[255, 0] > 100 and jet[255, 1:].tolist() == [0, 0]  # green middle, dark red top
    with pytest.raises(ValueError):
        colour_table("viridis")


def test_overlay_blend_is_translucent_and_only_where_labelled():
    grey8 = np.full((2, 2), 100, np.uint8)
    labels = np.array([[0, 1], [2, 0]], np.uint8)
    table = blend_table("grey", np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]]), opacity=0.5)
    argb = render_rgba(grey8, table, labels)
    channels = lambda v: ((int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255)  # noqa: E731
    assert channels(argb[0, 0]) == (100, 100, 100)
    assert channels(argb[0, 1]) == (178, 50, 50)
    assert channels(argb[1, 0]) == (50, 50, 178)
    assert (argb >> 24 == 255).all()
