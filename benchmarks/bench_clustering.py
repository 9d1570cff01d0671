"""Clustering tools: speed against scikit-learn / scikit-fuzzy, and Dice on real organs and tumours.

``kmeans_box`` / ``fcm_box``: k-means (3 classes) and fuzzy c-means (3 classes, m = 2) of a 64 × 128 × 128 box
(16 × 96 × 96 for fuzzy c-means, whose peer is slow) of the 512 × 512 × 300 CT-like volume (bench_segment_grow's:
LUNG1-001 tiled, else a phantom); ours is the tool's whole preview (values out of the box, clustering, one mask per
class, histogram), the peer is scikit-learn's ``KMeans(n_init=4)`` (our restarts) / scikit-fuzzy's ``cmeans`` on the
same values; the runs must agree: centres within 0.1 % of the value range.

``clustering_liver_dice`` / ``clustering_tumour_dice``: the class under one click inside a box, against the
reference mask, with today's region growing from the same click as the peer (its defaults: 6-connected, range
= the click's 3 × 3 × 3 neighbourhood mean ± 2 SD). Protocol, written down: the box is the reference mask's
bounding box plus a margin (3 voxels for the TotalSegmentator liver, 5 for a BraTS whole tumour, label > 0 on
FLAIR); the click is the reference voxel nearest the mask's centre of mass among those at or above the mask's
median intensity (where a reader would click "on" the bright tumour / the organ); 3 classes. The liver reference is
TotalSegmentator's own prediction (example_seg.nii.gz, label 5), not a manual outline. The verify step prints
the table for k-means, fuzzy c-means and Otsu and fails below the Dice floors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, Skip, benchmark

KMEANS_BOX = ((100, 180, 120), (164, 308, 248))  # (k, j, i) start, stop: 64 × 128 × 128 voxels
FCM_BOX = ((124, 196, 136), (140, 292, 232))  # 16 × 96 × 96: scikit-fuzzy takes ~35 s on the k-means box
CLASSES = 3
TOTALSEG = "totalsegmentator_examples"
BRATS = "brats2013_deepmedic"
BRATS_CASES = ("test/brats_2013_pat0001_1", "test/brats_2013_pat0002_1", "validation/brats_2013_pat0003_1",
               "validation/brats_2013_pat0004_1", "train/brats_2013_pat0005_1", "train/brats_2013_pat0006_1")
LIVER_DICE_FLOOR = 0.55  # k-means' class under the click; measured 0.596 (region growing 0.482)
TUMOUR_DICE_FLOOR = 0.80  # mean over the six cases; measured 0.846 (region growing 0.417)


def _tool_on_box(tool, volume, box):
    from medseg_app.core.segmentation import Segmentation
    from medseg_app.tools.base import EditContext

    (k0, j0, i0), (k1, j1, i1) = box
    corners = volume.geometry.index_to_patient(np.array([[i0, j0, k0], [i1 - 1, j1 - 1, k1 - 1]], float))
    seg = Segmentation(volume.geometry)
    tool.activate(EditContext(volume, seg, None, box_lps=corners))
    return volume.array[k0:k1, j0:j1, i0:i1].ravel().astype(np.float64)


def _agree(ours_centres, peer_centres, values):
    tolerance = 0.001 * float(np.ptp(values))
    difference = np.abs(np.sort(np.ravel(ours_centres)) - np.sort(np.ravel(peer_centres))).max()
    print(f"  centres ours {np.round(np.sort(ours_centres), 2).tolist()} peer "
          f"{np.round(np.sort(np.ravel(peer_centres)), 2).tolist()}", file=sys.stderr)
    if difference > tolerance:
        raise AssertionError(f"centres differ by {difference:.3f} (tolerance {tolerance:.3f})")


@benchmark("kmeans_box")
def kmeans_box(data: Path):
    """k-means, 3 classes, of a 64×128×128 CT box: the tool's preview vs scikit-learn KMeans(n_init=4)."""
    try:
        from sklearn.cluster import KMeans
    except ImportError:
        raise Skip("scikit-learn is not installed (the test extra)") from None
    from benchmarks.bench_segment_grow import ct_like_volume
    from medseg_app.tools.clustering import KMeansTool

    volume, _ = ct_like_volume(data)
    tool = KMeansTool(classes=CLASSES, seed=0)
    values = _tool_on_box(tool, volume, KMEANS_BOX).reshape(-1, 1)

    def verify(preview, peer):
        _agree(preview.info["centres"], peer.cluster_centers_, values)

    yield Case(ours=lambda: tool.preview(), peer=lambda: KMeans(CLASSES, n_init=4, random_state=0).fit(values),
               peer_name="scikit-learn", verify=verify)


