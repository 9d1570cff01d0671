"""Run in a subprocess by test_surface_view.py: ThreeDView's segment surfaces and volume rendering, measured;
writes results.json and PNGs to the folder given as argv[1]."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from view_probe import changed_fraction, save, settle  # noqa: E402

from medseg_app.core.box import Box  # noqa: E402
from medseg_app.core.geometry import ImageGeometry  # noqa: E402
from medseg_app.core.viewer_state import ViewerState  # noqa: E402
from medseg_app.core.volume import Volume  # noqa: E402
from medseg_app.io import load_volume  # noqa: E402
from medseg_app.render.segment_surfaces import surface_arrays  # noqa: E402

SAMPLE = REPO / "resources" / "sample" / "STS_001"


def wait_ready(app: QApplication, view, timeout_s: float = 60.0) -> float:
    start = time.perf_counter()
    while True:
        app.processEvents()
        if not view.pending_surfaces() and not view._coalesce.isActive():
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("surfaces were not built in time")
        time.sleep(0.005)


def red_share(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., n].astype(int) for n in range(3))
    return float(np.mean((r > 120) & (r > 2 * g) & (r > 2 * b)))


def sample_gtv(app, out: Path) -> dict:
    from medseg_app.ui.three_d.view import ThreeDView

    ct = load_volume(SAMPLE / "CT" / "dicom" / "image")
    labels = load_volume(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz").array
    state = ViewerState(ct)
    view = ThreeDView(state)
    view.resize(640, 520)
    view.show()
    state.set_labels(labels, names={1: "GTV"})
    built_in = wait_ready(app, view)
    settle(app)
    gtv = next(iter(state.segmentation.segments))
    with_planes = view.grab_rgb()
    save(with_planes, out / "sample_gtv.png")
    for plane in view.scene.planes:
        plane.set_visible(False)
    alone = view.grab_rgb()
    save(alone, out / "sample_gtv_alone.png")
    results = {"built_in_s": built_in, "actors": sorted(view.surfaces.actors), "gtv": gtv,
               "red_with_planes": red_share(with_planes), "red_alone": red_share(alone),
               "colour": list(view.surfaces.actors[gtv].GetProperty().GetColor())}
    view.surfaces.actors[gtv].SetVisibility(False)
    blank = view.grab_rgb()
    view.surfaces.actors[gtv].SetVisibility(True)
    results["volume"] = {}
    for preset in ("ct_bone", "ct_soft_tissue"):
        view.set_volume_rendering(preset)
        rgb = view.grab_rgb()
        save(rgb, out / f"volume_{preset}.png")
        results["volume"][preset] = {"std": float(rgb.std()), "changed": changed_fraction(blank, rgb)}
    view.set_volume_rendering(None)
    results["volume_off_changed"] = changed_fraction(alone, view.grab_rgb())
    view.finalize()
    view.deleteLater()
    settle(app)

    pet = load_volume(SAMPLE / "PET" / "dicom" / "image")
    state = ViewerState(pet)
    view = ThreeDView(state)
    view.resize(640, 520)
    view.show()
    settle(app)
    for plane in view.scene.planes:
        plane.set_visible(False)
    blank = view.grab_rgb()
    view.set_volume_rendering("pet_mip")
    rgb = view.grab_rgb()
    save(rgb, out / "volume_pet_mip.png")
    results["volume"]["pet_mip"] = {"std": float(rgb.std()), "changed": changed_fraction(blank, rgb),
                                    "blend": view.volume_rendering.mapper.GetBlendMode()}
    view.finalize()
    view.deleteLater()
    settle(app)
    return results


def incremental(app) -> dict:
    from medseg_app.ui.three_d.view import ThreeDView

    geometry = ImageGeometry(size=(64, 60, 40), spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0))
    state = ViewerState(Volume(np.zeros(geometry.shape, np.int16), geometry, modality="CT", units="HU"))
    view = ThreeDView(state)
    view.resize(300, 300)
    view.show()
    seg = state.segmentation
    first = np.zeros(geometry.shape, bool)
    first[10:20, 10:30, 10:30] = True
    second = np.zeros(geometry.shape, bool)
    second[25:35, 30:50, 30:50] = True
    a = seg.add_segment("A", mask=first).id
    b = seg.add_segment("B", mask=second).id
    wait_ready(app, view)
    r = {"a": a, "b": b, "after_add": dict(view.surface_builds)}
    for n in range(6):  # a brush stroke: six dabs in quick succession
        dab = np.ones((2, 3, 3), bool)
        seg.modify(a, Box((20, 12 + n, 12), (22, 15 + n, 15)), dab, "add")
    wait_ready(app, view)
    r["after_stroke"] = dict(view.surface_builds)
    expected = surface_arrays(seg.segments[a].mask, geometry)[1]
    r["a_triangles"] = [view.surfaces.triangle_count(a), len(expected)]
    seg.set_properties(b, colour=(0, 255, 0))
    seg.set_properties(b, opacity=0.2)
    seg.set_properties(b, visible=False)
    wait_ready(app, view)
    actor_b = view.surfaces.actors[b]
    r["after_style"] = dict(view.surface_builds)
    r["b_style"] = [list(actor_b.GetProperty().GetColor()), actor_b.GetProperty().GetOpacity(),
                    actor_b.GetVisibility()]
    seg.modify(b, Box((25, 30, 30), (27, 32, 32)), np.zeros((2, 2, 2), bool), "set")  # edited while hidden
    wait_ready(app, view)
    r["hidden_edit_builds"] = view.surface_builds[b]
    seg.set_properties(b, visible=True)
    wait_ready(app, view)
    r["shown_builds"] = view.surface_builds[b]
    # A result overtaken by a newer edit is dropped: submit now, edit again before it can arrive.
    seg.modify(a, Box((0, 0, 0), (5, 5, 5)), np.ones((5, 5, 5), bool), "add")
    view._coalesce.stop()
    view._submit_dirty()
    seg.modify(a, Box((30, 50, 50), (34, 55, 55)), np.ones((4, 5, 5), bool), "add")
    wait_ready(app, view)
    r["a_latest"] = [view.surfaces.triangle_count(a), len(surface_arrays(seg.segments[a].mask, geometry)[1])]
    seg.remove_segment(b)
    wait_ready(app, view)
    r["after_remove"] = {"actors": sorted(view.surfaces.actors),
                         "in_renderer": bool(view.scene.renderer.GetActors().IsItemPresent(actor_b))}
    seg.undo()  # the deletion
    wait_ready(app, view)
    r["after_undo"] = sorted(view.surfaces.actors)
    state.set_labels(None)
    wait_ready(app, view)
    r["after_new_segmentation"] = sorted(view.surfaces.actors)
    view.finalize()
    view.deleteLater()
    settle(app)
    return r


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication([])
    results = {"platform": app.platformName(), "incremental": incremental(app), "sample": sample_gtv(app, out)}
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
