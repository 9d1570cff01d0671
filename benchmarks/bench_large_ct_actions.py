"""Working in the 512×512×1000 CT once it is open (benchmarks/large_ct.py; opened as bench_large_ct.py does).

``ct_1000_scroll``: ms from ``set_slice`` to the axial view having drawn the new slice, jumping between the first
and the last slice (every view and the 3-D planes follow the crosshair meanwhile), as a key press does; budget
200 ms. ``ct_1000_stroke``: ms for a 12-point brush stroke on the last axial slice, from the mouse press to the
repaint after the release; budget 200 ms. tests/ui3d/test_large_ct.py checks that both do what they should (the
slice shown, the stroke's voxels) without timing them. No peer. Needs no shared data.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.bench_large_ct import _large_ct_opener
from benchmarks.registry import Case, benchmark


def _widget_point(view, index):
    from medseg_app.core.display_axes import index_to_screen

    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


@benchmark("ct_1000_scroll")
def ct_1000_scroll(data: Path):
    """Jump between the first and last axial slice of the open 512×512×1000 CT, redrawn (ms; budget 200 ms)."""
    with _large_ct_opener() as (opener, _image):
        opener.open()
        window, app = opener.window, opener.app
        state, axial = window.state, window.grid.slice_view("axial")
        last = state.slice_count("axial") - 1

        def scroll() -> float:
            target = 0 if state.slice_index("axial") == last else last
            started = time.perf_counter()
            state.set_slice("axial", target)
            app.processEvents()  # every view and the 3-D planes follow the crosshair ...
            axial.repaint()  # ... and the axial view has drawn the new slice
            elapsed = (time.perf_counter() - started) * 1000.0
            if state.slice_index("axial") != target:
                raise RuntimeError(f"scrolled to {state.slice_index('axial')}, not {target}")
            return elapsed

        yield Case(ours=scroll, unit="ms", timed=False)


@benchmark("ct_1000_stroke")
def ct_1000_stroke(data: Path):
    """A 12-point brush stroke on the last axial slice of the open 512×512×1000 CT (ms; budget 200 ms)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    with _large_ct_opener() as (opener, _image):
        opener.open()
        window, app = opener.window, opener.app
        state, axial = window.state, window.grid.slice_view("axial")
        state.set_slice("axial", state.slice_count("axial") - 1)
        window.tool_panel.buttons["paint"].click()
        opener._run(0.2)
        strokes = [0]

        def stroke() -> float:
            k = state.slice_index("axial")
            i0, j0 = 120 + 20 * (strokes[0] % 10), 200 + 8 * (strokes[0] % 7)  # somewhere new each time
            strokes[0] += 1
            points = [_widget_point(axial, (i0 + 4 * n, j0 + 2 * n, k)) for n in range(12)]
            seg = state.segmentation
            before = seg.segments[seg.active_id].mask.count() if seg.active_id in seg.segments else 0
            started = time.perf_counter()
            QTest.mousePress(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            for point in points[1:]:
                QTest.mouseMove(axial, point)
            QTest.mouseRelease(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
            app.processEvents()
            axial.repaint()
            elapsed = (time.perf_counter() - started) * 1000.0
            opener._run(0.3)  # the 3-D surface of the stroke is built in the background, untimed
            if seg.segments[seg.active_id].mask.count() <= before:
                raise RuntimeError("the stroke painted nothing")
            return elapsed

        yield Case(ours=stroke, unit="ms", timed=False)
