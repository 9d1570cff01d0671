"""A Volume (or other voxels on its grid) as a float32 SimpleITK image: the independent peer the layer tests
resample with."""

import numpy as np
import SimpleITK as sitk

from medseg_app.core.sitk_bridge import apply_geometry


def float_image(volume, array=None) -> sitk.Image:
    voxels = np.ascontiguousarray(volume.array if array is None else array, np.float32)
    return apply_geometry(sitk.GetImageFromArray(voxels), volume.geometry)
