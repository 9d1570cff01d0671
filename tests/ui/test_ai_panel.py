"""The AI segmentation panel in the real main window: the model list, drawing the box (checked against the
geometry), Run with a network whose output is known, one-step undo, Cancel, the trust prompt, the uncertainty
overlay."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from ai_fixtures import ThresholdNet, box_unet_inference, write_bundle
from medseg_app.ai.bundle import read_bundle
from medseg_app.ai.inference import Predictor
from medseg_app.ai.trust import is_trusted
from medseg_app.core.display_axes import index_to_screen
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segment_display import screen_rect
from medseg_app.core.volume import Volume
from medseg_app.ui.ai.box_drawing import BOX_COLOUR

SIZE = (48, 40, 16)  # (i, j, k)
CENTRE = (22, 18, 8)
SPACING = (1.2, 1.0, 2.5)
DIRECTION = np.diag([-1.0, 1.0, 1.0])  # i runs to the patient's right: the axial view shows it flipped

BOX_INFERENCE = box_unet_inference({"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": 0.0,
                                    "a_max": 10.0, "b_min": 0.0, "b_max": 1.0, "clip": True})
WHOLE_INFERENCE = {  # a Model Zoo-like whole-image bundle: its configs hold Python ($), so it needs trust
    "imports": ["$import torch"],
    "network_def": {"_target_": "ai_fixtures.ThresholdNet", "threshold": 0.5},
    "preprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": 0.0, "a_max": 10.0, "b_min": 0.0,
         "b_max": 1.0, "clip": True}]},
    "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [8, 8, 8], "sw_batch_size": 1, "overlap": 0.0},
}


def blob_volume(modality="PT") -> Volume:
    """A smooth SUV blob (max 10) around CENTRE: the threshold network's answer is a ball."""
    geometry = ImageGeometry(size=SIZE, spacing=SPACING, origin=(30.0, -20.0, -100.0), direction=DIRECTION)
    k, j, i = np.indices(geometry.shape).astype(float)
    r2 = sum(((a - c) * s) ** 2 for a, c, s in zip((i, j, k), CENTRE, SPACING))
    array = (10.0 * np.exp(-r2 / (2 * 6.0 ** 2))).astype(np.float32)
    return Volume(array, geometry, modality=modality, units="SUV" if modality == "PT" else "HU")


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("MEDSEG_MODELS_PATH", str(root))
    monkeypatch.setenv("MEDSEG_MODELS", str(tmp_path / "no_shipped_models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data_home"))
    monkeypatch.setenv("MEDSEG_CONFIG_DIR", str(tmp_path / "config"))
    box = write_bundle(root / "box_unet", BOX_INFERENCE, _unet(), labels=("background", "GTV"), modality="PT")
    meta = json.loads((box / "configs" / "metadata.json").read_text())
    meta["eval_metrics"] = {"mean_dice_jittered_box": 0.812, "mean_dice_exact_box": 0.85}
    meta["description"] = "Box-prompted test model."
    (box / "configs" / "metadata.json").write_text(json.dumps(meta))
    write_bundle(root / "whole_zoo", WHOLE_INFERENCE, ThresholdNet(), modality="PT")
    return root


def _unet():
    from monai.networks.nets import UNet

    return UNet(3, 1, 2, (4, 8), (2,))


@pytest.fixture
def window(main_window, models):
    main_window.ai_panel.refresh_models()
    main_window.state.set_volume(blob_volume())
    main_window.ai_panel.show_panel()
    yield main_window
    main_window.ai_panel.runner.shutdown()


def widget_point(view, index) -> QPoint:
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def drag(qtbot, view, start, end) -> None:
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=widget_point(view, start))
    for t in np.linspace(0, 1, 5):
        qtbot.mouseMove(view, widget_point(view, [a + t * (b - a) for a, b in zip(start, end)]))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=widget_point(view, end))


def known_predictor(gain=8.0, calls=None):
    def make(bundle):
        if calls is not None:
            calls.append(bundle.name)
        predictor = Predictor(bundle, device="cpu")
        predictor.network = ThresholdNet(gain=gain)  # label = scaled SUV above 0.5, i.e. SUV > 5
        return predictor
    return make


