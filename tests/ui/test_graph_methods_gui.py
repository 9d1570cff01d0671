"""Graph cut and GrowCut in the real main window on the bundled STS_001 CT: seeds per segment (the object's with its
segment active, the background's with another), the last one clicked in the axial view; the preview is computed
off the GUI thread (counted), Apply writes what the headless editor writes from the same seeds in one undo step,
and GrowCut's next seed re-grows from the added seed only."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtCore import Qt

from medseg_app.io.load import load_volume
from medseg_app.tools.editor import SegmentEditor
from medseg_app.tools.mask_crops import spacing_kji
from medseg_app.tools.scribbles import scribbles_from_mask

from .gui_ticks import TickGate
from .test_segment_editing import widget_point
from .ui_test_data import SAMPLE_CT, SAMPLE_CT_MASK


@pytest.fixture
def window(main_window):
    volume = load_volume(str(SAMPLE_CT))
    main_window.state.set_volume(volume)
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(str(SAMPLE_CT_MASK))) > 0
    main_window.scribbles = scribbles_from_mask(gtv, spacing_kji(volume.geometry))
    main_window.gtv = gtv
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def _place(window, segment_id, voxels) -> None:
    """Seeds placed as clicks place them (with ``segment_id`` active), without a preview per seed."""
    tools = window.tools
    tools.seeds += [tuple(int(v) for v in voxel) for voxel in voxels]
    tools.seed_segments += [segment_id] * len(voxels)
    tools.seeds_changed.emit()


def _click(window, qtbot, voxel) -> None:
    window.state.set_slice("axial", int(voxel[2]))
    axial = window.grid.slice_view("axial")
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, tuple(int(v) for v in voxel)))


def _two_segments(window):
    seg = window.state.segmentation
    tumour, outside = seg.add_segment("Tumour").id, seg.add_segment("Background").id
    return seg, tumour, outside


def test_graph_cut_from_clicked_seeds_in_the_window(window, qtbot):
    foreground, background = window.scribbles
    seg, tumour, outside = _two_segments(window)
    panel, tools = window.tool_panel, window.tools
    seg.set_active(tumour)
    panel.buttons["graph_cut"].click()
    assert tools.active.id == "graph_cut" and tools.seed_mode
    options = panel.options["graph_cut"]
    _place(window, tumour, foreground)
    assert "no background seeds yet" in options.per_segment.text()
    seg.set_active(outside)
    _place(window, outside, background[:-1])
    gate = TickGate()
    tools.active.preview = gate.hold(tools.active.preview)
    _click(window, qtbot, background[-1])
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    gate.stop()
    assert gate.off_gui_thread
    assert tools.seeds[-1] == tuple(int(v) for v in background[-1]) and tools.seed_segments[-1] == outside
    assert options.per_segment.text().startswith(f"Object Tumour: {len(foreground)} seeds; background (Background)")
    steps = len(seg.undo_stack._undo)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    assert len(seg.undo_stack._undo) == steps + 1 and seg.segments[outside].mask.empty

    headless = SegmentEditor(window.state.volume)
    headless.add_segment("Tumour")
    headless.run("graph_cut", inputs={"foreground": foreground, "background": background})
    grown = seg.segments[tumour].mask.to_dense()
    np.testing.assert_array_equal(grown, headless.mask())
    assert 2 * np.count_nonzero(grown & window.gtv) / (grown.sum() + window.gtv.sum()) > 0.6  # 0.69 measured
    seg.undo()
    assert seg.segments[tumour].mask.empty


def test_growcut_next_seed_regrows_from_it_only(window, qtbot):
    foreground, background = window.scribbles
    seg, tumour, outside = _two_segments(window)
    panel, tools = window.tool_panel, window.tools
    panel.buttons["grow_competitive"].click()
    options = panel.options["grow_competitive"]
    combo = options.editors["method"]
    combo.setCurrentIndex(combo.findData("growcut"))
    assert tools.active.values["method"] == "growcut"
    seg.set_active(tumour)
    _place(window, tumour, foreground[1:])
    seg.set_active(outside)
    _place(window, outside, background)
    tools.request_preview()
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    first = tools.preview
    assert first.info["incremental"] is False and options.per_segment.text().endswith("grown in full")
    seg.set_active(tumour)
    _click(window, qtbot, foreground[0])
    qtbot.waitUntil(lambda: tools.preview is not first and tools.preview is not None
                    and not window.tool_worker.busy, timeout=30000)
    assert tools.preview.info["incremental"] is True
    assert options.per_segment.text().endswith("grown from the added seeds only")
    panel.apply_button.click()
    qtbot.waitUntil(lambda: tools.preview is None, timeout=10000)
    headless = SegmentEditor(window.state.volume)
    inside, rest = headless.add_segment("Tumour"), headless.add_segment("Background")
    headless.run("grow_competitive", method="growcut",
                 inputs={"seeds": {inside: foreground, rest: background}})
    np.testing.assert_array_equal(seg.segments[tumour].mask.to_dense(), headless.mask(inside))
    np.testing.assert_array_equal(seg.segments[outside].mask.to_dense(), headless.mask(rest))


def test_growcut_from_painted_segments_updates_when_a_segment_is_painted(window, qtbot):
    """Seeds from the segments (3D Slicer's way): Preview with no clicks; a stroke under the pending preview
    re-grows it from the stroke's voxels only."""
    from medseg_app.core.box import Box

    foreground, background = window.scribbles
    seg, tumour, outside = _two_segments(window)
    middle = np.unique(foreground[:, 2])[1]
    for segment_id, voxels in ((tumour, foreground[foreground[:, 2] != middle]), (outside, background)):
        mask = np.zeros(window.gtv.shape, bool)
        mask[tuple(voxels[:, ::-1].T)] = True
        box = Box.of_mask(mask)
        seg.modify(segment_id, box, mask[box.slices], "add")
    panel, tools = window.tool_panel, window.tools
    panel.buttons["grow_competitive"].click()
    options = panel.options["grow_competitive"]
    for name, value in (("method", "growcut"), ("seeds_from", "segments")):
        options.editors[name].setCurrentIndex(options.editors[name].findData(value))
    assert tools.active.values["seeds_from"] == "segments" and not tools.seeds
    panel.preview_button.click()
    qtbot.waitUntil(lambda: tools.preview is not None and not window.tool_worker.busy, timeout=30000)
    first = tools.preview
    assert first.info["incremental"] is False
    stroke = np.zeros(window.gtv.shape, bool)
    stroke[tuple(foreground[foreground[:, 2] == middle][:, ::-1].T)] = True
    box = Box.of_mask(stroke)
    seg.modify(tumour, box, stroke[box.slices], "add")  # what a brush stroke in the tumour does
    qtbot.waitUntil(lambda: tools.preview is not first and tools.preview is not None
                    and not window.tool_worker.busy, timeout=30000)
    assert tools.preview.info["incremental"] is True
    headless = SegmentEditor(window.state.volume)
    inside, rest = headless.add_segment("Tumour"), headless.add_segment("Background")
    expected = headless.run("grow_competitive", method="growcut",
                            inputs={"seeds": {inside: foreground, rest: background}})
    for (sid, box, region, _), (_, expected_box, expected_region, _) in zip(tools.preview.changes, expected.changes):
        assert box == expected_box
        np.testing.assert_array_equal(region, expected_region)
