"""The main window on the bundled sample: label overlay, cursor readout against SimpleITK, maximise, recent, drop."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from medseg_app.core.display_axes import index_to_screen

from .ui_test_data import SAMPLE_CT, SAMPLE_CT_MASK, open_and_wait


@pytest.fixture
def sample_window(qtbot, main_window):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    return main_window


@pytest.fixture(scope="module")
def sitk_ct():
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(SAMPLE_CT / "image")))
    return reader.Execute()


def test_sample_opens_with_its_gtv_label_map(sample_window):
    state = sample_window.state
    assert state.volume.size == (198, 202, 59) and state.volume.units == "HU"
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(SAMPLE_CT_MASK)))
    assert state.labels is not None and state.labels.sum() > 1000
    np.testing.assert_array_equal(state.labels, mask)
    # the GTV now comes from the RTSTRUCT (the same voxels as the NIfTI twin, which is no longer read)
    assert "RS.dcm" in sample_window.statusBar().currentMessage()


@pytest.mark.parametrize("index", [(10, 20, 5), (99, 101, 29), (150, 60, 44), (197, 201, 58)])
def test_status_bar_shows_index_lps_and_value_of_the_voxel_under_the_mouse(qtbot, sample_window, sitk_ct, index):
    i, j, k = index
    view = sample_window.grid.slice_view("axial")
    sample_window.state.set_slice("axial", k)
    x, y, _ = index_to_screen(sample_window.state.volume.geometry, view.axes, index)
    qtbot.mouseMove(view, view.viewport.to_widget(x, y).toPoint())
    qtbot.waitUntil(lambda: sample_window.readout.text().startswith(f"voxel ({i}, {j}, {k})"))
    text = sample_window.readout.text()
    px, py, pz = sitk_ct.TransformIndexToPhysicalPoint((i, j, k))
    value = sitk.GetArrayViewFromImage(sitk_ct)[k, j, i]
    assert f"LPS ({px:.1f}, {py:.1f}, {pz:.1f}) mm" in text
    assert f"value {float(value):.0f} HU" in text


def test_readout_clears_off_the_image(qtbot, sample_window):
    view = sample_window.grid.slice_view("sagittal")
    view.hovered.emit((1, 2, 3))
    assert sample_window.readout.text()
    qtbot.mouseMove(view, QPoint(2, view.height() // 2))  # the letterbox left of the slice
    qtbot.waitUntil(lambda: sample_window.readout.text() == "")


def test_click_in_axial_moves_coronal_and_sagittal_sliders(qtbot, sample_window):
    grid = sample_window.grid
    view = grid.slice_view("axial")
    target = (40, 150, sample_window.state.slice_index("axial"))
    x, y, _ = index_to_screen(sample_window.state.volume.geometry, view.axes, target)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.viewport.to_widget(x, y).toPoint())
    assert grid.panels["sagittal"].slider.value() == 40
    assert grid.panels["coronal"].slider.value() == 150


def test_maximise_button_and_double_click_toggle_a_view(qtbot, sample_window):
    grid = sample_window.grid
    sagittal = grid.panels["sagittal"]
    small = sagittal.width()
    qtbot.mouseClick(sagittal.title_bar.maximise_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sagittal.width() > 1.5 * small)
    assert grid.maximised == "sagittal"
    assert all(grid.panels[v].isHidden() for v in ("axial", "coronal", "3d"))
    qtbot.mouseClick(sagittal.title_bar.maximise_button, Qt.MouseButton.LeftButton)
    assert grid.maximised is None and not any(p.isHidden() for p in grid.panels.values())
    qtbot.mouseDClick(grid.slice_view("axial"), Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert grid.maximised == "axial" and grid.panels["sagittal"].isHidden()
    qtbot.mouseDClick(grid.slice_view("axial"), Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert grid.maximised is None


def test_window_drag_in_a_view_updates_the_bar(qtbot, sample_window):
    bar, view = sample_window.window_level_bar, sample_window.grid.slice_view("coronal")
    qtbot.mousePress(view, Qt.MouseButton.RightButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(150, 100))
    qtbot.mouseRelease(view, Qt.MouseButton.RightButton, pos=QPoint(150, 100))
    assert sample_window.state.window.window > 400
    assert bar.window_spin.value() == pytest.approx(sample_window.state.window.window, abs=0.5)
    assert bar.preset_box.currentText() == "Custom"


def test_opened_paths_go_to_open_recent(qtbot, sample_window):
    assert sample_window.recent.paths()[0] == str(SAMPLE_CT.resolve())
    sample_window._fill_recent_menu()
    texts = [a.text() for a in sample_window.recent_menu.actions()]
    assert str(SAMPLE_CT.resolve()) in texts


def test_dropping_a_file_opens_it(qtbot, main_window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SAMPLE_CT_MASK))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(300, 300), *args)
    QApplication.sendEvent(main_window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(main_window.study_loaded, timeout=30000):
        QApplication.sendEvent(main_window, QDropEvent(QPointF(300, 300), *args))
    assert main_window.state.volume.source_path.endswith("mask.nii.gz")


def test_each_menu_appears_once_and_segment_holds_ai_and_copy(main_window):
    titles = [a.text().replace("&", "") for a in main_window.menuBar().actions() if a.menu() is not None]
    assert len(titles) == len(set(titles)), titles
    segment = next(a.menu() for a in main_window.menuBar().actions()
                   if a.menu() is not None and a.text().replace("&", "") == "Segment")
    entries = [a.text().replace("&", "") for a in segment.actions()]
    assert any("AI segmentation" in e for e in entries) and any("Copy segments" in e for e in entries)
