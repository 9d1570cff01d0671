"""MR-T1 → CT rigid registration accuracy and time on the three sarcoma patients of ``sts_mirp`` (core/registration.py).

For each patient the MR is displaced by five seeded rigid transforms (translation 5-20 mm in a random direction,
rotations uniform in ±10° about each axis, about the GTV's centroid) by moving its scanner coordinates (origin and
direction; the voxels are not resampled), and registered back to the CT from the displaced header.

The truth. Only the displacement D is known exactly. The undisplaced MR and CT of a patient are aligned by the
data's curators (their GTV contours coincide), but the MR and the CT were taken on other days in other positions of
a limb, so no rigid transform aligns them exactly and the curated alignment is one registration among others. The
truth used for the budget is therefore D ∘ T0, with T0 what the same registration finds for the undisplaced pair:
the benchmark measures whether a displaced MR comes back to where the method puts the undisplaced one, which is the
registration's own error. How far T0 lies from the curated alignment (identity) is reported beside it per patient
(``curated`` columns: TRE against D alone), so a bias of the method shows and is not hidden by that choice.

TRE is the distance, in the MR's coordinates, between the found and the true images of the CT GTV's centroid and
its bounding box's 8 corners. Budget: median ≤ 2 mm, maximum ≤ 4 mm; time per registration ≤ 15 s on two cores.

``register_mr_ct`` reports the median TRE (mm) against the TRE of the displaced start (the peer, "no
registration"); the verify step prints the per-patient table and fails when the budget is missed.
``register_mr_ct_time`` times one registration per patient and displacement (median s per registration).

Measured (2 shared cores, 2026-12-07, current defaults: multi-start at the coarsest level, 32 histogram bins,
smoothing 3 / 2 / 1 mm at shrink 4 / 2 / 1), two runs of the same code:

    patient   TRE median / max (mm)   curated median / max   T0 vs curated (centroid / max)   start   s (median)
    STS_001     1.09 /   5.34         12.75 /  16.41         12.64 /  16.38                   24.46    24.9
    STS_002     0.76 /   2.19          3.03 /   5.45          2.90 /   4.67                   15.38     2.5
    STS_003     0.90 /   3.36          9.84 /  15.33          9.92 /  13.55                   16.58     6.5
    all         1.00 /   5.34   (budget 2 / 4 mm: max missed);   6.5 s per registration median (max 34.6 s)

    an earlier run: STS_001 0.24 / 2.96, all 0.71 / 3.36 mm (budget met), 12.6 s median (max 54.7 s).

STS_002 and STS_003 give the same numbers every run; STS_001's displaced registrations do not (its T0 does): the
multi-threaded metric's sums are not reproducible to the last bit and the optimiser's path on STS_001's flat
landscape amplifies that, so its max TRE is 3.0-5.4 mm from run to run. STS_001 (2.4 M-voxel CT) also takes 25-30 s
per registration here, over the 15 s budget; the median over all 15 is within it. Without the multi-start (same
smoothing and bins) STS_001's first three displacements gave max 4.2 / 4.7 / 3.7 mm.

Before (single start, 50 bins, smoothing 2 / 1 / 0 mm): median 2.37 mm, max 21.23 mm (STS_002's fifth
displacement: a local minimum that the multi-start escapes), 4.3-12.7 s median. Without smoothing at full resolution
the regular-step optimiser's steps collapsed within ~20 iterations on the noisy full-resolution metric, the finer
levels were dropped as no better, and the result stayed at the 4 × 4 × 13 mm coarse level's precision. The offset
of T0 from the curated alignment (10-13 mm for STS_001 and STS_003: the limb lies differently in the two scans) is
the same as before and as elastix's, so the curated columns still show it.

elastix (itk-elastix 0.25.4 from PyPI, in a separate environment: default "rigid" parameter map,
AdvancedMattesMutualInformation, 4 levels, 250 iterations, automatic initialisation off) on the same 15 displaced
MRs: TRE against D ∘ T0 (its own T0) median 1.62 mm, max 8.96 mm; against the curated alignment median 8.2 mm, max
17.0 mm (STS_002 2.6-3.6 mm per case, STS_001 and STS_003 8-11 mm: the same offset from the curated alignment that
SimpleITK finds); 1.2 s per registration. So elastix is the better of the two here, and neither meets the budget.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, Skip, benchmark

PATIENTS = ("STS_001", "STS_002", "STS_003")
DISPLACEMENTS = 5
SEED = 17
_cache: dict[str, object] = {}


def _displaced(volume, transform):
    from medseg_app.core.geometry import ImageGeometry

    g = volume.geometry
    m = transform.reference_to_layer
    geometry = ImageGeometry(g.size, g.spacing, transform.map_to_layer(g.origin), m[:3, :3] @ g.direction)
    return dataclasses.replace(volume, geometry=geometry)


def _gtv_points(mask_path: Path) -> np.ndarray:
    """The CT GTV's centroid and its bounding box's corners, LPS mm (9, 3)."""
    import SimpleITK as sitk

    mask = sitk.ReadImage(str(mask_path))
    idx = np.argwhere(sitk.GetArrayViewFromImage(mask) > 0)[:, ::-1].astype(float)
    lo, hi = idx.min(axis=0), idx.max(axis=0)
    points = [idx.mean(axis=0)] + [np.array([x, y, z]) for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                                   for z in (lo[2], hi[2])]
    return np.array([mask.TransformContinuousIndexToPhysicalPoint(p.tolist()) for p in points])


def _cases(data: Path):
    """Per patient: CT, MR, GTV points and the seeded displacements."""
    if "cases" not in _cache:
        from medseg_app.core.layer_transform import LayerTransform
        from medseg_app.io import load_volume

        cases = []
        for patient in PATIENTS:
            root = data / "sts_mirp" / patient
            masks = sorted((root / "CT" / "nifti" / "mask").glob("*.nii*"))
            if not masks:
                raise Skip(f"{patient}: no CT GTV mask")
            ct = load_volume(root / "CT" / "dicom" / "image")
            mr = load_volume(root / "MR_T1" / "dicom" / "image")
            points = _gtv_points(masks[0])
            rng = np.random.default_rng(SEED)
            moves = []
            for _ in range(DISPLACEMENTS):
                direction = rng.uniform(-1, 1, 3)
                translation = direction / np.linalg.norm(direction) * rng.uniform(5, 20)
                rotation = rng.uniform(-10, 10, 3)
                moves.append(LayerTransform.rigid(translation, rotation, points[0]))
            cases.append((patient, ct, mr, points, moves))
        _cache["cases"] = cases
    return _cache["cases"]


def _tre(found, truth, points) -> np.ndarray:
    return np.linalg.norm(found.map_to_layer(points) - truth.map_to_layer(points), axis=1)


def _run_all(data: Path) -> dict:
    """Every registration once (kept: the TRE benchmark's repeats report the same numbers)."""
    if "results" not in _cache:
        from medseg_app.core.layer_transform import LayerTransform
        from medseg_app.core.registration import register

        rows, times = [], []
        for patient, ct, mr, points, moves in _cases(data):
            base = register(ct, mr).transform  # T0
            for move in moves:
                start = time.perf_counter()
                found = register(ct, _displaced(mr, move)).transform
                times.append(time.perf_counter() - start)
                truth = LayerTransform(move.reference_to_layer @ base.reference_to_layer)
                rows.append(dict(patient=patient, seconds=times[-1], tre=_tre(found, truth, points),
                                 curated=_tre(found, move, points),
                                 start=_tre(LayerTransform.identity(), truth, points),
                                 base=_tre(base, LayerTransform.identity(), points)))
        _cache["results"] = dict(rows=rows, times=times)
    return _cache["results"]


def _report(results: dict) -> str:
    lines = ["patient   TRE median / max (mm)   curated median / max   T0 vs curated (centroid / max)   start"
             "   s (median)"]
    for patient in PATIENTS:
        rows = [r for r in results["rows"] if r["patient"] == patient]
        tre = np.concatenate([r["tre"] for r in rows])
        cur = np.concatenate([r["curated"] for r in rows])
        start = np.concatenate([r["start"] for r in rows])
        lines.append(f"{patient}   {np.median(tre):6.2f} / {tre.max():6.2f}        {np.median(cur):6.2f} / "
                     f"{cur.max():6.2f}        {rows[0]['base'][0]:6.2f} / {rows[0]['base'].max():6.2f}"
                     f"                  {np.median(start):6.2f}   {np.median([r['seconds'] for r in rows]):5.1f}")
    every = np.concatenate([r["tre"] for r in results["rows"]])
    lines.append(f"all       {np.median(every):6.2f} / {every.max():6.2f}   (budget 2 / 4 mm);   "
                 f"{np.median(results['times']):.1f} s per registration (max {max(results['times']):.1f} s)")
    return "\n".join(lines)


@benchmark("register_mr_ct", needs=[f"sts_mirp/{p}/MR_T1/dicom/image" for p in PATIENTS]
           + [f"sts_mirp/{p}/CT/dicom/image" for p in PATIENTS])
def register_mr_ct(data: Path):
    """Median TRE (mm) at the GTV of MR-T1 → CT rigid registration after 5 known displacements per patient."""
    def ours() -> float:
        return float(np.median(np.concatenate([r["tre"] for r in _run_all(data)["rows"]])))

    def peer() -> float:
        return float(np.median(np.concatenate([r["start"] for r in _run_all(data)["rows"]])))

    def verify(_ours, _peer):
        results = _run_all(data)
        print(_report(results))
        every = np.concatenate([r["tre"] for r in results["rows"]])
        if np.median(every) > 2.0 or every.max() > 4.0:
            raise AssertionError(f"TRE median {np.median(every):.2f} mm / max {every.max():.2f} mm is over the "
                                 "budget (2 / 4 mm)")

    yield Case(ours=ours, peer=peer, peer_name="displaced start", unit="mm", timed=False, verify=verify)


@benchmark("register_mr_ct_time", needs=[f"sts_mirp/{p}/MR_T1/dicom/image" for p in PATIENTS])
def register_mr_ct_time(data: Path):
    """Seconds per MR-T1 → CT rigid registration (median over the 15 displaced MRs; budget 15 s on two cores)."""
    def ours() -> float:
        return float(np.median(_run_all(data)["times"]))

    def verify(value, _peer):
        if value > 15.0:
            raise AssertionError(f"{value:.1f} s per registration is over the 15 s budget")

    yield Case(ours=ours, unit="s", timed=False, verify=verify)
