"""Active contour (ITK-SNAP's snake): Dice on real labelled data against today's region growing, and the time it
takes to stop.

The cases are those of bench_graph_methods: the TotalSegmentator example CT's liver (label 5 of example_seg.nii.gz,
a model's output) and BraTS 2013 patient 1's whole tumour (OTMultiClass > 0) on its FLAIR. The click is the same
for both methods: the reference's deepest voxel (scipy's Euclidean distance transform in voxels, as
bench_graph_methods' region growing uses). Region growing: one seed there, range from its neighbourhood (mean ±
2 SD, the tool's defaults). Active contour: one bubble of 10 mm there, otherwise the tool's defaults (propagation 1,
curvature 0.5, advection 1, 20 iterations a step, at most 1000, RMS 0.01, margin 20 mm); ``region`` speed with the
range from the bubble (mean ± 2 SD) or ``edge`` speed (gradient σ 1 mm, contrast 0.05 of the strongest gradient
within 50 mm).

``*_dice_*`` (timed=False, unit "Dice"): ours = the active contour, peer = region growing. ``active_contour_stop_*``
(timed): the whole evolution from the bubble until it stops (converged or the iteration limit), peer = region
growing's preview; the ratio says how much longer the snake takes than a click of region growing. The first run
prints the iterations, why it stopped and the Dice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.bench_graph_methods import BRATS, TOTALSEG, _dice, _reference, _region_growing_dice
from benchmarks.registry import Case, benchmark

BUBBLE_MM = 10.0
LIVER_NEEDS = [f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz"]
BRATS_NEEDS = [f"{BRATS}/Flair_subtrMeanDivStd.nii.gz", f"{BRATS}/OTMultiClass.nii.gz"]


def _deepest(reference: np.ndarray) -> tuple[int, int, int]:
    from scipy import ndimage

    k, j, i = np.unravel_index(np.argmax(ndimage.distance_transform_edt(reference)), reference.shape)
    return int(i), int(j), int(k)


def _contour(volume, reference, speed: str):
    """The active contour from a bubble at the reference's deepest voxel: (Dice, the applied preview's info)."""
    from medseg_app.tools.editor import SegmentEditor

    editor = SegmentEditor(volume)
    editor.add_segment("Active contour")
    preview = editor.run("active_contour", inputs={"seeds": [_deepest(reference)]}, init="bubbles", speed=speed,
                         bubble_radius_mm=BUBBLE_MM)
    return _dice(editor.mask(), reference), preview.info


def _dice_case(data: Path, which: str, speed: str) -> Case:
    volume, reference = _reference(data, which)

    def verify(ours, peer):
        print(f"    active contour ({speed}) Dice {ours:.3f}, region growing {peer:.3f} ({which}, bubble "
              f"{BUBBLE_MM:g} mm at {_deepest(reference)})")

    return Case(ours=lambda: _contour(volume, reference, speed)[0],
                peer=lambda: _region_growing_dice(volume, reference), peer_name="region growing", unit="Dice",
                timed=False, verify=verify)


def _stop_case(data: Path, which: str) -> Case:
    volume, reference = _reference(data, which)

    def verify(ours, _peer):
        dice, info = ours
        print(f"    {which}: stopped after {info['iterations']} iterations ({info['stop']}), {info['crops_grown']} "
              f"crop growths, Dice {dice:.3f}")

    return Case(ours=lambda: _contour(volume, reference, "region"),
                peer=lambda: _region_growing_dice(volume, reference), peer_name="region growing", verify=verify)


@benchmark("active_contour_dice_liver", needs=LIVER_NEEDS)
def active_contour_dice_liver(data: Path):
    """Dice of the active contour (region speed) vs today's region growing: TotalSegmentator example CT, liver."""
    yield _dice_case(data, "liver", "region")


@benchmark("active_contour_edge_dice_liver", needs=LIVER_NEEDS)
def active_contour_edge_dice_liver(data: Path):
    """Dice of the active contour (edge speed) vs today's region growing: TotalSegmentator example CT, liver."""
    yield _dice_case(data, "liver", "edge")


@benchmark("active_contour_dice_brats", needs=BRATS_NEEDS)
def active_contour_dice_brats(data: Path):
    """Dice of the active contour (region speed) vs today's region growing: BraTS 2013 patient 1 on FLAIR."""
    yield _dice_case(data, "brats", "region")


@benchmark("active_contour_edge_dice_brats", needs=BRATS_NEEDS)
def active_contour_edge_dice_brats(data: Path):
    """Dice of the active contour (edge speed) vs today's region growing: BraTS 2013 patient 1 on FLAIR."""
    yield _dice_case(data, "brats", "edge")


@benchmark("active_contour_stop_liver", needs=LIVER_NEEDS)
def active_contour_stop_liver(data: Path):
    """Time from the bubble until the evolution stops (region speed), vs region growing from the same click."""
    yield _stop_case(data, "liver")


@benchmark("active_contour_stop_brats", needs=BRATS_NEEDS)
def active_contour_stop_brats(data: Path):
    """Time from the bubble until the evolution stops (region speed), vs region growing from the same click."""
    yield _stop_case(data, "brats")
