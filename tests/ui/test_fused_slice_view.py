"""Image layers fused in the slice views: a PET voxel lands hot-coloured at its screen pixel in every view, NaN
(outside the layer) shows the reference, an invisible layer changes nothing, the checkerboard alternates; the
background resample replaces the on-the-fly slices with the same picture; the status bar lists every layer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from medseg_app.core.display_axes import index_to_screen
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.volume import UNITS_SUV, Volume
from medseg_app.core.window_level import WindowLevel, colour_table
from medseg_app.ui.viewer.cursor_readout import CursorReadout
from medseg_app.ui.viewer.overlay_resampler import OverlayResampler
from medseg_app.ui.viewer.slice_view import SliceView

from .gui_ticks import GATE_TIMEOUT_S

HOT_SUV = 3.0  # window 0–5: the hot map's level 152 of 254, orange
GREY_CT = 127  # 40 HU through the soft-tissue window 400 / 40


def ct_and_pet():
    ct_geometry = ImageGeometry(size=(60, 50, 40), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
    ct = Volume(np.full((40, 50, 60), 40, np.int16), ct_geometry, modality="CT", units="HU")
    # a coarser PET covering only part of the CT; one block of 3 × 3 × 3 PET voxels at SUV 3
    pet_geometry = ImageGeometry(size=(10, 10, 10), spacing=(4.0, 4.0, 3.0), origin=(10.0, 6.0, 5.0))
    array = np.zeros((10, 10, 10), np.float32)
    array[4:7, 3:6, 5:8] = HOT_SUV
    pet = Volume(array, pet_geometry, modality="PT", units=UNITS_SUV)
    return ct, pet


def rgb(packed) -> tuple[int, int, int]:
    v = int(packed)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


@pytest.fixture
def fused(qtbot):
    ct, pet = ct_and_pet()
    state = ViewerState(ct)
    state.set_window(WindowLevel(400, 40))
    layer = state.study.add_layer(pet, opacity=1.0)
    state.study.set_display(layer.id, window=WindowLevel.from_range(0, 5), colour_map="hot")
    views = {}
    for name in ("axial", "coronal", "sagittal"):
        view = views[name] = SliceView(state, name)
        qtbot.addWidget(view)
        view.resize(300, 300)
    return state, views, layer


def pixel(view, index) -> tuple[int, int, int]:
    view.state.set_crosshair(index)
    view._image()
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return rgb(view._rendering.rgba[int(round(y)), int(round(x))])


def hot_centre_index(pet, ct) -> np.ndarray:
    centre = pet.geometry.index_to_patient((6.0, 4.0, 5.0))  # the block's middle voxel (i, j, k)
    return np.rint(ct.geometry.patient_to_index(centre)).astype(int)


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_a_hot_pet_voxel_renders_hot_coloured_at_its_screen_pixel(fused, view):
    state, views, layer = fused
    index = hot_centre_index(layer.volume, state.volume)
    expected = tuple(colour_table("hot")[round(int(HOT_SUV / 5 * 254) * 255 / 254)])
    assert pixel(views[view], index) == expected
    assert expected[0] > expected[1] > expected[2]  # hot-coloured, not grey
    inside_cold = state.volume.geometry.patient_to_index(layer.volume.geometry.index_to_patient((1.0, 1.0, 1.0)))
    assert pixel(views[view], np.rint(inside_cold).astype(int)) == (0, 0, 0)  # SUV 0 at opacity 1: black
    assert pixel(views[view], (2, 2, 2)) == (GREY_CT,) * 3  # outside the PET (NaN): the CT shows through


def test_an_invisible_layer_changes_nothing(fused):
    state, views, layer = fused
    view = views["axial"]
    state.set_crosshair(hot_centre_index(layer.volume, state.volume))
    view._image()
    fused_image = view._rendering.rgba.copy()
    state.study.set_display(layer.id, visible=False)
    view._image()
    assert np.all(view._rendering.rgba == view._rendering.rgba[0, 0]) and rgb(view._rendering.rgba[0, 0]) == \
        (GREY_CT,) * 3
    assert not np.array_equal(fused_image, view._rendering.rgba)


def test_checkerboard_alternates_20_mm_squares_of_ct_and_pet(fused):
    state, views, layer = fused
    pet = layer.volume
    state.study.set_display(layer.id, fusion_mode="checkerboard", opacity=0.2)
    view = views["axial"]
    k = int(hot_centre_index(pet, state.volume)[2])
    state.set_crosshair((30, 25, k))
    view._image()
    plane = view._rendering.rgba
    # 1 mm pixels: squares of 20 pixels, the top-left one the reference's; PET (SUV 0, black) inside its extent
    assert rgb(plane[22, 15]) == (0, 0, 0)  # row square 1, column square 0: the layer's square
    assert rgb(plane[22, 25]) == (GREY_CT,) * 3  # row square 1, column square 1: the reference's
    inside = state.volume.geometry.patient_to_index(pet.geometry.index_to_patient((3.0, 6.0, 5.0)))
    x, y = int(inside[0]), int(inside[1])
    square = (x // 20 + y // 20) % 2
    assert rgb(plane[y, x]) == ((0, 0, 0) if square else (GREY_CT,) * 3)
    neighbour_x = x + 20 if x + 20 < 50 else x - 20
    assert rgb(plane[y, neighbour_x]) == ((GREY_CT,) * 3 if square else (0, 0, 0))


def test_the_background_resample_shows_the_same_picture_and_drops_stale_results(qtbot, fused, monkeypatch):
    state, views, layer = fused
    import medseg_app.core.study as study_module

    entered, release = threading.Event(), threading.Event()
    real = study_module.resample_onto_reference

    def held(*args, **kwargs):  # the first resample waits until the GUI thread has changed the transform
        entered.set()
        release.wait(GATE_TIMEOUT_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(study_module, "resample_onto_reference", held)
    view = views["coronal"]
    index = hot_centre_index(layer.volume, state.volume)
    state.set_crosshair(index)
    view._image()
    on_the_fly = view._rendering.rgba.copy()
    resampler = OverlayResampler(state)
    try:
        resampler.schedule()  # a round for the identity transform ...
        qtbot.waitUntil(entered.is_set)
        state.study.set_transform(layer.id, LayerTransform.rigid((1.0, 0.0, 0.0)))  # ... stale while in flight
        moved = state.study.layer(layer.id).transform
        release.set()
        qtbot.waitUntil(lambda: resampler.jobs == 2)  # the first round ended: its result is not shown
        qtbot.waitUntil(lambda: state.study.cached_on_reference(layer.id) is not None and not resampler.worker.busy)
        assert state.study._resampled[layer.id][0] is moved and resampler.jobs == 2
        state.study.set_transform(layer.id, LayerTransform.identity())
        qtbot.waitUntil(lambda: state.study.cached_on_reference(layer.id) is not None and not resampler.worker.busy)
        view._image()
        assert np.array_equal(view._rendering.rgba, on_the_fly)
        assert resampler.jobs == 3
    finally:
        resampler.shutdown()


def test_status_bar_lists_each_visible_layers_value_with_units(qtbot, fused):
    state, _, layer = fused
    readout = CursorReadout(state)
    qtbot.addWidget(readout)
    index = tuple(int(v) for v in hot_centre_index(layer.volume, state.volume))
    readout.show_voxel(index)
    assert readout.text().endswith("mm    CT 40 HU · PT 3.0 SUV")
    readout.show_voxel((2, 2, 2))  # outside the PET
    assert readout.text().endswith("CT 40 HU · PT –")
    state.study.set_display(layer.id, visible=False)
    readout.show_voxel(index)
    assert readout.text().endswith("mm    CT 40 HU")