def draw_default_box(qtbot, window):
    axial = window.grid.slice_view("axial")
    window.state.set_crosshair(CENTRE)
    window.ai_panel.box_editor.draw_button.click()
    drag(qtbot, axial, (CENTRE[0] - 8, CENTRE[1] - 7, CENTRE[2]), (CENTRE[0] + 8, CENTRE[1] + 7, CENTRE[2]))
    return window.ai_panel.drawing.box


def test_model_list_shows_the_bundle_summary(window):
    panel = window.ai_panel
    assert [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())] == ["box_unet", "whole_zoo"]
    panel.select_model("box_unet")
    text = {row: label.text() for row, label in panel.info.values.items()}
    assert text["Network"] == "UNet" and text["Modality"] == "PET" and text["Labels"] == "GTV"
    assert text["Input spacing"].startswith("from the box") and text["Box"].startswith("draw a box")
    assert text["Accuracy"] == "mean Dice 0.812 (held-out, jittered boxes)"
    assert text["Python code"] == "no" and text["Description"] == "Box-prompted test model."
    assert not panel.info.warning.isVisibleTo(panel) and panel.box_group.isVisibleTo(panel)
    assert not panel.run_button.isEnabled()  # a box model without a box
    assert panel.device_label.text().startswith("Device: ")
    panel.select_model("whole_zoo")
    assert panel.info.values["Box"].text().startswith("not needed") and not panel.box_group.isVisibleTo(panel)
    assert panel.info.values["Python code"].text().startswith("yes") and panel.run_button.isEnabled()
    window.state.set_volume(blob_volume("CT"))  # a PET model on a CT image: warned
    assert panel.info.warning.isVisibleTo(panel) and "PET" in panel.info.warning.text()
    assert "CT" in panel.info.warning.text()


def test_drawn_box_maps_to_lps_and_is_drawn_on_the_views_it_meets(window, qtbot):
    panel, geometry = window.ai_panel, window.state.volume.geometry
    axial, sagittal = window.grid.slice_view("axial"), window.grid.slice_view("sagittal")
    (i0, j0), (i1, j1), k = (14, 11), (30, 25), CENTRE[2]
    window.state.set_crosshair(CENTRE)
    panel.select_model("box_unet")
    panel.box_editor.draw_button.click()
    drag(qtbot, axial, (i0, j0, k), (i1, j1, k))
    box = panel.drawing.box
    assert box is not None and tuple(window.state.crosshair) == CENTRE  # the drag did not move the crosshair
    # In plane: the dragged voxel centres (within the widget's pixel rounding); depth along k: the mean of the
    # rectangle's sides in mm, centred on the slice shown.
    depth_mm = ((i1 - i0) * SPACING[0] + (j1 - j0) * SPACING[1]) / 2
    lo = np.array([i0, j0, k - depth_mm / 2 / SPACING[2]])
    hi = np.array([i1, j1, k + depth_mm / 2 / SPACING[2]])
    np.testing.assert_allclose(box.lo, lo, atol=0.1)
    np.testing.assert_allclose(box.hi, hi, atol=0.1)
    corners = np.array([[30.0 - SPACING[0] * i, -20.0 + SPACING[1] * j, -100.0 + SPACING[2] * kk]
                        for i, j, kk in (lo, hi)])  # origin + direction @ (spacing * index), direction diag(-1,1,1)
    np.testing.assert_allclose(box.lps_corners(geometry), np.sort(corners, axis=0), atol=0.15)
    assert panel.run_button.isEnabled()
    assert "Box (LPS mm)" in panel.box_editor.corners.text()
    # The outline shows on the axial slice, and on the sagittal slice through the box; not on a slice outside.
    for view in (axial, sagittal):
        assert _box_pixels(view) > 20, view.view
    window.state.set_slice("axial", 0)
    assert _box_pixels(axial) == 0
    window.state.set_crosshair(CENTRE)
    # Redrawn on the sagittal view (through the box): its two extents (j, k) change, the extent along i stays.
    drag(qtbot, sagittal, (CENTRE[0], 12, 5), (CENTRE[0], 22, 11))
    refined = panel.drawing.box
    np.testing.assert_allclose([refined.lo[0], refined.hi[0]], [box.lo[0], box.hi[0]])
    np.testing.assert_allclose([refined.lo[1], refined.hi[1], refined.lo[2], refined.hi[2]], [12, 22, 5, 11],
                               atol=0.1)
    # The size spin box along S–I sets the depth (about the centre).
    names = [label.text() for label in panel.box_editor.axis_labels]
    assert names == ["L–R", "A–P", "S–I"]
    panel.box_editor.spins[2].setValue(10.0)
    resized = panel.drawing.box
    assert resized.size_mm(geometry)[2] == pytest.approx(10.0)
    assert (resized.lo[2] + resized.hi[2]) / 2 == pytest.approx(8.0, abs=0.1)
    panel.box_editor.clear_button.click()
    assert panel.drawing.box is None and not panel.run_button.isEnabled()


