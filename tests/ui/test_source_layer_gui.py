"""Tools and AI on the PET layer in the real main window, on the bundled STS_001 planning CT with its PET: the tool
panel's "Source layer" combo, a threshold preview that comes from the PET (resampled in the worker, never on the GUI
thread), a threshold within the AI box, and the AI dock running the shipped PET model on the PET layer with its
segment on the CT grid."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.ai.bundle import find_bundle
from medseg_app.ai.inference import Predictor
from medseg_app.core.prompt_box import PromptBox, voxels_in_lps_box
from medseg_app.io.load import load_volume

from .gui_ticks import TickGate
from .ui_test_data import SAMPLE_CT, SAMPLE_STUDY, open_and_wait

PET_DIR = SAMPLE_STUDY / "PET" / "dicom" / "image"


@pytest.fixture
def window(main_window, qtbot):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    pet = load_volume(str(PET_DIR))
    layer = main_window.state.study.add_layer(pet)
    main_window.pet_layer = layer
    yield main_window
    main_window.ai_panel.runner.shutdown()


def gtv_prompt_box(window) -> PromptBox:
    gtv = window.state.segmentation.by_name("GTV_Mass_CT").mask.to_dense()
    k, j, i = np.nonzero(gtv)
    return PromptBox((float(i.min()), float(j.min()), float(k.min())), (float(i.max()), float(j.max()),
                                                                         float(k.max())), "axial")


def test_source_layer_combo_lists_the_study_and_the_threshold_preview_comes_from_the_pet(window, qtbot):
    panel, tools, study = window.tool_panel, window.tools, window.state.study
    combo = panel.source.combo
    assert combo.count() == 2 and combo.isEnabled()
    assert "reference" in combo.itemText(0) and "CT" in combo.itemText(0) and "PT" in combo.itemText(1)
    panel.buttons["threshold"].click()
    options = panel.options["threshold"]
    assert options.range_form.labelForField(options.lower).text() == "Lower (HU)"
    # the display's own background resample must not refill the cache behind the test's back: let it finish, then
    # keep it from starting another while the tools' worker is watched
    qtbot.waitUntil(lambda: not window.overlay_resampler.worker.busy, timeout=30000)
    window.overlay_resampler.hold(True)
    gate = TickGate()
    resample = study.on_reference
    held = gate.hold(resample)
    study._resampled.clear()  # as before any view drew the PET: its resample onto the CT grid is still to be made
    # every resample actually made (not a cached read) is held until the GUI thread has ticked: it must be a worker's
    study.on_reference = lambda layer_id: (held if study.cached_on_reference(layer_id) is None
                                           else resample)(layer_id)
    try:
        combo.setCurrentIndex(1)
        assert tools.source_layer == window.pet_layer.id
        assert options.range_form.labelForField(options.lower).text() == "Lower (SUV)"
        assert options.upper.high == pytest.approx(float(window.pet_layer.volume.array.max()))
        edit = panel.edit_options  # the editing range is in the source's units too
        assert "SUV" in edit.range_enabled.text()
        assert edit.upper.value() == pytest.approx(float(window.pet_layer.volume.array.max()), abs=0.05)
        tools.set_parameter("preset", "pet_suv_2_5")
        qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    finally:
        study.on_reference = resample
        window.overlay_resampler.hold(False)
    gate.stop()
    assert gate.job_threads, "the PET was never resampled for the tools"
    assert gate.off_gui_thread
    preview = tools.preview
    assert preview.info["source"] == window.pet_layer.name and preview.info["units"] == "SUV"
    pet_on_ct = study.on_reference(window.pet_layer.id).array
    segment_id = window.state.segmentation.active_id
    box, region = preview.mask_for(segment_id)
    dense = np.zeros(pet_on_ct.shape, bool)
    dense[box.slices] = region
    np.testing.assert_array_equal(dense, pet_on_ct >= 2.5)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    segment = window.state.segmentation.segments[segment_id]
    assert window.state.segmentation.geometry.same_grid(window.state.volume.geometry)
    np.testing.assert_array_equal(segment.mask.to_dense(), pet_on_ct >= 2.5)
    # the reference again: the sliders are in HU
    combo.setCurrentIndex(0)
    assert tools.source_layer is None and options.range_form.labelForField(options.lower).text() == "Lower (HU)"


def test_forty_percent_of_suvmax_within_the_ai_box_says_where_suvmax_was_measured(window, qtbot):
    panel, tools, study = window.tool_panel, window.tools, window.state.study
    window.ai_panel.drawing.set_box(gtv_prompt_box(window))  # the AI dock's box is the tools' box
    assert tools.box_lps is not None
    panel.buttons["threshold"].click()
    panel.source.combo.setCurrentIndex(1)
    window.segment_list.add_button.click()
    for name, value in (("within", "box"), ("suv_max_in", "box"), ("preset", "pet_40_percent_suvmax")):
        tools.set_parameter(name, value)
    options = panel.options["threshold"]
    # the previews of the earlier settings may arrive first (each set_parameter asks for one): wait for the preset's
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy
                    and "suv_max" in tools.preview.info, timeout=30000)
    pet_on_ct = study.on_reference(window.pet_layer.id).array
    inside = voxels_in_lps_box(window.state.volume.geometry, tools.box_lps)
    suv_max = float(pet_on_ct[inside.slices].max())
    assert tools.preview.info["suv_max"] == pytest.approx(suv_max)
    assert options.suv_max.isVisibleTo(options) and "measured in the box" in options.suv_max.text()
    assert f"{suv_max:.2f}" in options.suv_max.text()
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    mask = window.state.segmentation.segments[window.state.segmentation.active_id].mask.to_dense()
    expected = np.zeros(mask.shape, bool)
    expected[inside.slices] = pet_on_ct[inside.slices] >= 0.4 * suv_max
    np.testing.assert_array_equal(mask, expected)


def test_the_ai_dock_runs_the_pet_model_on_the_pet_layer_and_writes_a_segment_on_the_ct_grid(window, qtbot):
    ai, seg = window.ai_panel, window.state.segmentation
    ai.show_panel()
    ai.select_model("pet_gtv_box_unet")
    assert ai.layer_label.isVisibleTo(ai) and window.pet_layer.name in ai.layer_label.text()
    assert not ai.info.warning.isVisibleTo(ai)  # a PET model on the PET layer: no modality warning
    box = gtv_prompt_box(window)
    ai.drawing.set_box(box)
    before = set(seg.segments)
    ai.run_button.click()
    assert "layer" in ai.status.text()
    qtbot.waitUntil(lambda: len(seg.segments) > len(before) and not ai.runner.busy, timeout=120000)
    (new_id,) = set(seg.segments) - before
    segment = seg.segments[new_id]
    assert segment.source == "AI model" and segment.source_detail == "pet_gtv_box_unet"
    ct = window.state.volume
    expected = Predictor(find_bundle("pet_gtv_box_unet"), device="cpu").segment(
        window.pet_layer.volume.array, window.pet_layer.volume.geometry, box.lps_corners(ct.geometry),
        reference=ct.geometry, transform=window.pet_layer.transform).label_map(ct.array.shape) > 0
    mask = segment.mask.to_dense()
    assert mask.shape == ct.array.shape and mask.sum() > 10_000
    assert 2 * (mask & expected).sum() / (mask.sum() + expected.sum()) > 0.999
    gtv = seg.by_name("GTV_Mass_CT").mask.to_dense()
    assert 2 * (mask & gtv).sum() / (mask.sum() + gtv.sum()) > 0.8
