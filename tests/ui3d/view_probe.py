"""Run in a subprocess by test_three_d_view.py: show ThreeDView on a real (or offscreen) Qt platform, measure
what it draws, and write results.json and PNGs to the folder given as argv[1]."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from medseg_app.core.geometry import ImageGeometry  # noqa: E402
from medseg_app.core.viewer_state import ViewerState  # noqa: E402
from medseg_app.core.volume import Volume  # noqa: E402
from medseg_app.io import load_volume  # noqa: E402

SAMPLE_CT = REPO / "resources" / "sample" / "STS_001" / "CT" / "dicom" / "image"
T2S = REPO / "tests" / "data" / "sct_spinalcord_mri" / "t2s" / "t2s.nii.gz"


def save(rgb: np.ndarray, path: Path) -> None:
    QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888).save(str(path))


def settle(app: QApplication) -> None:
    for _ in range(10):
        app.processEvents()


def changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 8))


def oblique_blob_volume() -> tuple[Volume, tuple[int, int, int]]:
    """A rotated grid, dark but for a bright 3-voxel cube off centre at index ``blob``."""
    a, b = np.deg2rad(25), np.deg2rad(15)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    geometry = ImageGeometry(size=(40, 30, 24), spacing=(1.0, 1.5, 2.0), origin=(10.0, -20.0, 30.0),
                             direction=rz @ rx)
    array = np.zeros(geometry.shape, np.int16)
    blob = (8, 22, 6)
    i, j, k = blob
    array[k - 1:k + 2, j - 1:j + 2, i - 1:i + 2] = 1000
    return Volume(array, geometry, modality="CT", units="HU"), blob


def display_xy(view, point) -> tuple[int, int]:
    renderer = view.scene.renderer
    renderer.SetWorldPoint(*point, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    height = view.render_window.GetSize()[1]
    return int(round(x)), int(round(height - 1 - y))


def main(out: Path) -> None:
    from medseg_app.ui.three_d.view import ThreeDView

    app = QApplication.instance() or QApplication([])
    results: dict = {"platform": app.platformName()}
    for name, path in (("sample_ct", SAMPLE_CT), ("t2s", T2S)):
        state = ViewerState(load_volume(path))
        view = ThreeDView(state)
        view.resize(640, 520)
        view.show()
        settle(app)
        front = view.grab_rgb()
        save(front, out / f"{name}_anterior.png")
        camera = view.scene.renderer.GetActiveCamera()
        camera.Azimuth(35)
        camera.Elevation(25)
        turned = view.grab_rgb()
        save(turned, out / f"{name}_turned.png")
        hidden = []
        for plane in view.scene.planes:
            plane.set_visible(False)
            hidden.append(changed_fraction(turned, view.grab_rgb()))
            plane.set_visible(True)
        state.set_slice("axial", 2)
        settle(app)
        moved = view.grab_rgb()
        save(moved, out / f"{name}_moved.png")
        results[name] = {
            "shape": list(front.shape), "dtype": str(front.dtype), "front_std": float(front.std()),
            "front_lit": float(np.mean(front.max(axis=2) > 60)),
            "plane_share_when_hidden": hidden, "crosshair_changed": changed_fraction(turned, moved),
        }
        view.finalize()
        view.deleteLater()
        settle(app)

    volume, blob = oblique_blob_volume()
    state = ViewerState(volume)
    state.set_crosshair(blob)
    view = ThreeDView(state)
    view.resize(600, 600)
    view.show()
    settle(app)
    view.scene.renderer.GetActiveCamera().ParallelProjectionOn()
    view.reset_camera()
    rgb = view.grab_rgb()
    save(rgb, out / "oblique_blob.png")
    geometry = volume.geometry
    x, y = display_xy(view, geometry.index_to_patient(blob))
    mirrored = np.asarray(volume.size) - 1 - np.asarray(blob)
    mx, my = display_xy(view, geometry.index_to_patient(mirrored))
    results["blob"] = {"xy": [x, y], "value": rgb[y - 1:y + 2, x - 1:x + 2].mean(axis=(0, 1)).tolist(),
                       "mirrored_xy": [mx, my], "mirrored_value": rgb[my, mx].tolist()}
    view.finalize()
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
