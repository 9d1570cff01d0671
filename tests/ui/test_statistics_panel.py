"""The statistics dock in the real main window: the per-segment table, comparison, correction audit, copy, export."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from medseg_app.core.box import Box
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.overlap_metrics import compare_masks
from medseg_app.core.sitk_bridge import apply_geometry
from medseg_app.core.volume import Volume
from medseg_app.tools.base import EditContext
from medseg_app.tools.region_growing import RegionGrowingTool

from .ui_test_data import SAMPLE_CT, open_and_wait

SIZE = (40, 36, 14)  # (i, j, k)
SPACING = (0.8, 0.9, 2.0)
IBSI_STS_001_GTV_VOXELS = 117145  # IBSI phase 2 / radiomics reference count for STS_001 CT's GTV


def bright_block_volume() -> Volume:
    array = np.zeros(SIZE[::-1], np.int16)
    array[4:10, 8:24, 10:30] = 300  # one bright block: region growing from inside fills exactly it
    return Volume(array, ImageGeometry(size=SIZE, spacing=SPACING, origin=(5.0, -3.0, 10.0)),
                  modality="CT", units="HU")


def dense(shape, start_kji, stop_kji) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[tuple(slice(a, b) for a, b in zip(start_kji, stop_kji))] = True
    return mask


@pytest.fixture
def panel(main_window, qtbot):
    main_window.statistics.show()
    main_window.statistics.raise_()
    qtbot.waitUntil(main_window.statistics.isVisible)
    yield main_window.statistics
    main_window.statistics.shutdown()


@pytest.fixture
def synthetic(main_window, panel, qtbot):
    main_window.state.set_volume(bright_block_volume())
    seg = main_window.state.segmentation
    shape = seg.shape
    first = seg.add_segment("Reader A", mask=dense(shape, (4, 8, 10), (10, 24, 30)))
    second = seg.add_segment("Reader B", mask=dense(shape, (5, 10, 14), (11, 22, 33)))
    wait_table(panel, qtbot, 2)
    return main_window, first, second


def wait_table(panel, qtbot, rows: int, timeout=30000) -> None:
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.rowCount() == rows, timeout=timeout)


def column_values(table, key) -> list[str]:
    return [table.text(r, key) for r in range(table.rowCount())]


def test_table_shows_the_sample_gtv_voxel_count_and_volume(main_window, panel, qtbot):
    open_and_wait(qtbot, main_window, SAMPLE_CT)
    wait_table(panel, qtbot, 1, timeout=60000)
    table = panel.table
    volume = main_window.state.volume
    assert table.text(0, "name") == "GTV_Mass_CT"
    assert table.text(0, "voxels") == str(IBSI_STS_001_GTV_VOXELS)
    voxel_ml = float(np.prod(volume.spacing)) / 1000.0
    assert table.text(0, "volume_ml") == f"{IBSI_STS_001_GTV_VOXELS * voxel_ml:.3f}"
    headers = table.headers()
    assert "Volume (mL)" in headers and "Surface (mm²)" in headers and "Max diameter (mm)" in headers
    assert "Mean (HU)" in headers and "Median (HU)" in headers  # CT: intensities in HU
    assert panel.details.value_text("voxels") == str(IBSI_STS_001_GTV_VOXELS)  # the one-per-line view
    shown = [panel.details.item(r, 0).text() for r in range(panel.details.rowCount())]
    assert "Mean (HU)" in shown and "Volume (mL)" in shown
    mesh = float(table.text(0, "mesh_volume_ml"))
    assert abs(mesh - IBSI_STS_001_GTV_VOXELS * voxel_ml) / mesh < 0.05  # the mesh encloses about the voxels


def test_only_the_edited_segment_is_recomputed(synthetic, qtbot, monkeypatch):
    window, first, second = synthetic
    panel = window.statistics
    sent = []
    import medseg_app.ui.statistics.panel as module
    real_snapshot = module.snapshot
    monkeypatch.setattr(module, "snapshot", lambda seg, ids: sent.append(list(ids)) or real_snapshot(seg, ids))
    seg = window.state.segmentation
    with seg.gesture("Paint"):
        seg.modify(second.id, Box((0, 0, 0), (1, 2, 2)), np.ones((1, 2, 2), bool), "add")
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.text(1, "voxels") == str(second.mask.count()))
    assert sent == [[second.id]]
    assert panel.table.text(0, "voxels") == str(first.mask.count())


def test_comparing_two_segments_gives_compare_masks_numbers(synthetic, qtbot):
    window, first, second = synthetic
    panel = window.statistics
    panel.tabs.setCurrentWidget(panel.comparison)
    comparison = panel.comparison
    comparison.select(second.id, first.id)
    qtbot.waitUntil(lambda: bool(comparison.rows()) and comparison.rows()[0]["segment"] == "Reader B", timeout=20000)
    expected = compare_masks(second.mask.to_dense(), first.mask.to_dense(), np.asarray(SPACING)[::-1])
    row = comparison.rows()[0]
    assert row["reference"] == "Reader A"
    for key in ("dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm", "volume_diff_ml", "volume_diff_percent"):
        assert row[key] == pytest.approx(expected[key], rel=1e-12), key
    assert 0 < expected["dice"] < 1 and expected["hd_mm"] > 0
    assert comparison.table.value_text("dice") == f"{expected['dice']:.4f}"
    assert comparison.table.value_text("hd95_mm") == f"{expected['hd95_mm']:.2f}"
    assert comparison.table.value_text("volume_diff_percent") == f"{expected['volume_diff_percent']:.1f}"


def test_a_new_segment_is_compared_with_the_first(main_window, panel, qtbot):
    main_window.state.set_volume(bright_block_volume())
    seg = main_window.state.segmentation
    first = seg.add_segment("A", mask=dense(seg.shape, (4, 8, 10), (10, 24, 30)))
    panel.tabs.setCurrentWidget(panel.comparison)
    assert panel.comparison.first.currentData() == first.id and not panel.comparison.rows()
    second = seg.add_segment("B", mask=dense(seg.shape, (4, 8, 10), (10, 24, 20)))
    qtbot.waitUntil(lambda: bool(panel.comparison.rows()), timeout=20000)
    assert panel.comparison.second.currentData() == second.id
    assert panel.comparison.rows()[0]["dice"] == pytest.approx(2 * 0.5 / 1.5)


def write_mask(path, mask: np.ndarray, geometry: ImageGeometry) -> None:
    image = apply_geometry(sitk.GetImageFromArray(mask.astype(np.uint8)), geometry)
    sitk.WriteImage(image, str(path))


def test_reference_file_on_the_grid_is_compared_and_another_grid_refused(synthetic, qtbot, tmp_path, monkeypatch):
    window, first, second = synthetic
    comparison = window.statistics.comparison
    window.statistics.tabs.setCurrentWidget(comparison)
    geometry = window.state.volume.geometry
    reference = dense(geometry.shape, (4, 9, 12), (9, 20, 28))
    on_grid = tmp_path / "reference.nii.gz"
    write_mask(on_grid, reference, geometry)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(on_grid), ""))
    comparison.select(first.id, second.id)
    comparison.load_button.click()
    qtbot.waitUntil(lambda: bool(comparison.rows()) and comparison.rows()[0]["reference"] == "reference.nii.gz",
                    timeout=20000)
    expected = compare_masks(first.mask.to_dense(), reference, np.asarray(SPACING)[::-1])
    assert comparison.rows()[0]["dice"] == pytest.approx(expected["dice"])
    assert comparison.rows()[0]["hd95_mm"] == pytest.approx(expected["hd95_mm"])
    shifted = ImageGeometry(size=geometry.size, spacing=geometry.spacing, origin=geometry.origin + 5.0)
    off_grid = tmp_path / "other_grid.nrrd"
    write_mask(off_grid, reference, shifted)
    choices = comparison.second.count()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(off_grid), ""))
    comparison.load_button.click()
    qtbot.waitUntil(lambda: "not on the image's grid" in comparison.message.text(), timeout=20000)
    message = comparison.message.text()
    assert "other_grid.nrrd" in message and message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert comparison.second.count() == choices  # nothing was added


def test_audit_after_region_grow_then_paint(synthetic, qtbot):
    window, first, second = synthetic
    panel = window.statistics
    panel.tabs.setCurrentIndex(2)
    assert panel.audit_table.rowCount() == 0 and panel.audit_note.isVisible()
    seg = window.state.segmentation
    grown = seg.add_segment("Grown")
    tool = RegionGrowingTool(lower=200, upper=400)
    tool.activate(EditContext(window.state.volume, seg, segment_id=grown.id))
    tool.preview(seeds=[(20, 16, 7)])
    tool.apply()
    assert grown.proposal is not None and grown.source == "region growing"
    wait_table(panel, qtbot, 3)
    assert panel.audit_table.rowCount() == 0  # a proposal nobody has edited is not a correction
    block = window.state.volume.array == 300
    np.testing.assert_array_equal(grown.mask.to_dense(), block)
    with seg.gesture("Paint"):  # a brush stroke: 2 × 3 × 4 voxels next to the block, 1 × 2 inside it
        seg.modify(grown.id, Box((5, 24, 12), (7, 27, 16)), np.ones((2, 3, 4), bool), "add")
        seg.modify(grown.id, Box((4, 8, 10), (5, 10, 11)), np.ones((1, 2, 1), bool), "remove")
    qtbot.waitUntil(lambda: panel.up_to_date and panel.audit_table.rowCount() == 1, timeout=20000)
    row = panel.audit_table.rows()[0]
    voxel_ml = float(np.prod(SPACING)) / 1000.0
    assert row["segment"] == "Grown" and row["source"] == "region growing"
    assert row["added_ml"] == pytest.approx(24 * voxel_ml) and row["added_ml"] > 0
    assert row["removed_ml"] == pytest.approx(2 * voxel_ml)
    assert 0.9 < row["dice"] < 1 and row["hd95_mm"] >= 0
    assert panel.audit_table.text(0, "added_ml") == f"{24 * voxel_ml:.3f}"
    assert not panel.audit_note.isVisible()


def test_copy_puts_a_tsv_with_a_header_row_on_the_clipboard(synthetic):
    window, first, second = synthetic
    panel = window.statistics
    QApplication.clipboard().setText("")
    panel.copy_button.click()
    lines = QApplication.clipboard().text().splitlines()
    header = lines[0].split("\t")
    assert len(lines) == 3 and "name" in header and "voxels" in header and "volume_ml" in header
    for line, segment in zip(lines[1:], (first, second)):
        cells = dict(zip(header, line.split("\t")))
        assert cells["name"] == segment.name and int(cells["voxels"]) == segment.mask.count()


def test_csv_and_json_export_match_the_table(synthetic, tmp_path, monkeypatch):
    window, first, second = synthetic
    panel = window.statistics
    table = panel.table
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target["path"]), ""))
    target["path"] = tmp_path / "stats.csv"
    panel.csv_button.click()
    target["path"] = tmp_path / "stats"  # no suffix: .json is added
    panel.json_button.click()
    with open(tmp_path / "stats.csv", newline="") as stream:
        csv_rows = list(csv.DictReader(stream))
    json_rows = json.loads((tmp_path / "stats.json").read_text())
    assert len(csv_rows) == len(json_rows) == table.rowCount() == 2
    for r, (csv_row, json_row) in enumerate(zip(csv_rows, json_rows)):
        assert csv_row["name"] == json_row["name"] == table.text(r, "name")
        assert csv_row["voxels"] == str(json_row["voxels"]) == table.text(r, "voxels")
        for key, decimals in (("volume_ml", 3), ("surface_mm2", 1), ("mean", 2), ("max_diameter_mm", 1)):
            assert f"{float(csv_row[key]):.{decimals}f}" == table.text(r, key), key
            assert f"{json_row[key]:.{decimals}f}" == table.text(r, key), key
        assert [round(v, 1) for v in json_row["centroid_mm"]] == [
            float(v) for v in table.text(r, "centroid_mm").strip("()").split(", ")]


def test_nothing_is_computed_while_the_dock_is_hidden(main_window, qtbot):
    main_window.tool_panel.raise_()  # the statistics tab is behind the tools
    panel = main_window.statistics
    qtbot.waitUntil(lambda: not panel._on_screen)
    main_window.state.set_volume(bright_block_volume())
    main_window.state.segmentation.add_segment("A", mask=dense(main_window.state.segmentation.shape,
                                                                 (1, 1, 1), (3, 3, 3)))
    qtbot.wait(600)
    assert panel.table.rowCount() == 0 and not panel.worker.busy
    panel.raise_()
    wait_table(panel, qtbot, 1)
    assert panel.table.text(0, "voxels") == "8"
    main_window.statistics.shutdown()


def test_view_menu_toggles_the_dock(main_window, qtbot):
    action = main_window.statistics.toggleViewAction()
    assert action in main_window.menuBar().actions()[2].menu().actions()
    assert main_window.dockWidgetArea(main_window.statistics) == Qt.DockWidgetArea.RightDockWidgetArea
    action.trigger()
    assert main_window.statistics.isHidden()
    action.trigger()
    qtbot.waitUntil(main_window.statistics.isVisible)
