"""Window / level bar: the modality's presets, colour maps, and spin boxes that follow mouse drags."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.window_level import WindowLevel
from medseg_app.ui.viewer.window_level_bar import CUSTOM, MR_AUTO, PET_INVERTED, WindowLevelBar

from .ui_test_data import ramp_volume


def _bar(qtbot, modality, units):
    state = ViewerState(ramp_volume(modality=modality, units=units))
    bar = WindowLevelBar(state)
    qtbot.addWidget(bar)
    return state, bar


def _items(box):
    return [box.itemText(i) for i in range(box.count())]


def test_ct_presets_apply_and_show(qtbot):
    state, bar = _bar(qtbot, "CT", "HU")
    assert _items(bar.preset_box) == [CUSTOM, "Soft tissue", "Lung", "Bone", "Brain", "Liver", "Mediastinum"]
    assert bar.preset_box.currentText() == "Soft tissue"
    bar.preset_box.activated.emit(_items(bar.preset_box).index("Lung"))
    assert state.window == WindowLevel(1500, -600)
    assert (bar.window_spin.value(), bar.level_spin.value()) == (1500, -600)
    assert bar.preset_box.currentText() == "Lung"


def test_pet_presets_include_inverted_grey(qtbot):
    state, bar = _bar(qtbot, "PT", "SUV")
    assert _items(bar.preset_box) == [CUSTOM, "SUV 0–5", "SUV 0–10", PET_INVERTED]
    bar.apply_preset("SUV 0–10")
    assert (state.window.low, state.window.high, state.colour_map) == (0, 10, "grey")
    bar.apply_preset(PET_INVERTED)
    assert (state.window.low, state.window.high, state.colour_map) == (0, 5, "inverted")
    assert bar.colour_box.currentText() == "inverted" and bar.preset_box.currentText() == PET_INVERTED


def test_mr_gets_the_percentile_window(qtbot):
    state, bar = _bar(qtbot, "MR", "")
    assert _items(bar.preset_box) == [CUSTOM, MR_AUTO]
    state.set_window(WindowLevel(1, 0))
    bar.apply_preset(MR_AUTO)
    low, high = np.percentile(state.volume.array, [1, 99])
    assert (state.window.low, state.window.high) == pytest.approx((low, high), rel=1e-6)


def test_spin_boxes_follow_drags_and_drive_the_window(qtbot):
    state, bar = _bar(qtbot, "CT", "HU")
    state.drag_window(64, -32)
    assert bar.window_spin.value() == pytest.approx(state.window.window, abs=0.5)
    assert bar.level_spin.value() == pytest.approx(state.window.level, abs=0.5)
    assert bar.preset_box.currentText() == CUSTOM
    bar.window_spin.setValue(250)
    bar.level_spin.setValue(-20)
    assert state.window == WindowLevel(250, -20)


def test_colour_map_choice(qtbot):
    state, bar = _bar(qtbot, "CT", "HU")
    bar.colour_box.setCurrentText("hot")
    assert state.colour_map == "hot"
