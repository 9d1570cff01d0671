"""Statistics of a segment (drawn on the study's reference grid) read from another image layer: HU from a CT, SUV
uptake from a PET, intensities from an MR.

Where the values are read: on the layer's own grid, with the segment carried there by the shape-keeping transfer
(core/mask_transfer.py; a planning-CT GTV reaches the PET grid with Dice ≥ 0.996 on the sarcoma data), not from
:meth:`Study.on_reference` (the layer linearly resampled onto the reference grid). PET quantities are defined on the
scanner's voxels: a linear resample onto a 1 mm CT grid averages neighbouring PET voxels, so SUVmax comes out lower
than any PET voxel it stands for and the SUVpeak sphere would average interpolated, not measured, values. Only when
a segment is too small to keep any layer voxel centre (smaller than one PET voxel) are the layer voxels that hold
the segment's voxel centres read instead; ``read_on`` says which.

PET layer in SUV: ``suv_max``; ``suv_peak`` (PERCIST 1.0: the highest mean over a 1 mL sphere, radius 6.2 mm,
centred on a lesion voxel, see :func:`core.segment_statistics.suv_peak`); ``suv_mean`` (the mean SUV of the layer
voxels in the transferred segment); ``mtv_ml`` (metabolic tumour volume: the segment's own volume on the reference
grid, where it was drawn); ``tlg`` (total lesion glycolysis = SUVmean × MTV, SUV·mL). Any other layer (CT in HU, MR,
PET not in SUV): ``mean``, ``std`` (ddof = 0), ``min``, ``max``, ``median`` in the layer's units.
"""

from __future__ import annotations

import numpy as np

from .box import Box
from .geometry import ImageGeometry
from .layer_transform import LayerTransform
from .mask_transfer import transfer_mask
from .overlap_metrics import MaskLike, mask_box_and_crop
from .segment_statistics import suv_peak
from .study import ImageLayer, Study
from .volume import UNITS_SUV, Volume

PET_KEYS = ("suv_max", "suv_peak", "suv_mean", "mtv_ml", "tlg")
INTENSITY_KEYS = ("mean", "std", "min", "max", "median")
MODALITY_LABELS = {"PT": "PET", "CT": "CT", "MR": "MR"}


def is_suv(volume: Volume) -> bool:
    return volume.units == UNITS_SUV


def _mask_volume_ml(mask: MaskLike, geometry: ImageGeometry) -> float:
    _, crop = mask_box_and_crop(mask)
    return int(np.count_nonzero(crop)) * geometry.voxel_volume_mm3 / 1000.0


def _empty(pet: bool) -> dict:
    return dict.fromkeys(PET_KEYS if pet else INTENSITY_KEYS) | {"read_on": None}


def mask_on_layer(mask: MaskLike, reference: ImageGeometry, layer: Volume,
                  transform: LayerTransform) -> tuple[Box, np.ndarray]:
    """The segment on the layer's grid (its box there and the contents)."""
    if transform.is_identity and layer.geometry.same_grid(reference, tol_mm=1e-3):
        box, crop = mask_box_and_crop(mask)
        return box, np.asarray(crop, dtype=bool)
    # the transfer's target is the layer: its points reach the reference by the inverse of reference → layer
    return transfer_mask(mask, reference, layer.geometry, transform.inverse())


def _voxels_holding(mask: MaskLike, reference: ImageGeometry, layer: Volume,
                    transform: LayerTransform) -> tuple[Box, np.ndarray]:
    """The layer voxels that contain one of the segment's voxel centres (a segment smaller than a layer voxel)."""
    box, crop = mask_box_and_crop(mask)
    kji = np.argwhere(np.asarray(crop, dtype=bool)) + np.asarray(box.start)
    if len(kji) == 0:
        return Box((0, 0, 0), (0, 0, 0)), np.zeros((0, 0, 0), dtype=bool)
    points = transform.map_to_layer(reference.index_to_patient(kji[:, ::-1].astype(float)))
    ijk = layer.geometry.patient_to_nearest_index(points)
    ijk = ijk[np.all((ijk >= 0) & (ijk < np.asarray(layer.geometry.size)), axis=1)]
    if len(ijk) == 0:
        return Box((0, 0, 0), (0, 0, 0)), np.zeros((0, 0, 0), dtype=bool)
    found = ijk[:, ::-1]
    held = Box(tuple(int(v) for v in found.min(axis=0)), tuple(int(v) + 1 for v in found.max(axis=0)))
    out = np.zeros(held.shape, dtype=bool)
    out[tuple((found - np.asarray(held.start)).T)] = True
    return held, out


def layer_statistics(mask: MaskLike, reference: ImageGeometry, layer: Volume,
                     transform: LayerTransform | None = None) -> dict:
    """The module docstring's numbers for ``mask`` (on ``reference``) read from ``layer`` (reached from the
    reference by ``transform``, reference → layer); None values for an empty segment or one outside the layer."""
    transform = transform or LayerTransform.identity()
    pet = is_suv(layer)
    box, crop = mask_on_layer(mask, reference, layer, transform)
    read_on = "transferred segment"
    if box.empty or not crop.any():
        box, crop = _voxels_holding(mask, reference, layer, transform)
        read_on = "layer voxels holding the segment"
    if box.empty or not crop.any():
        return _empty(pet)
    values = layer.array[box.slices][crop].astype(np.float64)
    if not pet:
        return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
                "max": float(values.max()), "median": float(np.median(values)), "read_on": read_on}
    mtv = _mask_volume_ml(mask, reference)
    mean = float(values.mean())
    return {"suv_max": float(values.max()), "suv_peak": suv_peak(layer, box, crop), "suv_mean": mean,
            "mtv_ml": mtv, "tlg": mean * mtv, "read_on": read_on}


def layer_prefix(study: Study, layer: ImageLayer) -> str:
    """The column prefix of a layer: its modality (PET, CT, MR), with its id when two layers share it."""
    label = MODALITY_LABELS.get(layer.modality, layer.modality or "layer")
    twins = [other for other in study.layers if MODALITY_LABELS.get(other.modality, other.modality or "layer")
             == label]
    return label if len(twins) == 1 else f"{label}{layer.id}"


def study_layer_row(mask: MaskLike, study: Study, layer_ids) -> dict:
    """``{prefix}_{key}`` → value for each of ``layer_ids`` (e.g. ``PET_suv_max``, ``CT_mean``), with each layer's
    units as ``{prefix}_units``."""
    row: dict = {}
    for layer_id in layer_ids:
        layer = study.layer(layer_id)
        prefix = layer_prefix(study, layer)
        numbers = layer_statistics(mask, study.geometry, layer.volume, layer.transform)
        row.update({f"{prefix}_{key}": value for key, value in numbers.items()})
        row[f"{prefix}_units"] = layer.units
    return row
