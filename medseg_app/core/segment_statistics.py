"""Per-segment numbers for the statistics panel, the CLI and export: size, intensities, position, extent, PET uptake.

Everything is computed on the mask's bounding box; the volume is read there only (and, for SUVpeak, in a small
margin around the box). Intensities are in the image's units; ``std`` is the population standard
deviation (ddof = 0, as IBSI and 3D Slicer's Segment Statistics report it).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from .box import Box
from .overlap_metrics import MaskLike, mask_box_and_crop, surface_voxels
from .volume import UNITS_SUV, Volume

# SUVpeak (PERCIST 1.0, Wahl et al. 2009): the highest mean uptake in a 1 cm³ sphere (1.24 cm across, radius
# ≈ 6.2 mm) placed within the lesion.
SUV_PEAK_SPHERE_ML = 1.0
SUV_PEAK_RADIUS_MM = float((3.0 * SUV_PEAK_SPHERE_ML * 1000.0 / (4.0 * np.pi)) ** (1.0 / 3.0))


def is_pet(volume: Volume) -> bool:
    return volume.units == UNITS_SUV or volume.modality.upper() in ("PT", "PET")


def _empty_statistics(pet: bool) -> dict:
    stats = {"voxels": 0, "volume_ml": 0.0, "mean": None, "std": None, "min": None, "max": None, "median": None,
             "centroid_mm": None, "bbox_index": None, "bbox_mm": None, "max_diameter_mm": 0.0}
    if pet:
        stats.update(suv_max=None, suv_peak=None)
    return stats


def max_diameter_mm(points_mm: np.ndarray) -> float:
    """Largest distance between any two points (via the convex hull: the farthest pair are hull vertices)."""
    if len(points_mm) < 2:
        return 0.0
    candidates = points_mm
    if len(points_mm) > 4:
        try:
            candidates = points_mm[ConvexHull(points_mm).vertices]
        except QhullError:  # flat or degenerate: every point is a candidate
            candidates = points_mm
    best = 0.0
    for start in range(0, len(candidates), 1024):
        chunk = candidates[start:start + 1024]
        squared = ((chunk[:, None, :] - candidates[None, :, :]) ** 2).sum(axis=-1)
        best = max(best, float(squared.max()))
    return float(np.sqrt(best))


def sphere_offsets(spacing_kji, radius_mm: float = SUV_PEAK_RADIUS_MM) -> np.ndarray:
    """Boolean kernel (numpy order) of the voxel offsets whose centres lie within ``radius_mm`` of the centre."""
    spacing_kji = np.asarray(spacing_kji, dtype=float)
    reach = np.floor(radius_mm / spacing_kji).astype(int)
    grids = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    return sum((g * s) ** 2 for g, s in zip(grids, spacing_kji)) <= radius_mm ** 2 + 1e-9


def suv_peak(volume: Volume, box: Box, crop: np.ndarray) -> float:
    """SUVpeak as PERCIST 1.0 defines it: the 1 mL sphere (radius 6.2 mm) is centred on each voxel centre of the
    lesion (``crop`` inside ``box``) in turn; SUVpeak is the highest of those spheres' means. A sphere's mean is
    over the voxels whose centres lie within it, inside the lesion or not (uptake next to the edge counts, as in
    PERCIST); a sphere cut by the image's edge averages the voxels that exist."""
    from scipy import ndimage
    kernel = sphere_offsets(volume.spacing[::-1])
    reach = np.asarray(kernel.shape) // 2
    window = box.padded(reach, volume.array.shape)
    values = volume.array[window.slices].astype(np.float64)
    values = np.where(np.isnan(values), 0.0, values)
    present = (~np.isnan(volume.array[window.slices])).astype(np.float64)
    weights = kernel.astype(np.float64)
    sums = ndimage.correlate(values, weights, mode="constant", cval=0.0)
    counts = ndimage.correlate(present, weights, mode="constant", cval=0.0)
    lesion = np.zeros(window.shape, dtype=bool)
    lesion[box.relative_to(window)] = crop
    lesion &= counts > 0
    return float((sums[lesion] / counts[lesion]).max()) if lesion.any() else float("nan")


def segment_statistics(mask: MaskLike, volume: Volume) -> dict:
    """voxels, volume_ml, mean, std, min, max, median, centroid_mm, bbox_index, bbox_mm, max_diameter_mm
    (+ suv_max, suv_peak on PET); see the module docstring for the definitions."""
    if tuple(mask.shape) != tuple(volume.array.shape):
        raise ValueError(f"mask shape {tuple(mask.shape)} is not the volume's {tuple(volume.array.shape)}")
    pet = is_pet(volume)
    box, crop = mask_box_and_crop(mask)
    if box.empty or not crop.any():
        return _empty_statistics(pet)
    tight = Box.of_mask(crop, box.start)
    crop = crop[tight.relative_to(box)]
    box = tight
    values = volume.array[box.slices][crop].astype(np.float64)
    geometry = volume.geometry
    offset_kji = np.asarray(box.start)
    indices_kji = np.argwhere(crop)
    centroid_ijk = (indices_kji.mean(axis=0) + offset_kji)[::-1]
    first_ijk, last_ijk = offset_kji[::-1], (np.asarray(box.stop) - 1)[::-1]
    corners_ijk = np.array(list(itertools.product(*zip(first_ijk, last_ijk))), dtype=float)
    corners_mm = geometry.index_to_patient(corners_ijk)
    surface_mm = surface_voxels(crop) * geometry.spacing[::-1]
    stats = {
        "voxels": int(values.size),
        "volume_ml": values.size * geometry.voxel_volume_mm3 / 1000.0,
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
        "median": float(np.median(values)),
        "centroid_mm": [float(v) for v in geometry.index_to_patient(centroid_ijk)],
        "bbox_index": [[int(v) for v in first_ijk], [int(v) for v in last_ijk]],
        # LPS extent of the bounding box's corner voxel centres: [[x, y, z] min, [x, y, z] max].
        "bbox_mm": [[float(v) for v in corners_mm.min(axis=0)], [float(v) for v in corners_mm.max(axis=0)]],
        "max_diameter_mm": max_diameter_mm(surface_mm),
    }
    if pet:
        stats["suv_max"] = float(values.max())
        stats["suv_peak"] = suv_peak(volume, box, crop)
    return stats
