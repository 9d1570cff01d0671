"""The k-means / fuzzy c-means / Otsu tools in the real main window on the bundled STS_001 CT: the tool panel's
options draw the box's histogram with the thresholds the preview found (computed in the worker, counted off the GUI
thread), Apply adds one segment per class in one undo step, and a click in the axial view picks the class that goes
into the active segment."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from medseg_app.core.prompt_box import PromptBox
from medseg_app.io.load import load_volume

from .gui_ticks import TickGate
from .test_segment_editing import widget_point
from .ui_test_data import SAMPLE_CT

BOX = PromptBox((40.0, 40.0, 10.0), (160.0, 160.0, 45.0), "axial")  # voxels i, j 40..160, slices 10..45


@pytest.fixture
def window(main_window):
    main_window.state.set_volume(load_volume(str(SAMPLE_CT)))
    main_window.tools.set_box(BOX)
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def _box_values(window) -> np.ndarray:
    box = BOX.voxel_box()
    return window.state.volume.array[box.slices]


def test_kmeans_histogram_shows_the_thresholds_and_apply_adds_the_classes_in_one_undo_step(window, qtbot):
    panel, tools, seg = window.tool_panel, window.tools, window.state.segmentation
    panel.buttons["kmeans"].click()
    options = panel.options["kmeans"]
    assert options.histogram.thresholds == []
    options.editors["classes"].setValue(3)
    assert tools.active.values["classes"] == 3
    gate = TickGate()
    tools.active.preview = gate.hold(tools.active.preview)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    gate.stop()
    assert gate.off_gui_thread
    info = tools.preview.info
    histogram = options.histogram
    assert len(histogram.thresholds) == 2 and histogram.thresholds == pytest.approx(info["boundaries"])
    values = _box_values(window)
    assert histogram.counts.sum() == values.size == info["region_voxels"]
    assert histogram.edges[0] == values.min() and histogram.edges[-1] == values.max()
    assert "Class 3 (mean" in options.classes.text()
    # the threshold lines are drawn where the values are
    image = histogram.grab().toImage()
    y = round(histogram.plot_rect().top() + 2)  # above every bar
    for threshold in histogram.thresholds:
        x = int(histogram.x_of(threshold))
        assert QColor("#d62728") in [image.pixelColor(x + dx, y) for dx in (-1, 0, 1)]
    assert image.pixelColor(int(histogram.x_of(np.mean(histogram.thresholds))), y) != QColor("#d62728")
    before_segments, steps = len(seg.segments), len(seg.undo_stack._undo)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    names = [s.name for s in seg.segments.values()][before_segments:]
    assert [n.split(" (")[0] for n in names] == ["Class 1", "Class 2", "Class 3"]
    assert len(seg.undo_stack._undo) == steps + 1
    seg.undo()
    assert len(seg.segments) == before_segments


def test_otsu_click_in_the_axial_view_puts_the_clicked_class_into_the_active_segment(window, qtbot):
    panel, tools, seg = window.tool_panel, window.tools, window.state.segmentation
    target = seg.add_segment("Soft tissue").id
    seg.set_active(target)
    panel.buttons["otsu_multi"].click()
    options = panel.options["otsu_multi"]
    options.editors["operation"].setCurrentIndex(options.editors["operation"].findData("selected class"))
    assert tools.active.values["operation"] == "selected class"
    volume = window.state.volume.array
    k = 30
    window.state.set_slice("axial", k)
    box = BOX.voxel_box()
    crop = volume[k, box.start[1]:box.stop[1], box.start[2]:box.stop[2]]
    j, i = np.argwhere((crop > 20) & (crop < 60))[len(np.argwhere((crop > 20) & (crop < 60))) // 2]
    voxel = (i + box.start[2], j + box.start[1], k)
    axial = window.grid.slice_view("axial")
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, voxel))
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    info = tools.preview.info
    assert tools.click_index == voxel and info["selected"] == info["classes"][info["selected_class"] - 1]["name"]
    assert len(options.histogram.thresholds) == 2
    lower, upper = options.histogram.thresholds
    assert lower < volume[k, voxel[1], voxel[0]] <= upper
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    inside = np.zeros(volume.shape, bool)
    inside[box.slices] = True
    expected = inside & (volume > lower) & (volume <= upper)
    np.testing.assert_array_equal(seg.segments[target].mask.to_dense(), expected)


def test_fuzzy_cmeans_apply_adds_the_brightest_class_membership_as_a_layer(window, qtbot):
    panel, tools, study = window.tool_panel, window.tools, window.state.study
    panel.buttons["fuzzy_cmeans"].click()
    options = panel.options["fuzzy_cmeans"]
    options.editors["classes"].setValue(2)
    layers = len(study.layers)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    membership = tools.preview.info["membership"]
    assert membership["class"] == 2 and "membership of Class 2" in options.classes.text()
    assert len(options.histogram.thresholds) == 1
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    assert len(study.layers) == layers + 1
    layer = study.layers[-1]
    assert layer.name == f"Membership: {membership['name']}" and layer.registered
    values = layer.volume.array
    assert values.shape == BOX.voxel_box().shape and 0.0 <= values.min() and values.max() <= 1.0
    bright = window.state.segmentation.by_name(membership["name"]).mask.to_dense()[BOX.voxel_box().slices]
    assert values[bright].min() >= 0.5 and values[~bright].max() <= 0.5


def test_kmeans_within_the_segment_the_picker_shows(window, qtbot):
    panel, tools, seg = window.tool_panel, window.tools, window.state.segmentation
    volume = window.state.volume.array
    inside = np.zeros(volume.shape, bool)
    inside[20:30, 60:140, 60:140] = True
    mask_id = seg.add_segment("Region", mask=inside).id
    panel.buttons["kmeans"].click()
    options = panel.options["kmeans"]
    picker = options.editors["within_segment_id"]
    assert picker.itemData(picker.currentIndex()) == tools.active.values["within_segment_id"]
    picker.setCurrentIndex(picker.findData(mask_id))
    options.editors["within"].setCurrentIndex(options.editors["within"].findData("segment"))
    options.editors["classes"].setValue(2)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    assert tools.preview.info["region_voxels"] == inside.sum()
    assert options.histogram.counts.sum() == inside.sum()
