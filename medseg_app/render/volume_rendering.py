"""Optional volume rendering of the image in the 3-D view: CT bone, CT soft tissue, PET MIP.

The image is handed to VTK without a copy (spacing in mm, origin 0) and placed in LPS patient coordinates by the
vtkVolume's user matrix (direction and origin), so an oblique volume lands where the slice planes are. An image
layer of a study is placed in the reference's patient space by its transform as well (``to_reference``: the
layer's patient points → the reference's, LayerTransform.layer_to_reference), so a registered MR or PET is
rendered where it lies on the reference, without a resample.
vtkSmartVolumeMapper picks GPU ray casting where OpenGL allows it (Mesa's llvmpipe under Xvfb does) and falls
back to the CPU ray caster otherwise; ``mapper="cpu"`` forces vtkFixedPointVolumeRayCastMapper. GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkRenderingCore import vtkColorTransferFunction, vtkRenderer, vtkVolume, vtkVolumeProperty
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401  (registers the OpenGL volume mappers)
from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkSmartVolumeMapper

from ..core.volume import Volume


@dataclass(frozen=True)
class Preset:
    title: str
    colours: tuple[tuple[float, float, float, float], ...]  # (value, r, g, b), r g b in 0–1
    opacities: tuple[tuple[float, float], ...]  # (value, opacity)
    mip: bool = False  # maximum intensity projection instead of compositing
    shade: bool = True


PRESETS: dict[str, Preset] = {
    "ct_bone": Preset("CT bone",
                      ((-1000, 0, 0, 0), (150, 0.55, 0.25, 0.15), (300, 0.9, 0.82, 0.7), (1500, 1, 1, 0.95)),
                      ((-1000, 0), (150, 0), (300, 0.35), (800, 0.8), (3000, 0.9))),
    "ct_soft_tissue": Preset("CT soft tissue",
                             ((-1000, 0, 0, 0), (-500, 0.55, 0.25, 0.15), (0, 0.85, 0.55, 0.45),
                              (100, 0.95, 0.75, 0.6), (400, 1, 0.95, 0.9), (3000, 1, 1, 1)),
                             ((-1000, 0), (-600, 0), (-400, 0.05), (0, 0.12), (100, 0.3), (400, 0.6),
                              (3000, 0.8))),
    "pet_mip": Preset("PET MIP", ((0.0, 0, 0, 0), (5.0, 1, 1, 1)), ((0.0, 0), (5.0, 1)), mip=True,
                      shade=False),
}


def _scaled(preset: Preset, volume: Volume) -> tuple[list, list]:
    """PET MIP is defined for SUV 0–5; without SUV units it spans the 99.5th percentile of the image."""
    colours, opacities = list(preset.colours), list(preset.opacities)
    if preset.mip and volume.units != "SUV":
        sample = volume.array[::4, ::4, ::4]
        top = float(np.percentile(sample, 99.5)) or 1.0
        scale = top / 5.0
        colours = [(v * scale, r, g, b) for v, r, g, b in colours]
        opacities = [(v * scale, o) for v, o in opacities]
    return colours, opacities


def patient_matrix(volume: Volume, to_reference: np.ndarray | None = None) -> vtkMatrix4x4:
    """4×4 taking the image's local millimetres (origin 0, along the voxel axes) to LPS: direction, origin; then,
    for a study's layer, ``to_reference`` (4×4, the layer's patient space → the reference's)."""
    geometry = volume.geometry
    local_to_patient = np.eye(4)
    local_to_patient[:3, :3] = geometry.direction
    local_to_patient[:3, 3] = geometry.origin
    if to_reference is not None:
        local_to_patient = np.asarray(to_reference, dtype=float) @ local_to_patient
    matrix = vtkMatrix4x4()
    for row in range(4):
        for col in range(4):
            matrix.SetElement(row, col, float(local_to_patient[row, col]))
    return matrix


