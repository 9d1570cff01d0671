"""The segment list dock: add, delete, rename in place, recolour, show / hide, lock, opacity, active segment."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from medseg_app.core.viewer_state import ViewerState
from medseg_app.ui.segments.segment_list_panel import COLOUR, LOCK, NAME, SOURCE, VISIBLE, SegmentListPanel

from .ui_test_data import ramp_volume


@pytest.fixture
def panel(qtbot):
    state = ViewerState(ramp_volume())
    widget = SegmentListPanel(state)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_add_rename_recolour_hide_lock_opacity_delete(panel):
    seg = panel.state.segmentation
    panel.add_button.click()
    panel.add_button.click()
    assert panel.table.rowCount() == 2 and len(seg.segments) == 2
    first, second = list(seg.segments)
    assert seg.active_id == second and panel.table.currentRow() == 1
    panel.table.item(0, NAME).setText("Liver")  # what an inline edit commits
    assert seg.segments[first].name == "Liver"
    panel.choose_colour = lambda initial: QColor(10, 20, 30)
    panel.table.cellDoubleClicked.emit(0, COLOUR)
    assert seg.segments[first].colour == (10, 20, 30)
    panel.table.item(0, VISIBLE).setCheckState(Qt.CheckState.Unchecked)
    panel.table.item(0, LOCK).setCheckState(Qt.CheckState.Checked)
    assert not seg.segments[first].visible and seg.segments[first].locked
    panel.table.setCurrentCell(0, NAME)
    assert seg.active_id == first
    panel.opacity.setValue(80)
    assert seg.segments[first].opacity == pytest.approx(0.8)
    panel.delete_button.click()
    assert list(seg.segments) == [second] and panel.table.rowCount() == 1
    seg.undo()  # the deletion comes back, name and all
    assert panel.table.rowCount() == 2 and panel.table.item(0, NAME).text() == "Liver"


def test_list_follows_the_segmentation(panel):
    seg = panel.state.segmentation
    segment = seg.add_segment("Tumour")
    assert panel.table.item(0, NAME).text() == "Tumour" and panel.table.item(0, SOURCE).text() == "manual"
    seg.set_properties(segment.id, name="GTV", source="region growing")
    assert panel.table.item(0, NAME).text() == "GTV" and panel.table.item(0, SOURCE).text() == "region growing"
    labels = np.zeros(panel.state.volume.array.shape, np.uint8)
    labels[2:5, 3:6, 4:9] = 1
    panel.state.set_labels(labels, names={1: "GTV_Mass_CT"})  # a new study's label map replaces the list
    assert panel.table.rowCount() == 1 and panel.table.item(0, NAME).text() == "GTV_Mass_CT"


def test_empty_name_is_refused(panel, qtbot):
    panel.add_button.click()
    seg = panel.state.segmentation
    name = next(iter(seg.segments.values())).name
    panel.table.item(0, NAME).setText("  ")
    qtbot.waitUntil(lambda: panel.table.item(0, NAME).text() == name)
    assert next(iter(seg.segments.values())).name == name


def test_the_source_column_says_which_file_a_structure_was_read_from(panel):
    seg = panel.state.segmentation
    mask = np.zeros(panel.state.volume.array.shape, bool)
    mask[2:5, 3:6, 4:9] = True
    origins = [("RTSTRUCT", "RTSTRUCT ROI 'GTV_Mass' from RS.dcm"), ("SEG", "SEG segment 'Liver' from seg.dcm"),
               ("label map", "label map structure 'Cord' from labels.nii.gz")]
    for source, detail in origins:
        segment = seg.add_segment(source, source=source, mask=mask)
        seg.set_properties(segment.id, source_detail=detail)
    manual = seg.add_segment("Drawn")
    for row, (source, detail) in enumerate(origins):
        item = panel.table.item(row, SOURCE)
        assert (item.text(), item.toolTip()) == (source, detail)
    assert (panel.table.item(3, SOURCE).text(), panel.table.item(3, SOURCE).toolTip()) == ("manual", "manual")
    seg.set_properties(manual.id, source="SEG", source_detail="SEG segment 'Drawn' from other.dcm")  # in place
    assert panel.table.item(3, SOURCE).toolTip() == "SEG segment 'Drawn' from other.dcm"
    panel.refresh()  # rebuilt rows say the same
    assert [panel.table.item(r, SOURCE).text() for r in range(4)] == ["RTSTRUCT", "SEG", "label map", "SEG"]


def test_a_tool_filling_an_emptied_imported_segment_makes_it_that_tools(panel):
    from medseg_app.tools.base import EditContext
    from medseg_app.tools.threshold import ThresholdTool

    state, seg = panel.state, panel.state.segmentation
    segment = seg.add_segment("GTV_Mass", source="RTSTRUCT")  # an RTSTRUCT ROI whose voxels were all erased
    seg.set_properties(segment.id, source_detail="RTSTRUCT ROI 'GTV_Mass' from RS.dcm")
    tool = ThresholdTool(lower=float(state.volume.array.min()), upper=float(state.volume.array.max()))
    tool.activate(EditContext(state.volume, seg, segment.id))
    tool.preview()
    tool.apply()
    assert (segment.source, segment.source_detail) == ("threshold", "")
    item = panel.table.item(0, SOURCE)
    assert (item.text(), item.toolTip()) == ("threshold", "threshold")