def _box_pixels(view) -> int:
    image = view.grab().toImage()
    rgb = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width())]
                    for y in range(0, image.height())])
    return int((np.abs(rgb - np.array(BOX_COLOUR.getRgb()[:3])).sum(axis=-1) < 30).sum())


def test_run_adds_one_ai_segment_in_one_undo_step(window, qtbot):
    panel, seg = window.ai_panel, window.state.segmentation
    panel.runner.make_predictor = known_predictor()
    panel.select_model("box_unet")
    box = draw_default_box(qtbot, window)
    steps = len(seg.undo_stack._undo)
    panel.run_button.click()
    assert not panel.run_button.isEnabled() and panel.progress.isVisibleTo(panel)
    qtbot.waitUntil(lambda: len(seg.segments) == 1, timeout=120000)
    segment = next(iter(seg.segments.values()))
    assert segment.name == "GTV" and segment.source == "AI model" and segment.source_detail == "box_unet"
    assert seg.active_id == segment.id
    mask = segment.mask.to_dense()
    assert segment.proposal is not None and np.array_equal(segment.proposal.to_dense(), mask)
    # The known network: SUV > 5 inside the region the model saw around the box.
    region = panel.last.result.region
    expected = np.zeros(mask.shape, bool)
    expected[region.slices] = window.state.volume.array[region.slices] > 5.0
    dice = 2 * (mask & expected).sum() / (mask.sum() + expected.sum())
    assert mask.sum() > 50 and dice > 0.9
    outside = np.ones(mask.shape, bool)
    outside[region.slices] = False
    assert not mask[outside].any()
    assert box.voxel_box().intersection(region) == box.voxel_box()  # the model saw the whole box
    assert "GTV" in panel.status.text() and "mL" in panel.status.text()
    assert panel.device_label.text() == "Device: CPU"
    assert len(seg.undo_stack._undo) == steps + 1 and seg.undo_stack.undo_title() == "AI segmentation (box_unet)"
    qtbot.waitUntil(lambda: window.undo_action.isEnabled())
    window.undo_action.trigger()
    assert not seg.segments
    window.redo_action.trigger()
    assert np.array_equal(next(iter(seg.segments.values())).mask.to_dense(), mask)
    # A second run does not reuse the name.
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(seg.segments) == 2, timeout=60000)
    assert [s.name for s in seg.segments.values()] == ["GTV", "GTV (box_unet)"]


def test_uncertainty_overlay_changes_pixels_inside_the_region_only_when_on(window, qtbot):
    panel, seg = window.ai_panel, window.state.segmentation
    axial = window.grid.slice_view("axial")
    panel.runner.make_predictor = known_predictor()
    panel.select_model("box_unet")
    draw_default_box(qtbot, window)
    assert not panel.uncertainty_box.isEnabled() and not panel.uncertainty_box.isChecked()
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(seg.segments) == 1, timeout=120000)
    assert panel.uncertainty_box.isEnabled() and not panel.uncertainty_box.isChecked()  # off by default
    off = _rendered(axial)
    panel.uncertainty_box.setChecked(True)
    on = _rendered(axial)
    region = panel.last.result.region
    y0, y1, x0, x1 = screen_rect(region, axial.axes, window.state.volume.array.shape)
    changed = (on != off).any(axis=-1)
    inside = np.zeros(changed.shape, bool)
    inside[max(y0, 0):y1, max(x0, 0):x1] = True
    assert changed.sum() > 10 and not changed[~inside].any()
    panel.uncertainty_box.setChecked(False)
    np.testing.assert_array_equal(_rendered(axial), off)
    panel.uncertainty_box.setChecked(True)
    window.state.set_volume(blob_volume())  # a new study clears it
    assert not panel.uncertainty_box.isChecked() and not panel.uncertainty_box.isEnabled()
    assert axial.heat is None and panel.drawing.box is None