class VolumeRendering:
    """A vtkVolume of the image in ``renderer``, hidden until a preset is chosen."""

    def __init__(self, renderer: vtkRenderer, mapper: str = "smart"):
        self.renderer = renderer
        self.preset: str | None = None
        self._volume: Volume | None = None
        self._to_reference: np.ndarray | None = None
        self._pixels: np.ndarray | None = None  # VTK wraps this array without copying: keep it alive
        self.image = vtkImageData()
        if mapper == "cpu":
            self.mapper = vtkFixedPointVolumeRayCastMapper()
        else:
            self.mapper = vtkSmartVolumeMapper()
            self.mapper.SetRequestedRenderModeToDefault()
        self.mapper.SetInputData(self.image)
        self.property = vtkVolumeProperty()
        self.property.SetInterpolationTypeToLinear()
        self.actor = vtkVolume()
        self.actor.SetMapper(self.mapper)
        self.actor.SetProperty(self.property)
        self.actor.SetVisibility(False)
        self.actor.SetPickable(False)
        renderer.AddVolume(self.actor)

    def set_volume(self, volume: Volume, to_reference: np.ndarray | None = None) -> None:
        """Remember the image (and, for a study's layer, its layer → reference matrix); it is handed to VTK only
        when volume rendering is on. The same image with another matrix only moves the vtkVolume."""
        if volume is self._volume and self._pixels is not None:
            self._to_reference = to_reference
            self.actor.SetUserMatrix(patient_matrix(volume, to_reference))
            return
        self._volume = volume
        self._to_reference = to_reference
        self._pixels = None
        if self.preset is not None:
            self.set_preset(self.preset)

    @property
    def volume(self) -> Volume | None:
        return self._volume

    @property
    def to_reference(self) -> np.ndarray:
        """The layer → reference matrix the volume is placed by (identity for the reference image itself)."""
        return np.eye(4) if self._to_reference is None else np.asarray(self._to_reference, dtype=float)

    def _upload(self) -> None:
        volume = self._volume
        pixels = volume.array
        if pixels.dtype == np.float64 or pixels.dtype.byteorder not in ("=", "|"):
            pixels = pixels.astype(np.float32)
        self._pixels = np.ascontiguousarray(pixels)
        k, j, i = self._pixels.shape
        self.image.SetDimensions(i, j, k)
        self.image.SetSpacing(*volume.geometry.spacing)
        self.image.SetOrigin(0.0, 0.0, 0.0)
        self.image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(self._pixels.reshape(-1), deep=False))
        self.image.Modified()
        self.actor.SetUserMatrix(patient_matrix(volume, self._to_reference))

    def release(self, render_window) -> None:
        """Free the mapper's OpenGL resources while the context still exists (before the window is finalized)."""
        self.actor.ReleaseGraphicsResources(render_window)
        self.mapper.ReleaseGraphicsResources(render_window)
        self.renderer.RemoveVolume(self.actor)

    def set_preset(self, name: str | None) -> None:
        """One of PRESETS, or None to hide the volume."""
        self.preset = name
        if name is None or self._volume is None:
            self.actor.SetVisibility(False)
            return
        preset = PRESETS[name]
        if self._pixels is None:
            self._upload()
        colours, opacities = _scaled(preset, self._volume)
        colour = vtkColorTransferFunction()
        for value, r, g, b in colours:
            colour.AddRGBPoint(value, r, g, b)
        opacity = vtkPiecewiseFunction()
        for value, alpha in opacities:
            opacity.AddPoint(value, alpha)
        self.property.SetColor(colour)
        self.property.SetScalarOpacity(opacity)
        if preset.shade:
            self.property.ShadeOn()
            self.property.SetAmbient(0.3)
            self.property.SetDiffuse(0.7)
            self.property.SetSpecular(0.2)
        else:
            self.property.ShadeOff()
        if preset.mip:
            self.mapper.SetBlendModeToMaximumIntensity()
        else:
            self.mapper.SetBlendModeToComposite()
        self.actor.SetVisibility(True)
