"""Segments between grids on the three sarcoma patients of sts_mirp (CT, MR-T1 and PET masks of one GTV, each
rasterised from the same contours onto its own grid; read its PROVENANCE.md).

transfer_pet_to_ct: the PET mask (≈ 5 mm voxels) carried onto the CT grid (≈ 1 × 1 × 3.3 mm) by MedSeg's
shape-keeping transfer (core/mask_transfer.py: signed distance, linear, threshold 0), Dice against the CT's own
mask, averaged over the patients; the peer is SimpleITK's nearest-neighbour resample of the same mask (what
``medseg convert`` did before). The verification prints, for every patient and both directions (PET → CT and
CT → PET), Dice and volume ratio for nearest, fraction (linear, ≥ 0.5), distance (ours) and 3D Slicer's route
through a closed surface (VTK, the render layer's library: discrete flying edges, windowed-sinc smoothing at
Slicer's default factor 0.5 — 20 iterations, pass band 0.01 — then vtkPolyDataToImageStencil on the target grid),
and fails when a patient's PET → CT Dice is under 0.95 or its volume is off by more than 3 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, benchmark

PATIENTS = ("STS_001", "STS_002", "STS_003")
DICE_BUDGET = 0.95
VOLUME_TOLERANCE = 0.03


def _masks(data: Path):
    from medseg_app.io.image_files import read_image_file

    return {p: {m: read_image_file(data / "sts_mirp" / p / m / "nifti" / "mask" / "mask.nii.gz")
                for m in ("CT", "PET")} for p in PATIENTS}


def _sitk_nearest(source, target) -> np.ndarray:
    import SimpleITK as sitk

    from medseg_app.core.sitk_bridge import to_sitk

    moving = sitk.Cast(to_sitk(source) > 0, sitk.sitkUInt8)
    fixed = to_sitk(target)
    out = sitk.Resample(moving, fixed, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return sitk.GetArrayFromImage(out) > 0


def _ours(source, target, method: str = "distance") -> np.ndarray:
    from medseg_app.core.mask_transfer import transfer_mask_dense

    return transfer_mask_dense(source.array > 0, source.geometry, target.geometry, method=method)


def _closed_surface(source, target, smoothing_factor: float = 0.5) -> np.ndarray:
    """3D Slicer's binary labelmap → closed surface → binary labelmap, for grids with identity directions."""
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData
    from vtkmodules.vtkFiltersCore import vtkWindowedSincPolyDataFilter
    from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D
    from vtkmodules.vtkImagingStencil import vtkImageStencilToImage, vtkPolyDataToImageStencil

    for grid in (source.geometry, target.geometry):
        if not np.allclose(grid.direction, np.eye(3)):
            raise ValueError("the closed-surface peer handles axis-aligned grids only")
    mask = np.pad((source.array > 0).astype(np.uint8), 1)
    image = vtkImageData()
    image.SetDimensions(*mask.shape[::-1])
    image.SetSpacing(*source.geometry.spacing)
    image.SetOrigin(*(source.geometry.origin - source.geometry.spacing))
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(mask.ravel(), deep=True))
    edges = vtkDiscreteFlyingEdges3D()
    edges.SetInputData(image)
    edges.SetValue(0, 1)
    edges.ComputeNormalsOff()
    edges.ComputeGradientsOff()
    edges.ComputeScalarsOff()
    sinc = vtkWindowedSincPolyDataFilter()
    sinc.SetInputConnection(edges.GetOutputPort())
    sinc.SetNumberOfIterations(20)
    sinc.SetPassBand(10.0 ** (-4.0 * smoothing_factor))
    sinc.BoundarySmoothingOff()
    sinc.FeatureEdgeSmoothingOff()
    sinc.NonManifoldSmoothingOn()
    sinc.NormalizeCoordinatesOn()
    sinc.Update()
    surface = vtkPolyData()
    surface.DeepCopy(sinc.GetOutput())  # a separate pipeline: the stencil's extent is the target's
    stencil = vtkPolyDataToImageStencil()
    stencil.SetInputData(surface)
    g = target.geometry
    stencil.SetOutputOrigin(*g.origin)
    stencil.SetOutputSpacing(*g.spacing)
    stencil.SetOutputWholeExtent(0, g.size[0] - 1, 0, g.size[1] - 1, 0, g.size[2] - 1)
    to_image = vtkImageStencilToImage()
    to_image.SetInputConnection(stencil.GetOutputPort())
    to_image.SetInsideValue(1)
    to_image.SetOutsideValue(0)
    to_image.SetOutputScalarTypeToUnsignedChar()
    to_image.Update()
    return numpy_support.vtk_to_numpy(to_image.GetOutput().GetPointData().GetScalars()).reshape(g.shape) > 0


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def _table(masks) -> list[dict]:
    rows = []
    for patient, pair in masks.items():
        for source, target in (("PET", "CT"), ("CT", "PET")):
            truth = pair[target].array > 0
            results = {"SimpleITK nearest": _sitk_nearest(pair[source], pair[target])}
            for method in ("fraction", "distance"):
                results[method] = _ours(pair[source], pair[target], method)
            results["Slicer closed surface"] = _closed_surface(pair[source], pair[target])
            rows.append({"patient": patient, "direction": f"{source} → {target}",
                         **{name: (_dice(mask, truth), np.count_nonzero(mask) / np.count_nonzero(truth))
                            for name, mask in results.items()}})
    return rows


def _print_table(rows: list[dict]) -> None:
    methods = [k for k in rows[0] if k not in ("patient", "direction")]
    print("transfer_pet_to_ct: Dice / volume ratio against the target grid's own mask", file=sys.stderr)
    print(f"{'patient':<8} {'direction':<10} " + " ".join(f"{m:>22}" for m in methods), file=sys.stderr)
    for row in rows:
        cells = " ".join(f"{row[m][0]:>14.4f} / {row[m][1]:.3f}" for m in methods)
        print(f"{row['patient']:<8} {row['direction']:<10} {cells}", file=sys.stderr)


@benchmark("transfer_pet_to_ct", needs=[f"sts_mirp/{p}/{m}/nifti/mask/mask.nii.gz" for p in PATIENTS
                                        for m in ("CT", "PET")])
def transfer_pet_to_ct(data: Path):
    """PET GTV mask → CT grid: mean Dice against the CT mask, shape-keeping transfer vs SimpleITK nearest (Dice)."""
    masks = _masks(data)

    def mean_dice(transfer):
        return float(np.mean([_dice(transfer(pair["PET"], pair["CT"]), pair["CT"].array > 0)
                              for pair in masks.values()]))

    def verify(_ours_value, _peer_value):
        rows = _table(masks)
        _print_table(rows)
        for row in rows:
            if row["direction"] != "PET → CT":
                continue
            dice, ratio = row["distance"]
            if dice < DICE_BUDGET or abs(ratio - 1.0) > VOLUME_TOLERANCE:
                raise AssertionError(f"{row['patient']} PET → CT: Dice {dice:.4f} (budget ≥ {DICE_BUDGET}), "
                                     f"volume ratio {ratio:.3f} (budget ±{VOLUME_TOLERANCE:.0%})")

    yield Case(ours=lambda: mean_dice(_ours), peer=lambda: mean_dice(_sitk_nearest), peer_name="SimpleITK NN",
               unit="Dice", timed=False, verify=verify)
