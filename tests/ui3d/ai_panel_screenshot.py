"""A screenshot of the AI segmentation panel at work, in the real application (MEDSEG_TEST_SCRIPT hook).

Run from the repository root, under an X server:

    MEDSEG_TEST_SCRIPT=tests/ui3d/ai_panel_screenshot.py AI_SCREENSHOT=/tmp/ai_panel.png \\
        xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m medseg_app \\
        resources/sample/STS_001/PET/dicom/image

Once the sample's PET has loaded it shows the AI panel, picks the first box-prompted model (pet_gtv_box_unet
when it is installed; MEDSEG_MODELS_PATH may point elsewhere), drags a box around the sarcoma on the axial view
with real mouse events, runs the model, turns the uncertainty overlay on, and saves the window (3-D view
included) to $AI_SCREENSHOT. Exit status 0 when saved, 2 when the model could not run.
"""

import os
import sys

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from medseg_app.core.display_axes import index_to_screen

OUT = os.environ.get("AI_SCREENSHOT", "/tmp/ai_panel.png")
BOX_LPS = np.array([[20.0, -37.0, -840.0], [120.0, 62.0, -740.0]])  # around the STS_001 GTV (LPS mm)
panel = window.ai_panel  # noqa: F821 - the hook's globals: app, window
panel.report_error = lambda message: (print(f"ai screenshot: {message}", file=sys.stderr), app.exit(2))  # noqa: F821


def widget_point(view, index):
    x, y, _ = index_to_screen(view.state.volume.geometry, view.axes, index)
    return view.viewport.to_widget(x, y).toPoint()


def draw_box() -> None:
    geometry = window.state.volume.geometry  # noqa: F821
    lo, hi = geometry.patient_to_index(BOX_LPS)
    centre = np.rint((lo + hi) / 2).astype(int)
    window.state.set_crosshair(centre)  # noqa: F821
    axial = window.grid.slice_view("axial")  # noqa: F821
    panel.box_editor.draw_button.click()
    start, end = (lo[0], lo[1], centre[2]), (hi[0], hi[1], centre[2])
    QTest.mousePress(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(axial, start))
    for t in np.linspace(0, 1, 6):
        QTest.mouseMove(axial, widget_point(axial, [a + t * (b - a) for a, b in zip(start, end)]))
    QTest.mouseRelease(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(axial, end))


def start() -> None:
    panel.show_panel()
    boxed = [b.name for b in panel.bundles if b.needs_box]
    if not boxed:
        print("ai screenshot: no box-prompted model found", file=sys.stderr)
        app.exit(2)  # noqa: F821
        return
    panel.select_model("pet_gtv_box_unet" if "pet_gtv_box_unet" in boxed else boxed[0])
    draw_box()
    print(f"ai screenshot: box {panel.box_editor.corners.text()}", flush=True)
    panel.run_button.click()
    QTimer.singleShot(200, wait_for_result)


def wait_for_result() -> None:
    if panel.last is None:
        QTimer.singleShot(200, wait_for_result)
        return
    panel.uncertainty_box.setChecked(True)
    print(f"ai screenshot: {panel.status.text()}", flush=True)
    QTimer.singleShot(800, save_when_ready)


def save_when_ready() -> None:
    pending = getattr(window.three_d_view, "pending_surfaces", None)  # noqa: F821
    if pending is not None and pending():
        QTimer.singleShot(100, save_when_ready)
        return
    app.processEvents()  # noqa: F821
    for name in ("axial", "coronal", "sagittal"):
        window.grid.slice_view(name).repaint()  # noqa: F821
    saved = window.grab_with_three_d().save(OUT)  # noqa: F821
    print(f"ai screenshot: {'saved' if saved else 'could not save'} {OUT}", flush=True)
    app.exit(0 if saved else 2)  # noqa: F821


QTimer.singleShot(300, start)
