"""Volume <-> SimpleITK image, sharing geometry conventions exactly (both are LPS, index order i, j, k)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .geometry import ImageGeometry
from .volume import Volume


def geometry_from_sitk(image: sitk.Image) -> ImageGeometry:
    if image.GetDimension() != 3:
        raise ValueError(f"expected a 3-D image, got {image.GetDimension()}-D")
    return ImageGeometry(
        size=image.GetSize(),
        spacing=image.GetSpacing(),
        origin=image.GetOrigin(),
        direction=np.asarray(image.GetDirection()).reshape(3, 3),
    )


def apply_geometry(image: sitk.Image, geometry: ImageGeometry) -> sitk.Image:
    image.SetSpacing([float(v) for v in geometry.spacing])
    image.SetOrigin([float(v) for v in geometry.origin])
    image.SetDirection(geometry.direction_row_major())
    return image


def to_sitk(volume: Volume) -> sitk.Image:
    """A SimpleITK image with the volume's voxels (copied) and geometry."""
    return apply_geometry(sitk.GetImageFromArray(volume.array), volume.geometry)


def array_and_geometry_from_sitk(image: sitk.Image) -> tuple[np.ndarray, ImageGeometry]:
    return sitk.GetArrayFromImage(image), geometry_from_sitk(image)
