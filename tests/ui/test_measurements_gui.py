"""Measurements in the real main window: a ruler and an ellipse drawn by mouse events on the slice views (oblique,
anisotropic grid), their lengths / statistics against numpy, where they are drawn, RECIST diameters of a segment."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidgetSelectionRange

from medseg_app.core.display_axes import index_to_screen
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.recist import sparse_segment_recist
from medseg_app.core.volume import Volume
from medseg_app.ui.measurements.measurement_painting import RULER_COLOUR
from medseg_app.ui.measurements.measurements_dock import ellipse_text

SIZE = (60, 50, 12)
SPACING = (0.7, 1.3, 2.5)


def _rotation(degrees: float) -> np.ndarray:
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture
def window(main_window):
    geometry = ImageGeometry(SIZE, SPACING, (-20.0, 10.0, -50.0), _rotation(20))
    rng = np.random.default_rng(7)
    array = rng.integers(-200, 300, geometry.shape).astype(np.int16)
    main_window.state.set_volume(Volume(array, geometry, modality="CT", units="HU"))
    main_window.measurements.show()
    main_window.measurements.raise_()
    return main_window


def widget_point(view, index) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def drag(qtbot, view, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mousePress(view, Qt.MouseButton.LeftButton, modifier, start)
    for t in (0.3, 0.7, 1.0):
        QTest.mouseMove(view, start + (end - start) * t)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, modifier, end)


def _mm_between(view, a: QPoint, b: QPoint) -> float:
    """The patient distance between two widget points, from the index difference and the spacing alone."""
    delta = view.index_at(b) - view.index_at(a)
    return float(np.sqrt(np.sum((delta * np.asarray(SPACING)) ** 2)))


@pytest.mark.parametrize("name", ["axial", "coronal"])
def test_a_ruler_dragged_on_a_view_measures_patient_millimetres(window, qtbot, name):
    view = window.grid.slice_view(name)
    window.measurements.ruler_button.click()
    assert window.measurement_interaction.mode == "ruler" and window.tools.active is None
    centre = np.array(window.state.crosshair)
    offset = np.zeros(3)
    offset[view.axes.x_axis], offset[view.axes.y_axis] = 14, 4
    start, end = widget_point(view, centre - offset), widget_point(view, centre + offset)
    drag(qtbot, view, start, end)
    rulers = list(window.state.measurements.items.values())
    assert len(rulers) == 1 and window.isWindowModified()  # an unsaved edit, kept by sessions
    expected = _mm_between(view, start, end)
    assert rulers[0].length_mm == pytest.approx(expected, rel=1e-9)
    assert expected > 20  # 28 columns of 0.7 mm at least: spacing, not pixels, made the length
    assert window.measurements.table.item(0, 1).text() == f"{expected:.1f} mm"
    assert window.measurements.table.item(0, 2).text().startswith(name)
    middle = (start + end) / 2
    near = [view.grab().toImage().pixelColor(middle + QPoint(dx, dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert any(c.blue() > 200 and c.green() > 150 and c.red() < 150 for c in near)  # drawn on its slice
    window.state.step_slice(name, 1)
    away = [view.grab().toImage().pixelColor(middle + QPoint(dx, dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert not any(c.rgb() == RULER_COLOUR.rgb() for c in away)  # and not on the next slice
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert len(window.state.measurements.items) == 1  # a click without a drag draws nothing


def test_the_ellipse_roi_statistics_equal_numpy_on_the_same_pixels(window, qtbot):
    view = window.grid.slice_view("axial")
    window.measurements.ellipse_button.click()
    k = int(window.state.crosshair[2])
    start, end = widget_point(view, (12, 9, k)), widget_point(view, (40, 37, k))
    drag(qtbot, view, start, end)
    (roi,) = window.state.measurements.items.values()
    a, b = view.index_at(start), view.index_at(end)
    centre, semi = (a + b) / 2, np.abs(b - a) / 2
    jj, ii = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    inside = ((ii - centre[0]) / semi[0]) ** 2 + ((jj - centre[1]) / semi[1]) ** 2 <= 1
    values = window.state.volume.array[k][inside].astype(float)
    expected = {"pixels": int(inside.sum()), "no_value": 0, "mean": values.mean(), "sd": values.std(),
                "min": values.min(), "max": values.max(), "area_mm2": inside.sum() * SPACING[0] * SPACING[1]}
    assert window.measurements.table.item(0, 1).text() == ellipse_text(expected, "HU")
    assert roi.slice_axis == 2 and inside.sum() > 300
    drag(qtbot, view, start, QPoint(end.x(), start.y()))
    assert len(window.state.measurements.items) == 1  # a flat ellipse is not kept


def test_shift_draws_a_circle_in_millimetres(window, qtbot):
    view = window.grid.slice_view("axial")
    window.measurements.ellipse_button.click()
    k = int(window.state.crosshair[2])
    drag(qtbot, view, widget_point(view, (10, 10, k)), widget_point(view, (30, 20, k)),
         Qt.KeyboardModifier.ShiftModifier)
    (roi,) = window.state.measurements.items.values()
    g = window.state.volume.geometry
    extent = np.abs(g.patient_to_index(roi.corner_b) - g.patient_to_index(roi.corner_a)) * np.asarray(SPACING)
    assert extent[0] == pytest.approx(extent[1]) and extent[2] == 0


def test_recist_diameters_of_the_active_segment_on_the_slice(window, qtbot):
    k = int(window.state.crosshair[2])
    kk, jj, ii = np.ogrid[0:SIZE[2], 0:SIZE[1], 0:SIZE[0]]
    lesion = (((ii - 30) * 0.7 / 12) ** 2 + ((jj - 25) * 1.3 / 7) ** 2 <= 1) & (np.abs(kk - k) <= 1)
    segment = window.state.segmentation.add_segment("GTV", mask=lesion)
    window.state.segmentation.set_active(segment.id)
    QTest.mouseMove(window.grid.slice_view("axial"), window.grid.slice_view("axial").rect().center())
    window.measurements.recist_button.click()
    window.measurements.recist_button.click()  # again: the pair is replaced, not doubled
    found = sparse_segment_recist(segment.mask, window.state.volume.geometry, 2, k)
    rulers = list(window.state.measurements.items.values())
    assert [r.name for r in rulers] == [f"GTV long axis (axial {k + 1})", f"GTV short axis (axial {k + 1})"]
    assert rulers[0].length_mm == pytest.approx(found.longest.length_mm)
    assert rulers[1].length_mm == pytest.approx(found.perpendicular.length_mm)
    assert 22 < rulers[0].length_mm <= 24.1 and 12 < rulers[1].length_mm <= 14.1


def test_a_tool_and_a_measurement_mode_take_turns_and_rows_are_renamed_and_deleted(window, qtbot):
    window.measurements.ruler_button.click()
    window.tool_panel.buttons["paint"].click()
    assert window.measurement_interaction.mode is None and not window.measurements.ruler_button.isChecked()
    window.measurements.ellipse_button.click()
    assert window.tools.active is None
    g = window.state.volume.geometry
    window.state.measurements.add_ruler(*g.index_to_patient([[1, 1, 3], [5, 1, 3]]))
    window.measurements.table.item(0, 0).setText("tumour width")
    assert window.state.measurements.items[1].name == "tumour width"
    window.measurements.show_slice(0)
    assert window.state.crosshair[2] == 3
    window.measurements.table.setRangeSelected(QTableWidgetSelectionRange(0, 0, 0, 2), True)
    window.measurements.delete_selected()
    assert window.state.measurements.items == {} and window.measurements.table.rowCount() == 0


def test_the_ellipse_reads_the_tools_source_layer_once_resampled(main_window, qtbot):
    """STS_001: an ellipse over the GTV on the planning CT reads SUV from the PET layer when it is the source."""
    from medseg_app.core.measurements import ellipse_pixels
    from medseg_app.io.load import load_volume

    from .ui_test_data import SAMPLE_CT, SAMPLE_STUDY, open_and_wait

    window = main_window
    open_and_wait(qtbot, window, SAMPLE_CT)
    layer = window.state.study.add_layer(load_volume(str(SAMPLE_STUDY / "PET" / "dicom" / "image")))
    gtv = window.state.segmentation.by_name("GTV_Mass_CT").mask.to_dense()
    k = int(np.argmax(gtv.sum(axis=(1, 2))))
    j, i = np.nonzero(gtv[k])
    g = window.state.volume.geometry
    roi = window.state.measurements.add_ellipse(*g.index_to_patient([[i.min(), j.min(), k], [i.max(), j.max(), k]]),
                                                slice_axis=2)
    ct_text = window.measurements.table.item(0, 1).text()
    assert "HU" in ct_text
    window.tools.set_source_layer(layer.id)
    qtbot.waitUntil(lambda: window.state.study.cached_on_reference(layer.id) is not None and
                    not window.tool_worker.busy, timeout=30000)
    pixels = ellipse_pixels(g, roi)
    suv = window.state.study.cached_on_reference(layer.id).array[pixels.box][pixels.inside].astype(float)
    suv = suv[~np.isnan(suv)]
    text = window.measurements.table.item(0, 1).text()
    assert text.startswith(f"mean {suv.mean():.1f} ± {suv.std():.1f} SUV") and text != ct_text
    assert suv.max() > 2.5  # the tumour's uptake, not the CT's HU