@benchmark("fcm_box")
def fcm_box(data: Path):
    """Fuzzy c-means, 3 classes, m = 2, of a 16×96×96 CT box: the tool's preview vs scikit-fuzzy cmeans."""
    try:
        import skfuzzy
    except ImportError:
        raise Skip("scikit-fuzzy is not installed (the test extra)") from None
    from benchmarks.bench_segment_grow import ct_like_volume
    from medseg_app.tools.clustering import FuzzyCMeansTool

    volume, _ = ct_like_volume(data)
    tool = FuzzyCMeansTool(classes=CLASSES, seed=0, membership_layer=False)
    values = _tool_on_box(tool, volume, FCM_BOX).reshape(1, -1)

    def verify(preview, peer):
        _agree(preview.info["centres"], peer[0], values)

    yield Case(ours=lambda: tool.preview(),
               peer=lambda: skfuzzy.cmeans(values, CLASSES, 2.0, error=1e-6, maxiter=300, seed=0),
               peer_name="scikit-fuzzy", verify=verify)


# --- accuracy ---------------------------------------------------------------------------------------------------
def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float(np.count_nonzero(a & b)) / max(1, np.count_nonzero(a) + np.count_nonzero(b))


def click_and_box(volume, reference: np.ndarray, margin: int):
    """(click (i, j, k), LPS box corners): the protocol in the module docstring."""
    points = np.argwhere(reference)
    bright = points[volume.array[reference] >= np.median(volume.array[reference])]
    centre = points.mean(axis=0)
    k, j, i = bright[np.argmin(((bright - centre) ** 2).sum(axis=1))]
    size = np.array(volume.geometry.size)
    lo = np.maximum(points.min(axis=0)[::-1] - margin, 0)
    hi = np.minimum(points.max(axis=0)[::-1] + margin, size - 1)
    return (int(i), int(j), int(k)), volume.geometry.index_to_patient(np.array([lo, hi], float))


METHODS = (("kmeans", {}), ("fuzzy_cmeans", {"membership_layer": False}), ("otsu_multi", {}))


def case_dice(volume, reference: np.ndarray, margin: int) -> dict[str, float]:
    """Dice of each clustering tool's clicked class and of region growing from the same click."""
    from medseg_app.tools.editor import SegmentEditor

    click, box = click_and_box(volume, reference, margin)
    row = {}
    for tool_id, extra in METHODS:
        editor = SegmentEditor(volume)
        target = editor.add_segment("class")
        editor.run(tool_id, box=box, classes=CLASSES, operation="selected class", inputs={"index": click}, **extra)
        row[tool_id] = _dice(editor.mask(target), reference)
    editor = SegmentEditor(volume)
    target = editor.add_segment("grown")
    editor.run("grow", inputs={"seeds": [click]})
    row["grow"] = _dice(editor.mask(target), reference)
    row["click"] = click
    return row


def _accuracy_case(rows: dict, floor: float, title: str):
    def mean(method):
        return float(np.mean([row[method] for row in rows().values()]))

    def verify(ours, _peer):
        print(f"{title}: Dice of the clicked class ({CLASSES} classes in the box) / region growing from the click",
              file=sys.stderr)
        print(f"{'case':<34} {'click (i,j,k)':<16} {'k-means':>8} {'FCM':>8} {'Otsu':>8} {'growing':>8}",
              file=sys.stderr)
        for name, row in rows().items():
            print(f"{name:<34} {str(row['click']):<16} {row['kmeans']:>8.3f} {row['fuzzy_cmeans']:>8.3f} "
                  f"{row['otsu_multi']:>8.3f} {row['grow']:>8.3f}", file=sys.stderr)
        if ours < floor:
            raise AssertionError(f"k-means mean Dice {ours:.3f} is below the floor {floor}")

    return Case(ours=lambda: mean("kmeans"), peer=lambda: mean("grow"), peer_name="region growing", unit="Dice",
                timed=False, verify=verify)


def _cached(compute):
    store = {}

    def rows():
        if not store:
            store.update(compute())
        return store
    return rows


@benchmark("clustering_liver_dice", needs=[f"{TOTALSEG}/example_ct_sm.nii.gz", f"{TOTALSEG}/example_seg.nii.gz"])
def clustering_liver_dice(data: Path):
    """TotalSegmentator example liver: k-means' clicked class in the liver's box vs region growing (Dice)."""
    from medseg_app.io.load import load_volume

    def compute():
        ct = load_volume(data / TOTALSEG / "example_ct_sm.nii.gz")
        liver = load_volume(data / TOTALSEG / "example_seg.nii.gz").array == 5
        return {"example_ct_sm liver": case_dice(ct, liver, 3)}

    yield _accuracy_case(_cached(compute), LIVER_DICE_FLOOR, "clustering_liver_dice")


@benchmark("clustering_tumour_dice", needs=[f"{BRATS}/{case}/OTMultiClass.nii.gz" for case in BRATS_CASES])
def clustering_tumour_dice(data: Path):
    """BraTS 2013 whole tumour on FLAIR, six cases: k-means' clicked class in the tumour's box vs region growing."""
    from medseg_app.io.load import load_volume

    def compute():
        rows = {}
        for case in BRATS_CASES:
            flair = load_volume(data / BRATS / case / "Flair_subtrMeanDivStd.nii.gz")
            tumour = load_volume(data / BRATS / case / "OTMultiClass.nii.gz").array > 0
            rows[case.split("/")[-1]] = case_dice(flair, tumour, 5)
        return rows

    yield _accuracy_case(_cached(compute), TUMOUR_DICE_FLOOR, "clustering_tumour_dice")
