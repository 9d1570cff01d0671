"""The adjust dock's "Move with the mouse" mode in the real main window: a left-drag on a slice view translates the
chosen layer by the dragged screen distance along the view's patient axes (axial, sagittal, an oblique grid), a
Ctrl+drag rotates it about the view normal through the crosshair by the cursor's change of angle, one drag is one
undo step, the spin boxes follow during the drag, the whole-volume resample waits for the release, and with the
mode off a drag moves the crosshair as before."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from medseg_app.core.display_axes import index_to_screen
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.volume import Volume

SIZE = (60, 50, 24)
SPACING = (0.8, 1.1, 2.5)


def _rotation_z(degrees: float) -> np.ndarray:
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


def _window(main_window, direction=np.eye(3)):
    geometry = ImageGeometry(SIZE, SPACING, (-20.0, 10.0, -50.0), direction)
    rng = np.random.default_rng(3)
    array = rng.integers(-200, 300, geometry.shape).astype(np.int16)
    main_window.state.set_volume(Volume(array, geometry, modality="CT", units="HU"))
    layer = main_window.state.study.add_layer(Volume(array.copy(), geometry, modality="PT", units="BQML"),
                                              name="PET")
    main_window.overlay_resampler.worker.wait()
    QTest.qWait(0)  # the finished round's result delivered
    dock = main_window.registration.show_dock()
    dock.select_layer(layer.id)
    return main_window, dock, layer


@pytest.fixture
def window(main_window):
    return _window(main_window)


def mm_per_widget_pixel(view) -> tuple[float, float]:
    rect = view.viewport.target_rect()
    return (view.viewport.image_width * view.viewport.pixel_mm[0] / rect.width(),
            view.viewport.image_height * view.viewport.pixel_mm[1] / rect.height())


def centre_point(view) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, view.state.crosshair)
    return view.viewport.to_widget(x, y).toPoint()


def drag(view, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier, during=None) -> None:
    QTest.mousePress(view, Qt.MouseButton.LeftButton, modifier, start)
    for t in (0.25, 0.5, 0.75, 1.0):
        QTest.mouseMove(view, start + (end - start) * t)
        if during is not None:
            during()
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, modifier, end)


def test_an_axial_drag_translates_the_layer_along_x_and_y_and_undoes_in_one_step(window):
    main_window, dock, layer = window
    dock.mouse_button.setChecked(True)
    view = main_window.grid.slice_view("axial")
    start = centre_point(view) + QPoint(-20, -15)
    end = start + QPoint(40, 30)  # screen right = patient left (+x), screen down = posterior (+y)
    crosshair = main_window.state.crosshair.copy()
    resampler = main_window.overlay_resampler
    jobs_before = resampler.jobs
    jobs_during, spin_during = [], []

    def during():
        jobs_during.append(resampler.jobs)
        spin_during.append(dock.translation[0].value())

    drag(view, start, end, during=during)
    sx, sy = mm_per_widget_pixel(view)
    expected = np.array([40 * sx, 30 * sy, 0.0])
    m = layer.transform.layer_to_reference
    assert np.allclose(m[:3, :3], np.eye(3)) and np.allclose(m[:3, 3], expected, atol=1e-6)
    assert [dock.translation[i].value() for i in range(3)] == pytest.approx(expected, abs=0.006)
    assert spin_during[0] != 0.0 and spin_during[-1] == pytest.approx(expected[0], abs=0.006)  # live
    assert jobs_during == [jobs_before] * 4 and resampler.jobs == jobs_before + 1  # one round, after the release
    assert np.array_equal(main_window.state.crosshair, crosshair)  # the drag moved the layer, not the crosshair
    resampler.worker.wait()
    dock.undo_button.click()
    assert layer.transform.is_identity and not dock.undo_button.isEnabled()  # the whole drag was one step
    assert dock.translation[0].value() == 0.0


def test_a_sagittal_drag_translates_along_y_and_z(window):
    main_window, dock, layer = window
    dock.mouse_button.setChecked(True)
    view = main_window.grid.slice_view("sagittal")
    start = centre_point(view)
    drag(view, start, start + QPoint(25, 18))  # screen right = posterior (+y), screen down = inferior (-z)
    sx, sy = mm_per_widget_pixel(view)
    assert np.allclose(layer.transform.layer_to_reference[:3, 3], (0.0, 25 * sx, -18 * sy), atol=1e-6)
    assert dock.translation[2].value() == pytest.approx(-18 * sy, abs=0.006)


def test_on_an_oblique_grid_the_anatomy_under_the_press_follows_the_cursor(main_window):
    main_window, dock, layer = _window(main_window, _rotation_z(25))
    dock.mouse_button.setChecked(True)
    view = main_window.grid.slice_view("coronal")
    start = centre_point(view)
    end = start + QPoint(-30, 12)
    geometry = main_window.state.volume.geometry
    under_press = geometry.index_to_patient(view.index_at(start))
    under_cursor = geometry.index_to_patient(view.index_at(end))
    drag(view, start, end)
    assert np.allclose(layer.transform.map_to_reference(under_press), under_cursor, atol=1e-6)
    step = under_cursor - under_press  # in the coronal plane: along the grid's j axis it does not move
    assert abs(step @ geometry.direction[:, 1]) < 1e-6 and np.linalg.norm(step) > 2


def test_a_ctrl_drag_rotates_about_the_view_normal_through_the_crosshair(window):
    main_window, dock, layer = window
    dock.mouse_button.setChecked(True)
    view = main_window.grid.slice_view("axial")
    centre = centre_point(view)
    start, end = centre + QPoint(100, 0), centre + QPoint(87, 50)
    drag(view, start, end, Qt.KeyboardModifier.ControlModifier)
    # the axial screen is isotropic in mm (right = +x, down = +y), so the screen angle is the patient angle
    # about +z, less the rounding of the crosshair to a widget pixel
    geometry = main_window.state.volume.geometry
    pivot = geometry.index_to_patient(main_window.state.crosshair.astype(float))
    a = geometry.index_to_patient(view.index_at(start)) - pivot
    b = geometry.index_to_patient(view.index_at(end)) - pivot
    angle = np.arctan2(b[1], b[0]) - np.arctan2(a[1], a[0])
    assert np.degrees(angle) == pytest.approx(np.degrees(np.arctan2(50, 87)), abs=0.5)
    m = layer.transform.layer_to_reference
    c, s = np.cos(angle), np.sin(angle)
    assert np.allclose(m[:3, :3], [[c, -s, 0], [s, c, 0], [0, 0, 1]], atol=1e-9)
    assert np.allclose(layer.transform.map_to_reference(pivot), pivot, atol=1e-9)  # about the crosshair
    assert dock.rotation[2].value() == pytest.approx(np.degrees(angle), abs=0.006)
    assert dock.rotation[0].value() == 0.0 and dock.rotation[1].value() == 0.0
    before = layer.transform
    drag(view, centre + QPoint(0, 60), centre + QPoint(-60, 0), Qt.KeyboardModifier.ControlModifier)  # a second step
    dock.undo_button.click()
    assert np.array_equal(layer.transform.layer_to_reference, before.layer_to_reference)
    dock.undo_button.click()
    assert layer.transform.is_identity


def test_with_the_mode_off_or_the_dock_hidden_a_drag_moves_the_crosshair_not_the_layer(window):
    main_window, dock, layer = window
    view = main_window.grid.slice_view("axial")
    start = centre_point(view)
    drag(view, start, start + QPoint(30, 20))
    assert layer.transform.is_identity and not dock.undo_button.isEnabled()
    moved_to = main_window.state.crosshair.copy()
    assert not np.array_equal(moved_to, np.asarray(SIZE) // 2)
    dock.mouse_button.setChecked(True)
    dock.hide()
    assert not main_window.registration.mouse.active
    drag(view, centre_point(view), centre_point(view) + QPoint(-25, 0))
    assert layer.transform.is_identity and not np.array_equal(main_window.state.crosshair, moved_to)
    assert view.cursor().shape() == Qt.CursorShape.CrossCursor
    dock.show()
    assert main_window.registration.mouse.active and view.cursor().shape() == Qt.CursorShape.SizeAllCursor
    click = centre_point(view)
    drag(view, click, click)  # a click without a move: no change, no undo step
    assert layer.transform.is_identity and not dock.undo_button.isEnabled()
