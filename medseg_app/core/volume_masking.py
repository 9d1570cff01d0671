"""Mask volume (3D Slicer's "Mask volume" effect): an image with its voxels inside or outside a segment set to a
fill value, as a new Volume; the image it is made from is never changed.

The result lies on the grid of the image given (the study's reference grid, where segments live), with the
image's modality, units and patient, and the reference's Frame of Reference; it is a derived series, so it has no
series or instance UIDs of its own. Voxels without a value (NaN: where a resampled layer has no voxels) take the
fill value too, so the new image has a value everywhere.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .volume import Volume

WHERE = ("outside", "inside")


def masked_array(image: np.ndarray, mask: np.ndarray, where: str, fill_value: float) -> np.ndarray:
    """``image`` with the voxels ``where`` (inside / outside) ``mask`` set to ``fill_value``, in a dtype holding it."""
    if where not in WHERE:
        raise ValueError(f"where must be one of {WHERE}")
    if image.shape != mask.shape:
        raise ValueError(f"the mask's shape {mask.shape} is not the image's {image.shape}")
    dtype = image.dtype
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if fill_value != np.floor(fill_value) or not info.min <= fill_value <= info.max:
            dtype = np.float32
    out = image.astype(dtype, copy=True)
    replace = mask if where == "inside" else ~mask
    if np.issubdtype(image.dtype, np.floating):
        replace = replace | np.isnan(image)
    out[replace] = fill_value
    return out


def masked_volume(source: Volume, mask: np.ndarray, where: str, fill_value: float, description: str,
                  frame_of_reference_uid: str = "") -> Volume:
    """A new Volume: ``source`` (on the mask's grid) with the voxels ``where`` ``mask`` set to ``fill_value``."""
    identity = dataclasses.replace(source.identity, series_instance_uid="", sop_instance_uids=(), frame_numbers=(),
                                   series_description=description,
                                   frame_of_reference_uid=frame_of_reference_uid or
                                   source.identity.frame_of_reference_uid)
    return Volume(masked_array(source.array, mask, where, fill_value), source.geometry, modality=source.modality,
                  units=source.units, identity=identity)
