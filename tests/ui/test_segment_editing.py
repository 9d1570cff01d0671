"""Segment editing in the real main window: tools, previews from the worker, Apply, undo / redo, overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from medseg_app.core.box import Box
from medseg_app.core.display_axes import index_to_screen
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segment_display import PREVIEW_COLOURS
from medseg_app.core.volume import Volume

SIZE = (48, 40, 16)  # (i, j, k)
CENTRE = (20, 18, 8)
RADIUS = 6


def sphere_volume() -> tuple[Volume, np.ndarray]:
    k, j, i = np.ogrid[: SIZE[2], : SIZE[1], : SIZE[0]]
    ball = ((i - CENTRE[0]) ** 2 + (j - CENTRE[1]) ** 2 + ((k - CENTRE[2]) * 2.0) ** 2) <= RADIUS ** 2
    array = np.where(ball, 200, 0).astype(np.int16)
    geometry = ImageGeometry(size=SIZE, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0))
    return Volume(array, geometry, modality="CT", units="HU"), ball


@pytest.fixture
def window(main_window):
    volume, ball = sphere_volume()
    main_window.state.set_volume(volume)
    main_window.ball = ball
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def widget_point(view, index) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def rgb_at(view, index) -> tuple[int, int, int]:
    colour = view.grab().toImage().pixelColor(widget_point(view, index))
    return colour.red(), colour.green(), colour.blue()


def test_region_growing_end_to_end_with_undo(window, qtbot):
    seg = window.state.segmentation
    axial = window.grid.slice_view("axial")
    existing = np.zeros(window.ball.shape, bool)
    existing[8, 10:14, 10:30] = True  # what the segment held before: a bar through the sphere's edge
    segment = seg.add_segment("Lesion", mask=existing)
    before = segment.mask.to_dense()
    window.tool_panel.buttons["grow"].click()
    assert window.tools.active.id == "grow" and window.tools.seed_mode
    crosshair = tuple(window.state.crosshair)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, CENTRE))
    assert window.tools.seeds == [CENTRE] and tuple(window.state.crosshair) == crosshair  # a seed, not a move
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=10000)
    inside = (CENTRE[0] + 2, CENTRE[1] + 2, CENTRE[2])
    assert rgb_at(axial, inside)[2] < rgb_at(axial, inside)[0]  # the yellow preview is drawn before Apply
    assert segment.mask.to_dense().sum() == before.sum()  # nothing written yet
    window.tool_panel.apply_button.click()
    qtbot.waitUntil(lambda: window.tools.preview is None and not window.tool_worker.busy, timeout=10000)
    after = segment.mask.to_dense()
    np.testing.assert_array_equal(after, before | window.ball)
    assert window.undo_action.isEnabled()
    qtbot.waitUntil(lambda: window.undo_action.text() == f"&Undo {window.tools.active.title}")
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(segment.mask.to_dense(), before)
    QTest.keyClick(axial, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(segment.mask.to_dense(), after)
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(segment.mask.to_dense(), after)  # nothing left to redo
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(segment.mask.to_dense(), after)


def test_paint_stroke_is_one_undo_step(window, qtbot):
    seg = window.state.segmentation
    axial = window.grid.slice_view("axial")
    window.tool_panel.buttons["paint"].click()
    window.tools.set_parameter("diameter_mm", 3.0)
    steps = len(seg.undo_stack._undo)
    start, end = (8, 8, CENTRE[2]), (30, 12, CENTRE[2])
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, start))
    for t in np.linspace(0, 1, 8):
        point = tuple(int(round(a + t * (b - a))) for a, b in zip(start, end))
        qtbot.mouseMove(axial, widget_point(axial, point))
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, end))
    segment = seg.segments[seg.active_id]  # painting with no segment made one
    painted = segment.mask.to_dense()
    assert painted[CENTRE[2]].sum() > 40 and painted.sum() == painted[CENTRE[2]].sum()  # a disc, on this slice
    assert painted[CENTRE[2], 8, 8] and painted[CENTRE[2], 12, 30]
    assert tuple(window.state.crosshair) != start  # the stroke did not move the crosshair
    assert len(seg.undo_stack._undo) == steps + 2  # "Add Segment_1", then the stroke
    window.undo()
    assert segment.mask.empty
    assert rgb_at(axial, (20, 10, CENTRE[2]))[0] == rgb_at(axial, (20, 10, CENTRE[2]))[1]  # grey again


def test_threshold_live_preview_then_apply(window, qtbot):
    axial = window.grid.slice_view("axial")
    window.tool_panel.buttons["threshold"].click()
    options = window.tool_panel.options["threshold"]
    options.upper.spin.setValue(1000)
    options.lower.slider.setValue(options.lower.slider.maximum() // 2)  # a drag: live preview of the slices
    assert window.state.preview and window.state.preview[0][0].shape[0] == 1  # one axial slice so far
    inside = (CENTRE[0] + 1, CENTRE[1], CENTRE[2])
    r, g, b = rgb_at(axial, inside)
    assert (r, g) > (b + 40, b + 40)  # drawn in the preview's yellow
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=10000)  # then the whole volume
    window.tool_panel.apply_button.click()
    qtbot.waitUntil(lambda: window.tools.preview is None, timeout=10000)
    segment = window.state.segmentation.segments[window.state.segmentation.active_id]
    np.testing.assert_array_equal(segment.mask.to_dense(), window.ball)
    assert segment.source == "threshold"


def test_overlapping_segments_are_both_drawn(window, qtbot):
    seg = window.state.segmentation
    shape = window.ball.shape
    a, b = np.zeros(shape, bool), np.zeros(shape, bool)
    a[CENTRE[2], 5:25, 5:25] = True
    b[CENTRE[2], 15:35, 15:40] = True
    red = seg.add_segment("A", colour=(230, 60, 50), mask=a)
    seg.add_segment("B", colour=(70, 130, 230), mask=b)
    axial = window.grid.slice_view("axial")
    k = CENTRE[2]
    only_a, only_b, both = rgb_at(axial, (10, 10, k)), rgb_at(axial, (35, 30, k)), rgb_at(axial, (20, 20, k))
    assert only_a[0] > only_a[2] and only_b[2] > only_b[0]
    assert both not in (only_a, only_b) and both[2] > only_a[2] and both[0] > only_b[0]  # B over A
    assert rgb_at(axial, (5, 10, k)) == (230, 60, 50)  # A's outline
    seg.set_properties(red.id, visible=False)
    assert rgb_at(axial, (10, 10, k))[0] == rgb_at(axial, (10, 10, k))[2]  # hidden: grey


def test_edit_options_and_locks(window):
    seg = window.state.segmentation
    options = window.tool_panel.edit_options
    options.range_enabled.setChecked(True)
    options.lower.setValue(100)
    options.upper.setValue(300)
    options.overwrite.setCurrentIndex(options.overwrite.findData("all"))
    assert seg.options.intensity_range == (100, 300) and seg.options.overwrite == "all"
    segment = seg.add_segment("Locked")
    seg.set_properties(segment.id, locked=True)
    window.tool_panel.buttons["paint"].click()
    axial = window.grid.slice_view("axial")
    QTest.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, CENTRE))
    assert segment.mask.empty  # a locked segment is never painted
    assert "locked" in window.statusBar().currentMessage()


def test_changed_box_off_the_slice_does_not_repaint(window):
    axial = window.grid.slice_view("axial")
    seg = window.state.segmentation
    segment = seg.add_segment("S")
    version = axial._overlay_version
    region = np.ones((1, 3, 3), bool)
    off = (window.state.slice_index("axial") + 3) % SIZE[2]
    seg.modify(segment.id, Box((off, 0, 0), (off + 1, 3, 3)), region)
    assert axial._overlay_version == version
    on = window.state.slice_index("axial")
    seg.modify(segment.id, Box((on, 0, 0), (on + 1, 3, 3)), region)
    assert axial._overlay_version == version + 1


def test_region_grow_on_the_sample_study(main_window, qtbot, tmp_path):
    """The bundled CT: a new segment grown from a seed in the tumour, applied, drawn next to the GTV."""
    import os

    from .ui_test_data import SAMPLE_CT, open_and_wait

    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    seg = window.state.segmentation
    assert [s.name for s in seg.segments.values()] == ["GTV_Mass_CT"]
    gtv = seg.by_name("GTV_Mass_CT")
    assert gtv.colour == (255, 0, 0) and gtv.source == "RTSTRUCT"  # the RTSTRUCT's ROI colour, read from it, and not seg.undo_stack.can_undo()
    window.segment_list.add_button.click()
    grown = seg.segments[seg.active_id]
    window.tool_panel.buttons["grow"].click()
    window.tools.set_parameter("method", "confidence")
    axial = window.grid.slice_view("axial")
    k, j, i = (int(v) for v in np.argwhere(gtv.mask.to_dense()).mean(axis=0))
    window.state.set_crosshair((i, j, k))
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, (i, j, k)))
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=20000)
    window.tool_panel.apply_button.click()
    qtbot.waitUntil(lambda: not grown.mask.empty, timeout=20000)
    assert grown.source == "region growing" and grown.mask.count() > 1000
    row = window.segment_list.row_of(grown.id)
    assert window.segment_list.table.item(row, 4).text() == "region growing"  # the list shows where it came from
    image = window.grab().toImage()
    out = Path(os.environ.get("MEDSEG_SCREENSHOT_DIR", tmp_path)) / "region-grow.png"
    assert image.save(str(out))
    shot = np.frombuffer(image.convertToFormat(image.Format.Format_RGB888).constBits(), np.uint8)
    shot = shot.reshape(image.height(), -1)[:, : 3 * image.width()].reshape(image.height(), image.width(), 3)
    assert np.all(shot == grown.colour, axis=2).sum() > 100  # the grown segment's outline, drawn over the GTV
    seg.set_properties(grown.id, visible=False)
    image = window.grab().toImage().convertToFormat(image.Format.Format_RGB888)
    shot = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)[:, : 3 * image.width()]
    assert np.all(shot.reshape(image.height(), image.width(), 3) == gtv.colour, axis=2).sum() > 100


def test_an_edit_under_a_pending_preview_recomputes_it(main_window, qtbot):
    """A preview computed in the worker reads the masks; painting meanwhile makes it stale, so it is redone."""
    from .ui_test_data import SAMPLE_CT, open_and_wait

    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    seg = window.state.segmentation
    gtv = seg.by_name("GTV_Mass_CT")
    window.tool_panel.buttons["margin"].click()
    window.tools.request_preview()
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=20000)
    before = window.tools.preview
    far = Box((0, 0, 0), (1, 4, 4))
    seg.modify(gtv.id, far, np.ones(far.shape, bool), "add")  # an edit far from the tumour
    qtbot.waitUntil(lambda: window.tools.preview is not None and window.tools.preview is not before, timeout=20000)
    box, region = window.tools.preview.mask_for(gtv.id)
    dense = np.zeros(seg.shape, bool)
    dense[box.slices] = region
    assert dense[0, 0, 5]  # the new preview grows the new voxels too
