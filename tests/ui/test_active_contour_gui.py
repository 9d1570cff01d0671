"""Active contour in the main window on the sample PET: Play shows several intermediate contours, each step computed
off the GUI thread; Pause stops them; Apply writes the shown contour as one undo step; Cancel drops it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.ndimage as ndi
import SimpleITK as sitk

from medseg_app.io.load import load_volume
from medseg_app.tools.level_set_evolution import ContourEvolution

from .gui_ticks import TickGate
from .ui_test_data import SAMPLE_STUDY as SAMPLE

OPTIONS = dict(speed="region", lower=1.2, bubble_radius_mm=10.0, iterations_per_step=5, max_iterations=400,
               max_rms=0.0)


@pytest.fixture
def window(main_window):
    volume = load_volume(SAMPLE / "PET" / "dicom" / "image")
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(str(SAMPLE / "PET" / "nifti" / "mask" / "mask.nii.gz"))) > 0
    depth = ndi.distance_transform_edt(gtv, sampling=np.asarray(volume.spacing)[::-1])
    main_window.state.set_volume(volume)
    main_window.centre = tuple(int(v) for v in np.unravel_index(depth.argmax(), depth.shape)[::-1])
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def start_contour(window, qtbot):
    window.tool_panel.buttons["active_contour"].click()
    tools = window.tools
    assert tools.active.id == "active_contour"
    tools.active.set(**OPTIONS)
    widget = window.tool_panel.options["active_contour"]
    tools.add_seed(window.centre)  # a bubble: the evolution starts in the worker and shows the bubble
    qtbot.waitUntil(lambda: tools.evolution.evolution is not None and not tools.worker.busy, timeout=20000)
    assert tools.preview is not None and tools.evolution.steps_shown == 0
    return tools, widget


def test_play_shows_intermediate_contours_off_the_gui_thread_and_pause_stops_them(window, qtbot, monkeypatch):
    gate = TickGate(needed=2)
    step_threads: list[int] = []
    real_step = ContourEvolution.step

    def recorded(self, cancelled=None):
        step_threads.append(threading.get_ident())
        return real_step(self, cancelled)

    monkeypatch.setattr(ContourEvolution, "step", gate.hold(recorded))
    tools, widget = start_contour(window, qtbot)
    sizes = []
    tools.preview_changed.connect(lambda shown: shown and sizes.append(
        sum(int(region.sum()) for *_ignored, region, _mode in tools.preview.changes)))
    widget.play.click()
    assert tools.evolution.playing and not widget.play.isEnabled()
    qtbot.waitUntil(lambda: tools.evolution.steps_shown >= 4, timeout=30000)
    widget.pause.click()
    qtbot.waitUntil(lambda: not tools.worker.busy, timeout=20000)
    shown = tools.evolution.steps_shown
    ticks = gate.ticks
    qtbot.waitUntil(lambda: gate.ticks >= ticks + 20, timeout=20000)  # the GUI runs on: no step follows
    assert tools.evolution.steps_shown == shown and not tools.evolution.playing
    assert len(step_threads) == shown and gate.off_gui_thread  # every step in the worker, the GUI ticking
    assert len(sizes) >= 4 and sizes[-1] > sizes[0]  # several previews, the contour growing between them
    assert tools.evolution.evolution.iterations == 5 * shown
    assert "Iteration" in widget.status.text() and str(5 * shown) in widget.status.text()
    widget.step.click()  # one more step, then it stops again
    qtbot.waitUntil(lambda: tools.evolution.steps_shown == shown + 1 and not tools.worker.busy, timeout=20000)
    assert not tools.evolution.playing
    gate.stop()


def test_apply_writes_the_shown_contour_as_one_undo_step_and_cancel_drops_it(window, qtbot):
    tools, widget = start_contour(window, qtbot)
    seg = window.state.segmentation
    widget.step.click()
    widget.step.click()  # the second click while the first step runs is one more step, never two at once
    qtbot.waitUntil(lambda: tools.evolution.steps_shown >= 1 and not tools.worker.busy, timeout=20000)
    _sid, box, region, _mode = tools.preview.changes[0]
    expected = np.zeros(seg.shape, bool)
    expected[box.slices] = region
    tools.apply()
    segment = seg.segments[seg.active_id]
    np.testing.assert_array_equal(segment.mask.to_dense(), expected)
    assert tools.preview is None and tools.evolution.evolution is None
    assert seg.undo() is not None and not segment.mask.to_dense().any()  # one undo step
    tools.add_seed(window.centre)
    widget.play.click()
    qtbot.waitUntil(lambda: tools.evolution.steps_shown >= 2, timeout=30000)
    tools.cancel()
    qtbot.waitUntil(lambda: not tools.worker.busy, timeout=20000)
    assert tools.preview is None and tools.evolution.evolution is None and not tools.evolution.playing
    assert not segment.mask.to_dense().any()


def test_converged_evolution_stops_by_itself(window, qtbot):
    tools, widget = start_contour(window, qtbot)
    tools.active.set(max_iterations=15)  # three steps of five: the limit ends the play
    widget.play.click()
    qtbot.waitUntil(lambda: not tools.evolution.playing and not tools.worker.busy, timeout=30000)
    evolution = tools.evolution.evolution
    assert evolution.done and evolution.iterations == 15 and tools.evolution.steps_shown == 3
    assert "iteration limit" in widget.status.text() and widget.play.isEnabled()


def test_the_bubbles_range_is_prefilled_and_kept_when_one_bound_is_edited(window, qtbot):
    window.tool_panel.buttons["active_contour"].click()
    tools = window.tools
    tools.active.set(**{**OPTIONS, "lower": None, "upper": None})
    widget = window.tool_panel.options["active_contour"]
    tools.add_seed(window.centre)
    qtbot.waitUntil(lambda: tools.evolution.evolution is not None and not tools.worker.busy, timeout=20000)
    lower, upper = tools.evolution.evolution.values["lower"], tools.evolution.evolution.values["upper"]
    assert lower < upper
    assert widget.editors["lower"].value() == pytest.approx(lower, abs=0.01)
    assert widget.editors["upper"].value() == pytest.approx(upper, abs=0.01)
    assert tools.active.values["lower"] is None  # still "from the bubbles"
    widget.editors["lower"].setValue(1.2)  # the user types a lower bound: the shown upper one stays, explicit
    assert tools.active.values["lower"] == pytest.approx(1.2) and tools.active.values["upper"] == pytest.approx(upper)
