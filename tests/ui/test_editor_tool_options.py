"""Scissors drawn in the real main window (rectangle and lasso, on the axial and sagittal views, cut in the worker,
one undo step), and the options widgets of Hollow, Split islands, Scissors and Mask volume."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.ui.test_segment_editing import CENTRE, sphere_volume, widget_point

from medseg_app.tools.scissors import slab_slices


@pytest.fixture
def window(main_window):
    volume, ball = sphere_volume()
    main_window.state.set_volume(volume)
    main_window.ball = ball
    main_window.state.segmentation.add_segment("Ball", mask=ball)
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def _drag(qtbot, view, points, while_dragging=None) -> None:
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=widget_point(view, points[0]))
    for point in points[1:]:
        qtbot.mouseMove(view, widget_point(view, point))
    if while_dragging is not None:
        while_dragging()
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=widget_point(view, points[-1]))


def _segment(window):
    seg = window.state.segmentation
    return seg.segments[seg.active_id]


def test_scissors_rectangle_on_the_axial_view_erases_a_slab_in_one_undo_step(window, qtbot):
    seg, ball = window.state.segmentation, window.ball
    axial = window.grid.slice_view("axial")
    window.tool_panel.buttons["scissors"].click()
    assert window.tools.kind == "cut"
    options = window.tool_panel.options["scissors"]
    assert not options.editors["slab_mm"].isEnabled()  # whole volume: no slab thickness to set
    options.editors["shape"].setCurrentIndex(options.editors["shape"].findData("rectangle"))
    options.editors["extent"].setCurrentIndex(options.editors["extent"].findData("slab"))
    assert options.editors["slab_mm"].isEnabled() and "slab" in options.findChild(type(options.summary),
                                                                                  "scissors_summary").text()
    options.editors["slab_mm"].setValue(4.0)  # 2 mm slices: the drawn slice and one each side
    window.state.set_slice("axial", CENTRE[2])
    steps = len(seg.undo_stack._undo)
    # Corners between voxel centres: the mouse's pixel is a fraction of a voxel, so no centre lies on an edge.
    corner_a = (CENTRE[0] - 8.5, CENTRE[1] - 3.5, CENTRE[2])
    corner_b = (CENTRE[0] + 1.5, CENTRE[1] + 8.5, CENTRE[2])
    middle = tuple((a + b) / 2 for a, b in zip(corner_a, corner_b))
    crosshair = tuple(window.state.crosshair)
    outlines = []
    _drag(qtbot, axial, [corner_a, middle, corner_b], lambda: outlines.extend(window.tools.gestures.overlay()))
    (outline,) = outlines  # the rectangle drawn while dragging: four corners, closed, on the axial view
    assert outline.view == "axial" and len(outline.points) == 5 and outline.points[0] == outline.points[-1]
    np.testing.assert_allclose(outline.points[2][:2], corner_b[:2], atol=0.1)
    assert tuple(window.state.crosshair) == crosshair  # the drag drew a shape; it did not move the crosshair
    qtbot.waitUntil(lambda: len(seg.undo_stack._undo) == steps + 1 and not window.tool_worker.busy, timeout=10000)
    first, stop = slab_slices(CENTRE[2], 4.0, 2.0, ball.shape[0])
    assert (first, stop) == (CENTRE[2] - 1, CENTRE[2] + 2)
    prism = np.zeros(ball.shape, bool)
    prism[first:stop, CENTRE[1] - 3:CENTRE[1] + 9, CENTRE[0] - 8:CENTRE[0] + 2] = True
    np.testing.assert_array_equal(_segment(window).mask.to_dense(), ball & ~prism)
    window.undo()
    np.testing.assert_array_equal(_segment(window).mask.to_dense(), ball)


def test_scissors_lasso_on_the_sagittal_view_fills_through_the_volume(window, qtbot):
    sagittal = window.grid.slice_view("sagittal")
    window.tool_panel.buttons["scissors"].click()
    options = window.tool_panel.options["scissors"]
    options.editors["operation"].setCurrentIndex(options.editors["operation"].findData("fill inside"))
    window.state.set_slice("sagittal", CENTRE[0])
    j0, j1, k0, k1 = 1.5, 8.5, 2.5, 11.5  # between voxel centres, as the rectangle's corners above
    lasso = [(CENTRE[0], j0, k0), (CENTRE[0], j1, k0), (CENTRE[0], j1, k1), (CENTRE[0], j0, k1), (CENTRE[0], j0, k0)]
    path = [tuple(a + t * (b - a) for a, b in zip(p, q)) for p, q in zip(lasso, lasso[1:])
            for t in np.linspace(0, 1, 4, endpoint=False)]
    _drag(qtbot, sagittal, path + [lasso[-1]])
    expected = window.ball.copy()
    expected[3:12, 2:9, :] = True  # the voxel centres inside the outline, on every sagittal slice
    qtbot.waitUntil(lambda: _segment(window).mask.count() == expected.sum(), timeout=10000)
    np.testing.assert_array_equal(_segment(window).mask.to_dense(), expected)


def test_hollow_and_split_options(window, qtbot):
    window.tool_panel.buttons["hollow"].click()
    hollow = window.tool_panel.options["hollow"]
    hollow.editors["placement"].setCurrentIndex(hollow.editors["placement"].findData("outside"))
    assert window.tools.active.values["placement"] == "outside" and "outwards" in hollow.summary.text()
    hollow.editors["thickness_mm"].setValue(2.0)
    assert window.tools.active.values["thickness_mm"] == 2.0 and "2 mm" in hollow.summary.text()
    window.tool_panel.apply_button.click()  # computed in the worker, applied when it arrives
    qtbot.waitUntil(lambda: not window.tool_worker.busy and window.tools.preview is None, timeout=10000)
    shell = _segment(window).mask.to_dense()
    assert not (shell & window.ball).any() and shell.sum() > 0.5 * window.ball.sum()
    window.tool_panel.buttons["split_islands"].click()
    split = window.tool_panel.options["split_islands"]
    assert split.editors["min_size"].suffix() == " voxels"
    split.editors["size_unit"].setCurrentIndex(split.editors["size_unit"].findData("mm³"))
    assert split.editors["min_size"].suffix() == " mm³" and window.tools.active.values["size_unit"] == "mm³"


def test_mask_volume_options_name_the_layer_and_apply_adds_it(window, qtbot):
    study = window.state.study
    original = study.reference.volume.array.copy()
    window.tool_panel.buttons["mask_volume"].click()
    options = window.tool_panel.options["mask_volume"]
    assert f"\"{study.reference.name} masked by Ball\"" in options.result.text()
    options.editors["fill_value"].setValue(-1000)
    window.tool_panel.apply_button.click()
    qtbot.waitUntil(lambda: len(study.layers) == 2 and not window.tool_worker.busy, timeout=10000)
    added = study.layers[-1]
    assert added.name == f"{study.reference.name} masked by Ball"
    expected = np.where(window.ball, original, -1000)
    np.testing.assert_array_equal(added.volume.array, expected)
    np.testing.assert_array_equal(study.reference.volume.array, original)
    window.undo()
    assert len(study.layers) == 1


def test_fill_between_slices_offers_both_methods(window, qtbot):
    window.tool_panel.buttons["slice_interpolation"].click()
    method = window.tool_panel.options["slice_interpolation"].editors["method"]
    assert [method.itemData(n) for n in range(method.count())] == ["distance", "morphological"]
    method.setCurrentIndex(method.findData("morphological"))
    assert window.tools.active.values["method"] == "morphological"
