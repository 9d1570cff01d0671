"""Graph cut and GrowCut: speed on the 512×512×300 CT of bench_segment_grow, Dice on real labelled data.

Budgets: ``graphcut_lesion`` ≤ 1 s (the ~250 k-voxel lesion, scribbles drawn from it), ``growcut_organ`` ≤ 3 s
(a ~2 M-voxel crop around the right lung), ``growcut_organ_added_seed`` well under the full run.

Peers. A plain PyMaxflow call on the whole 78 M-voxel volume does not fit in memory (~190 bytes a voxel for the
grid graph: ~15 GB), so ``graphcut_lesion``'s peer is the same energy through PyMaxflow on the whole 512×512
slices of the crop's slab, uncropped in-plane (~16 M voxels). ``growcut_organ``'s peer is SimpleITK's marker
watershed (today's "Grow from seeds" method, gradient σ 1 mm) with the same seeds on the same crop; on the whole
uncropped volume it took 342 s (measured once, two busy cores; GrowCut on the crop 3.8 s in that run), too long to
repeat in every run.

Dice (timed=False, unit "Dice"): the tool against today's region growing (one seed at the reference's deepest
voxel, range from its neighbourhood, mean ± 2 SD) on the TotalSegmentator example CT's liver (label 5 of
example_seg.nii.gz, a model's output) and BraTS 2013 patient 1's whole tumour (OTMultiClass > 0) on its FLAIR.
The scribbles are ``scribbles_from_mask(reference)`` (tools/scribbles.py): the reference eroded in-plane by 3 mm
(foreground) and its 5 mm outline (background) on the slices at 25 / 50 / 75 % of its extent, and the 5 mm
dilated end slice filled, 5 mm beyond each end; graph cut with its defaults (Gaussian model, λ 0.1, σ auto,
margin 10 mm), GrowCut with margin 10 mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.bench_segment_grow import LESION_CENTRE, LESION_SEMI_AXES, _context, _with_lesion, ct_like_volume
from benchmarks.registry import Case, benchmark

TOTALSEG = "totalsegmentator_examples"
BRATS = "brats2013_deepmedic/test/brats_2013_pat0001_1"
LIVER_LABEL = 5
ORGAN_SEED = (197, 171, 67)  # (i, j, k): right lung parenchyma (LUNG1-001's slice 67, the tiled CT's too)
ORGAN_BOX = ((100, 100, 47), (349, 299, 87))  # (i, j, k) corners seeded as background: a 250 × 200 × 41 crop
LESION_SIGMA = 30.0  # HU: the boundary σ given to both sides of graphcut_lesion (auto would differ by crop)


def _lesion_mask(shape) -> np.ndarray:
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    centre, axes = LESION_CENTRE, LESION_SEMI_AXES
    return ((k - centre[0]) / axes[0]) ** 2 + ((j - centre[1]) / axes[1]) ** 2 + ((i - centre[2]) / axes[2]) ** 2 <= 1


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def _dense(shape, change) -> np.ndarray:
    _segment, box, region, _mode = change
    out = np.zeros(shape, bool)
    out[box.slices] = region
    return out


@benchmark("graphcut_lesion")
def graphcut_lesion(data: Path):
    """Graph cut of the ~250 k-voxel lesion from scribbles, on its box + 10 mm vs PyMaxflow on the whole slab."""
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.volume import Volume
    from medseg_app.tools.graph_cut import GraphCutTool
    from medseg_app.tools.mask_crops import spacing_kji
    from medseg_app.tools.scribbles import scribbles_from_mask

    volume = _with_lesion(ct_like_volume(data)[0])
    lesion = _lesion_mask(volume.array.shape)
    foreground, background = scribbles_from_mask(lesion, spacing_kji(volume.geometry))
    tool = GraphCutTool(sigma=LESION_SIGMA)
    tool.activate(_context(volume))
    inputs = {"foreground": foreground, "background": background}
    crop = tool.preview(**inputs).info["crop"]
    k0, k1 = crop.start[0], crop.stop[0]
    slab = Volume(volume.array[k0:k1], ImageGeometry((512, 512, k1 - k0), volume.spacing, (0, 0, 0)),
                  modality="CT", units="HU")
    peer_tool = GraphCutTool(sigma=LESION_SIGMA, margin_mm=1000.0)  # the box is the whole slab
    peer_tool.activate(_context(slab))
    shift = np.array([0, 0, k0])
    peer_inputs = {"foreground": foreground - shift, "background": background - shift}

    def verify(ours, peer):
        mine = _dense(volume.array.shape, ours.changes[0])
        theirs = np.zeros(volume.array.shape, bool)
        theirs[k0:k1] = _dense(slab.array.shape, peer.changes[0])
        agreement, accuracy = _dice(mine, theirs), _dice(mine, lesion)
        print(f"graphcut_lesion: crop {crop.shape} ({int(np.prod(crop.shape))} voxels), slab "
              f"{slab.array.shape}; Dice vs uncropped {agreement:.4f}, vs the lesion {accuracy:.3f}")
        if agreement < 0.99 or accuracy < 0.9:
            raise AssertionError(f"Dice vs the uncropped cut {agreement:.4f}, vs the lesion {accuracy:.3f}")

    yield Case(ours=lambda: tool.preview(**inputs), peer=lambda: peer_tool.preview(**peer_inputs),
               peer_name="PyMaxflow slab", verify=verify)


def _organ_seeds():
    (i0, j0, k0), (i1, j1, k1) = ORGAN_BOX
    corners = [(i, j, k) for i in (i0, i1) for j in (j0, j1) for k in (k0, k1)]
    i, j, k = ORGAN_SEED
    return [(i + d, j, k) for d in range(-10, 11, 5)], corners


@benchmark("growcut_organ")
def growcut_organ(data: Path):
    """GrowCut of a ~2 M-voxel crop (right lung against the box's corners) vs SimpleITK's watershed on that crop."""
    import SimpleITK as sitk

    from medseg_app.tools.region_growing import CompetitiveGrowingTool

    volume, _ = ct_like_volume(data)
    context = _context(volume)
    other = context.segmentation.add_segment("Background").id
    organ, corners = _organ_seeds()
    seeds = {context.segment_id: organ, other: corners}
    def ours():
        tool = CompetitiveGrowingTool(method="growcut", margin_mm=0.0)  # a new tool: no state to warm-start from
        tool.activate(context)
        return tool.preview(seeds=seeds)

    (i0, j0, k0), (i1, j1, k1) = ORGAN_BOX
    crop = volume.array[k0:k1 + 1, j0:j1 + 1, i0:i1 + 1]
    image = sitk.GetImageFromArray(crop.astype(np.float32))
    image.SetSpacing([float(s) for s in volume.spacing])
    markers = np.zeros(crop.shape, np.uint16)
    for label, points in enumerate(seeds.values(), start=1):
        markers[tuple((np.asarray(points) - (i0, j0, k0))[:, ::-1].T)] = label
    marker_image = sitk.GetImageFromArray(markers)
    marker_image.CopyInformation(image)

    def peer():
        gradient = sitk.GradientMagnitudeRecursiveGaussian(image, 1.0)
        return sitk.MorphologicalWatershedFromMarkers(gradient, marker_image, markWatershedLine=False,
                                                      fullyConnected=False)

    def verify(preview, _labels):
        crop = preview.info["crop"]
        print(f"growcut_organ: crop {crop.shape} ({int(np.prod(crop.shape))} voxels), "
              f"organ {preview.info['voxels'][context.segment_id]} voxels")
        if not 1.5e6 <= np.prod(crop.shape) <= 2.5e6:
            raise AssertionError(f"the crop holds {int(np.prod(crop.shape))} voxels, not ~2 M")

    yield Case(ours=ours, peer=peer, peer_name="SimpleITK watershed", verify=verify)


@benchmark("growcut_organ_added_seed")
def growcut_organ_added_seed(data: Path):
    """GrowCut after one more organ seed, warm-started from the last state, vs the full run with every seed."""
    from medseg_app.tools.region_growing import CompetitiveGrowingTool

    volume, _ = ct_like_volume(data)
    context = _context(volume)
    other = context.segmentation.add_segment("Background").id
    organ, corners = _organ_seeds()
    first = {context.segment_id: organ, other: corners}
    i, j, k = ORGAN_SEED
    more = {context.segment_id: organ + [(i, j + 10, k + 5)], other: corners}
    warm, full = CompetitiveGrowingTool(method="growcut", margin_mm=0.0), CompetitiveGrowingTool(
        method="growcut", margin_mm=0.0)
    warm.activate(context)
    full.activate(context)
    warm.preview(seeds=first)
    state = warm.growcut_state  # the first run's state, restored before each timed warm start

    def ours():
        warm.growcut_state = state
        return warm.preview(seeds=more)

    def peer():
        full.growcut_state = None  # no state to warm-start from: the full run
        return full.preview(seeds=more)

    def verify(a, b):
        if not a.info["incremental"] or b.info["incremental"]:
            raise AssertionError("the warm start did not run incrementally")
        for x, y in zip(a.changes, b.changes):
            if not np.array_equal(_dense(volume.array.shape, x), _dense(volume.array.shape, y)):
                raise AssertionError("the warm start differs from the full run")

    yield Case(ours=ours, peer=peer, peer_name="GrowCut full", verify=verify)


def _reference(data: Path, which: str):
    import SimpleITK as sitk

    from medseg_app.io.load import load_volume

    if which == "liver":
        volume = load_volume(data / TOTALSEG / "example_ct_sm.nii.gz")
        labels = sitk.GetArrayFromImage(sitk.ReadImage(str(data / TOTALSEG / "example_seg.nii.gz")))
        return volume, labels == LIVER_LABEL
    volume = load_volume(data / BRATS / "Flair_subtrMeanDivStd.nii.gz")
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(data / BRATS / "OTMultiClass.nii.gz")))
    return volume, labels > 0


def _region_growing_dice(volume, reference) -> float:
    from scipy import ndimage

    from medseg_app.tools.editor import SegmentEditor

    k, j, i = np.unravel_index(np.argmax(ndimage.distance_transform_edt(reference)), reference.shape)
    editor = SegmentEditor(volume)
    editor.add_segment("Region growing")
    editor.run("grow", inputs={"seeds": [(int(i), int(j), int(k))]})
    return _dice(editor.mask(), reference)


def _method_dice(volume, reference, method: str) -> float:
    from medseg_app.tools.editor import SegmentEditor
    from medseg_app.tools.mask_crops import spacing_kji
    from medseg_app.tools.scribbles import scribbles_from_mask

    foreground, background = scribbles_from_mask(reference, spacing_kji(volume.geometry))
    editor = SegmentEditor(volume)
    if method == "graph_cut":
        editor.add_segment("Graph cut")
        editor.run("graph_cut", inputs={"foreground": foreground, "background": background})
        return _dice(editor.mask(), reference)
    inside, outside = editor.add_segment("GrowCut"), editor.add_segment("Outside")
    editor.run("grow_competitive", method="growcut", margin_mm=10.0,
               inputs={"seeds": {inside: foreground, outside: background}})
    return _dice(editor.mask(inside), reference)


def _dice_case(data: Path, which: str, method: str):
    volume, reference = _reference(data, which)
    return Case(ours=lambda: _method_dice(volume, reference, method),
                peer=lambda: _region_growing_dice(volume, reference), peer_name="region growing", unit="Dice",
                timed=False)


@benchmark("graphcut_dice_liver", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz"])
def graphcut_dice_liver(data: Path):
    """Dice of graph cut vs today's region growing: TotalSegmentator example CT, liver."""
    yield _dice_case(data, "liver", "graph_cut")


@benchmark("growcut_dice_liver", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz"])
def growcut_dice_liver(data: Path):
    """Dice of GrowCut vs today's region growing: TotalSegmentator example CT, liver."""
    yield _dice_case(data, "liver", "growcut")


@benchmark("graphcut_dice_brats", needs=[f"{BRATS}/Flair_subtrMeanDivStd.nii.gz", f"{BRATS}/OTMultiClass.nii.gz"])
def graphcut_dice_brats(data: Path):
    """Dice of graph cut vs today's region growing: BraTS 2013 patient 1, whole tumour on FLAIR."""
    yield _dice_case(data, "brats", "graph_cut")


@benchmark("growcut_dice_brats", needs=[f"{BRATS}/Flair_subtrMeanDivStd.nii.gz", f"{BRATS}/OTMultiClass.nii.gz"])
def growcut_dice_brats(data: Path):
    """Dice of GrowCut vs today's region growing: BraTS 2013 patient 1, whole tumour on FLAIR."""
    yield _dice_case(data, "brats", "growcut")
