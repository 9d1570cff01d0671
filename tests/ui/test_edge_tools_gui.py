"""Level tracing and live wire in the real main window, on the sample CT: the outline follows the mouse (counted
in traces, never timed) and is drawn on the view; a click fills it, one undo step; live-wire clicks, the path to the
mouse, Backspace, a double-click that closes and fills (the view does not maximise), Esc, and the coronal view."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from medseg_app.core.display_axes import index_to_screen
from medseg_app.io.load import load_volume
from medseg_app.ui.viewer.slice_interaction import IndexPath

from .ui_test_data import SAMPLE_CT

BONE = (155, 69, 30)  # (i, j, k): cortical bone of the sample CT
MUSCLE = (85, 137, 30)


@pytest.fixture
def window(main_window):
    volume = load_volume(SAMPLE_CT / "image")
    main_window.state.set_volume(volume)
    main_window.state.set_crosshair(BONE)
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def widget_point(view, index) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def _component(plane, seed):
    labels, _ = ndi.label(plane >= plane[seed], np.ones((3, 3), bool))
    return ndi.binary_fill_holes(labels == labels[seed])


def test_level_trace_follows_the_mouse_and_a_click_fills_one_undo_step(window, qtbot):
    axial = window.grid.slice_view("axial")
    window.tool_panel.buttons["level_trace"].click()
    edges = window.tools.gestures.edges
    assert window.tools.kind == "trace"
    before = edges.traces
    qtbot.mouseMove(axial, widget_point(axial, MUSCLE))
    qtbot.waitUntil(lambda: edges.traced is not None and edges.traced.level == window.state.volume.array[30, 137, 85])
    first = edges.traced
    qtbot.mouseMove(axial, widget_point(axial, BONE))
    qtbot.waitUntil(lambda: edges.traced is not first)
    assert edges.traces >= before + 2
    shapes = window.tools.gestures.overlay()
    assert len(shapes) == 1 and isinstance(shapes[0], IndexPath) and shapes[0].view == "axial"
    assert len(shapes[0].points) == len(edges.traced.outline) + 1  # closed
    assert "pixels" in window.tool_panel.options["level_trace"].traced.text()

    seg = window.state.segmentation
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, BONE))
    mask = seg.segments[seg.active_id].mask.to_dense()
    expected = _component(window.state.volume.array[30], (BONE[1], BONE[0]))
    np.testing.assert_array_equal(mask[30], expected)
    assert mask.sum() == expected.sum() and tuple(window.state.crosshair) == BONE  # the click did not move it
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Level tracing")
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not seg.segments[seg.active_id].mask.to_dense().any()


def _square(centre, half, slice_axis):
    """Four voxels round ``centre`` on its slice across ``slice_axis``, clockwise."""
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    corners = []
    for dr, dc in ((-half, -half), (-half, half), (half, half), (half, -half)):
        voxel = list(centre)
        voxel[rows] += dr
        voxel[cols] += dc
        corners.append(tuple(voxel))
    return corners


def test_live_wire_clicks_preview_backspace_and_double_click_close(window, qtbot):
    axial = window.grid.slice_view("axial")
    window.tool_panel.buttons["live_wire"].click()
    edges, options = window.tools.gestures.edges, window.tool_panel.options["live_wire"]
    corners = _square(BONE, 8, 2)
    for corner in corners[:3]:
        qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, corner))
    assert len(edges.wire.points) == 3 and options.count.text().startswith("3 points")
    qtbot.mouseMove(axial, widget_point(axial, corners[3]))
    qtbot.waitUntil(lambda: edges.wire_preview is not None)
    assert tuple(edges.wire_preview[-1]) == corners[3] and tuple(edges.wire_preview[0]) == corners[2]
    drawn = window.tools.gestures.overlay()[0]
    assert drawn.view == "axial" and drawn.points[-1] == tuple(float(v) for v in corners[3])
    QTest.keyClick(axial, Qt.Key.Key_Backspace)
    assert len(edges.wire.points) == 2
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, corners[2]))
    maximised = []
    window.grid.slice_view("axial").maximise_toggled.connect(lambda: maximised.append(True))
    qtbot.mouseDClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, corners[3]))
    seg = window.state.segmentation
    mask = seg.segments[seg.active_id].mask.to_dense()
    assert edges.wire is None and not maximised  # closed, and the view kept its size
    assert mask[30].sum() > 100 and mask.sum() == mask[30].sum()
    assert all(mask[30, j, i] for i, j, _k in corners)  # the clicked points are on the filled contour
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Live wire")
    QTest.keyClick(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not seg.segments[seg.active_id].mask.to_dense().any()  # one undo step


def test_live_wire_on_the_coronal_view_closes_with_enter_and_esc_drops_a_contour(window, qtbot):
    coronal = window.grid.slice_view("coronal")
    window.tool_panel.buttons["live_wire"].click()
    edges = window.tools.gestures.edges
    corners = _square(BONE, 6, 1)
    for corner in corners:
        qtbot.mouseClick(coronal, Qt.MouseButton.LeftButton, pos=widget_point(coronal, corner))
    assert edges.wire_view == "coronal" and edges.wire.slice_index == BONE[1]
    QTest.keyClick(coronal, Qt.Key.Key_Return)
    seg = window.state.segmentation
    mask = seg.segments[seg.active_id].mask.to_dense()
    assert edges.wire is None and mask.sum() == mask[:, BONE[1], :].sum() > 40  # on the coronal slice
    for corner in corners[:2]:
        qtbot.mouseClick(coronal, Qt.MouseButton.LeftButton, pos=widget_point(coronal, corner))
    QTest.keyClick(coronal, Qt.Key.Key_Escape)
    assert edges.wire is None and window.tools.gestures.overlay() == []
    assert seg.segments[seg.active_id].mask.to_dense().sum() == mask.sum()  # Esc wrote nothing
