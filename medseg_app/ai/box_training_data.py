"""Labelled cases and the box prompts drawn from them, for training and for evaluating box-prompted models.

A box is two opposite LPS corners (mm), as the user draws it and as ``medseg segment --box`` takes it. The
"exact" box of a case is the tight box around its reference mask (voxel edges); a *jittered* box moves its
centre by up to ``shift_mm`` along each axis and scales each side by a factor within ``1 ± scale``.
Training samples go through the same model grid and preprocessing code as inference does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..core.geometry import ImageGeometry
from ..core.sitk_bridge import array_and_geometry_from_sitk
from .model_grid import box_model_grid, sample_to_model_grid

EVAL_SHIFT_MM = 10.0  # the evaluation jitter: centre ±1 cm, size ±20 %
EVAL_SCALE = 0.2


@dataclass
class Case:
    id: str
    image: np.ndarray  # float32 (k, j, i)
    mask: np.ndarray  # bool (k, j, i)
    geometry: ImageGeometry


def load_cases(root: Path, image_name: str = "PET_image.nii.gz", mask_name: str = "PET_mask.nii.gz") -> list[Case]:
    """Every ``<root>/<case>/`` holding an image and its mask, sorted by case id."""
    cases = []
    for folder in sorted(p for p in Path(root).iterdir() if (p / image_name).is_file() and (p / mask_name).is_file()):
        image, geometry = array_and_geometry_from_sitk(sitk.ReadImage(str(folder / image_name), sitk.sitkFloat32))
        mask, mask_geometry = array_and_geometry_from_sitk(sitk.ReadImage(str(folder / mask_name)))
        if not mask_geometry.same_grid(geometry, tol_mm=1e-2):
            raise ValueError(f"{folder}: the mask is not on the image's grid")
        cases.append(Case(folder.name, image.astype(np.float32), mask > 0, geometry))
    return cases


def exact_box(case: Case) -> np.ndarray:
    """The tight LPS box (2×3, mm) around the case's mask, from voxel edge to voxel edge."""
    k, j, i = np.nonzero(case.mask)
    lo = np.array([i.min(), j.min(), k.min()], dtype=float) - 0.5
    hi = np.array([i.max(), j.max(), k.max()], dtype=float) + 0.5
    corners = case.geometry.index_to_patient(np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                                                       for z in (lo[2], hi[2])]))
    return np.stack([corners.min(axis=0), corners.max(axis=0)])


def jittered_box(box: np.ndarray, rng: np.random.Generator, shift_mm: float = EVAL_SHIFT_MM,
                 scale: float = EVAL_SCALE) -> np.ndarray:
    centre = box.mean(axis=0) + rng.uniform(-shift_mm, shift_mm, 3)
    half = (box[1] - box[0]) / 2 * rng.uniform(1 - scale, 1 + scale, 3)
    return np.stack([centre - half, centre + half])


def split_cases(ids: list[str], held_out: int, seed: int) -> tuple[list[str], list[str]]:
    """A seeded split: (training ids, held-out ids), both sorted."""
    order = np.random.default_rng(seed).permutation(sorted(ids))
    return sorted(order[held_out:].tolist()), sorted(order[:held_out].tolist())


def training_sample(case: Case, box: np.ndarray, margin: float, spatial_size) -> tuple[np.ndarray, np.ndarray]:
    """The image and its reference mask on the model grid of ``box`` (image unnormalised, mask bool)."""
    grid = box_model_grid(case.geometry, box, margin, spatial_size)
    image = sample_to_model_grid(case.image, case.geometry, grid)
    mask = sample_to_model_grid(case.mask.astype(np.float32), case.geometry, grid) >= 0.5
    return image, mask


def suv_threshold_baseline(case: Case, box: np.ndarray, fraction: float = 0.4) -> np.ndarray:
    """Voxels inside the box at or above ``fraction`` of the box's maximum (the classic 40 % SUVmax)."""
    inside = box_voxels(case.geometry, box)
    values = case.image[inside]
    out = np.zeros_like(case.mask)
    if values.size:
        out[inside] = values >= fraction * values.max()
    return out


def ellipsoid_baseline(case: Case, box: np.ndarray) -> np.ndarray:
    """The ellipsoid inscribed in the box (axis-aligned in LPS), rasterised at voxel centres."""
    k, j, i = np.indices(case.mask.shape)
    points = case.geometry.index_to_patient(np.stack([i, j, k], axis=-1).reshape(-1, 3))
    centre, half = box.mean(axis=0), (box[1] - box[0]) / 2
    return (((points - centre) / half) ** 2).sum(axis=1).reshape(case.mask.shape) <= 1.0


def box_voxels(geometry: ImageGeometry, box: np.ndarray) -> np.ndarray:
    k, j, i = np.indices(geometry.shape)
    points = geometry.index_to_patient(np.stack([i, j, k], axis=-1).reshape(-1, 3))
    return np.all((points >= box[0]) & (points <= box[1]), axis=1).reshape(geometry.shape)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(a, b).sum()) / total
