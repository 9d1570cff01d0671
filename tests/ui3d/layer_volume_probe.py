"""Run in a subprocess by test_layer_volume_rendering.py: the 3-D view's volume rendering of a study's other layer
(the sample's PET over its CT), placed by the layer's transform; writes results.json and PNGs to argv[1]."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from view_probe import changed_fraction, save, settle  # noqa: E402

from medseg_app.core.layer_transform import LayerTransform  # noqa: E402
from medseg_app.core.viewer_state import ViewerState  # noqa: E402
from medseg_app.io import load_volume  # noqa: E402

SAMPLE = REPO / "resources" / "sample" / "STS_001"


def patient_bounds(volume) -> list[float]:
    """x0, x1, y0, y1, z0, z1 (LPS mm) of the voxel centres' box, as VTK reports a volume's bounds."""
    corners = np.array([[i, j, k] for i in (0, volume.size[0] - 1) for j in (0, volume.size[1] - 1)
                        for k in (0, volume.size[2] - 1)], float)
    points = volume.geometry.index_to_patient(corners)
    return [float(v) for pair in zip(points.min(0), points.max(0)) for v in pair]


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication([])
    from medseg_app.ui.three_d.panel import ThreeDPanel
    from medseg_app.ui.three_d.view import ThreeDView

    ct = load_volume(SAMPLE / "CT" / "dicom" / "image")
    pet = load_volume(SAMPLE / "PET" / "dicom" / "image")
    state = ViewerState(ct)
    view = ThreeDView(state)
    panel = ThreeDPanel(view)
    panel.resize(640, 560)
    panel.show()
    settle(app)
    results = {"combo_visible_alone": panel.layer_combo.isVisible()}
    layer = state.study.add_layer(pet)
    settle(app)
    results["combo_items"] = [panel.layer_combo.itemText(n) for n in range(panel.layer_combo.count())]
    results["combo_visible"] = panel.layer_combo.isVisible()
    for plane in view.scene.planes:
        plane.set_visible(False)
    blank = view.grab_rgb()
    panel.volume_button._choose("pet_mip")
    panel.layer_combo.setCurrentIndex(panel.layer_combo.findData(layer.id))
    rgb = view.grab_rgb()
    save(rgb, out / "pet_layer_mip.png")
    rendering = view.volume_rendering
    results["pet"] = {"is_pet": rendering.volume is pet, "std": float(rgb.std()),
                      "changed": changed_fraction(blank, rgb), "bounds": list(rendering.actor.GetBounds()),
                      "expected": patient_bounds(pet)}
    state.study.set_transform(layer.id, LayerTransform.rigid((30.0, 0.0, 0.0)))  # the layer lies 30 mm to +x
    settle(app)
    moved = view.grab_rgb()
    results["moved"] = {"bounds": list(rendering.actor.GetBounds()), "changed": changed_fraction(rgb, moved)}
    state.study.remove_layer(layer.id)
    settle(app)
    results["after_removal"] = {"is_ct": rendering.volume is ct, "combo_visible": panel.layer_combo.isVisible(),
                                "bounds": list(rendering.actor.GetBounds()), "expected": patient_bounds(ct)}
    view.finalize()
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