def _rendered(view) -> np.ndarray:
    view._image()
    return view._rendering.rgba.view(np.uint8).reshape(*view._rendering.rgba.shape, 4)[..., :3].copy()


class GatedNet(torch.nn.Module):
    """ThresholdNet that waits at its first window until ``gate`` opens: a run that is still going."""

    def __init__(self, gate: threading.Event, calls: list):
        super().__init__()
        self.inner, self.gate, self.calls = ThresholdNet(), gate, calls

    def forward(self, x):
        self.calls.append(1)
        self.gate.wait(30)
        return self.inner(x)


def test_trust_prompt_no_runs_nothing_and_yes_runs(window, qtbot, monkeypatch):
    panel, seg = window.ai_panel, window.state.segmentation
    made = []
    panel.runner.make_predictor = known_predictor(calls=made)
    panel.select_model("whole_zoo")
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.No)
    panel.run_button.click()
    assert len(asked) == 1 and "runs Python code" in asked[0] and "Trust it?" in asked[0]
    assert not panel.runner.busy and not made and not seg.segments
    assert not is_trusted(panel.current_bundle()) and "not trusted" in panel.status.text()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Yes)
    panel.run_button.click()
    assert is_trusted(read_bundle(panel.current_bundle().path))
    qtbot.waitUntil(lambda: len(seg.segments) == 1, timeout=120000)
    assert made == ["whole_zoo"] and len(asked) == 2
    panel.run_button.click()  # trusted now: not asked again; the predictor is cached
    qtbot.waitUntil(lambda: len(seg.segments) == 2, timeout=60000)
    assert len(asked) == 2 and made == ["whole_zoo"]


def test_cancel_stops_the_run_and_adds_nothing(window, qtbot, monkeypatch):
    panel, seg = window.ai_panel, window.state.segmentation
    gate, calls = threading.Event(), []

    def make(bundle):
        predictor = Predictor(bundle, device="cpu", trusted=True)
        predictor.network = GatedNet(gate, calls)
        return predictor

    panel.runner.make_predictor = make
    panel.select_model("whole_zoo")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=120000)  # inside the first of 60 sliding windows
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    assert not panel.runner.busy and not panel.progress.isVisibleTo(panel) and panel.run_button.isEnabled()
    gate.set()
    panel.runner.worker.wait()
    qtbot.wait(50)
    assert len(calls) <= 2 and not seg.segments and "Cancelled" in panel.status.text()
    assert len(seg.undo_stack._undo) == 0
    # A run still going when another image opens is stopped, and nothing reaches the new segmentation.
    gate.clear()
    calls.clear()
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=60000)
    window.state.set_volume(blob_volume())
    assert not panel.runner.busy
    gate.set()
    panel.runner.worker.wait()
    qtbot.wait(50)
    assert not window.state.segmentation.segments


def test_errors_are_one_sentence(window, qtbot):
    panel, seg = window.ai_panel, window.state.segmentation
    errors = []
    panel.report_error = errors.append
    panel.runner.make_predictor = known_predictor()
    panel.select_model("box_unet")
    draw_default_box(qtbot, window)
    from medseg_app.core.prompt_box import PromptBox
    panel.drawing.set_box(PromptBox((500.0, 500.0, 500.0), (510.0, 510.0, 510.0)))  # off the image
    panel.run_button.click()
    qtbot.waitUntil(lambda: bool(errors), timeout=120000)
    assert "outside" in errors[0] and errors[0].endswith(".") and "\n" not in errors[0] and not seg.segments
    assert "could not run" in panel.status.text()


def test_a_click_in_box_mode_moves_the_crosshair(window, qtbot):
    panel, axial = window.ai_panel, window.grid.slice_view("axial")
    panel.select_model("box_unet")
    panel.box_editor.draw_button.click()
    target = (10, 12, CENTRE[2])
    window.state.set_crosshair(CENTRE)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=widget_point(axial, target))
    assert tuple(window.state.crosshair) == target and panel.drawing.box is None
    window.tool_panel.buttons["paint"].click()  # picking a tool leaves box mode
    assert not panel.drawing.drawing and not panel.box_editor.draw_button.isChecked()
    panel.box_editor.draw_button.click()  # and box mode leaves the tool
    assert window.tools.active is None
