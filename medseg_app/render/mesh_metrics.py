"""Mesh volume and surface area of a segment, as IBSI defines them (morph_volume, morph_area_mesh).

The surface is the unsmoothed marching-cubes isosurface at 0.5 of the binary mask, on the mask's bounding box
padded by one empty voxel (so it is closed), with the voxel spacing applied. Smoothing shrinks a surface, so
the smoothed meshes drawn in the 3-D view must never be measured. Direction and origin do not change volume
or area (the direction is orthonormal), so only the spacing is used.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D, vtkMarchingCubes, vtkMassProperties

from ..core.geometry import ImageGeometry
from ..core.overlap_metrics import MaskLike, mask_box_and_crop


def _padded_image(crop: np.ndarray, spacing_ijk) -> vtkImageData:
    padded = np.pad(crop.astype(np.uint8), 1)
    image = vtkImageData()
    image.SetDimensions(*padded.shape[::-1])
    image.SetSpacing(*(float(s) for s in spacing_ijk))
    scalars = numpy_support.numpy_to_vtk(padded.ravel(), deep=True)
    scalars.SetName("mask")
    image.GetPointData().SetScalars(scalars)
    return image


def mesh_volume_and_area(mask: MaskLike, geometry: ImageGeometry, algorithm: str = "flying edges") -> tuple[float, float]:
    """(volume in mL, surface area in mm²) of the unsmoothed 0.5 isosurface; (0, 0) for an empty mask.

    ``algorithm`` "marching cubes" uses vtkMarchingCubes instead of vtkFlyingEdges3D (an independent check).
    """
    box, crop = mask_box_and_crop(mask)
    if box.empty or not crop.any():
        return 0.0, 0.0
    contour = vtkMarchingCubes() if algorithm == "marching cubes" else vtkFlyingEdges3D()
    contour.SetInputData(_padded_image(crop, geometry.spacing))
    contour.SetValue(0, 0.5)
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    contour.ComputeScalarsOff()
    properties = vtkMassProperties()
    properties.SetInputConnection(contour.GetOutputPort())
    properties.Update()
    return float(properties.GetVolume()) / 1000.0, float(properties.GetSurfaceArea())
