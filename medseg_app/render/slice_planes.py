"""The 3-D view's scene: the three orthogonal slice planes through the crosshair, in LPS patient millimetres.

Each plane is a quad whose corners come from :meth:`ImageGeometry.index_to_patient` (the voxel grid's edges,
half a voxel beyond the first and last centres), textured with the slice's voxels mapped through the window's
lookup table. World coordinates are LPS, so an oblique volume sits where it lies in the patient, and the camera
starts as 3D Slicer's does: looking from the front (anterior, -y) with superior (+z) up.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkCommonExecutionModel import vtkAlgorithm
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersSources import vtkOutlineSource, vtkPlaneSource
from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkTexture

import vtkmodules.vtkRenderingFreeType  # noqa: F401  (text rendering back-end)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window and mappers)

from ..core.display_axes import nearest_patient_axes
from ..core.geometry import ImageGeometry
from ..core.volume import Volume
from ..core.window_level import WindowLevel, colour_table

# Plane border colours by the patient axis the plane is normal to, as in 3D Slicer and the slice views:
# sagittal (x) yellow, coronal (y) green, axial (z) red.
_BORDER_RGB = {0: (235 / 255, 205 / 255, 70 / 255), 1: (100 / 255, 190 / 255, 90 / 255),
               2: (225 / 255, 80 / 255, 70 / 255)}


def plane_corners(geometry: ImageGeometry, axis: int, index: float) -> np.ndarray:
    """(4, 3) LPS corners of the slice ``index`` across voxel ``axis``: origin, end of first axis, end of second,
    and the far corner; the first and second in-plane axes are the other two voxel axes in (i, j, k) order."""
    a, b = (n for n in range(3) if n != axis)
    size = geometry.size
    corners = np.zeros((4, 3))
    corners[:, axis] = index
    corners[:, a] = [-0.5, size[a] - 0.5, -0.5, size[a] - 0.5]
    corners[:, b] = [-0.5, -0.5, size[b] - 0.5, size[b] - 0.5]
    return geometry.index_to_patient(corners)


def box_corners(geometry: ImageGeometry) -> np.ndarray:
    """(8, 3) LPS corners of the whole grid (voxel edges), i fastest, as vtkOutlineSource's oriented box wants."""
    ni, nj, nk = geometry.size
    idx = np.array([[i, j, k] for k in (-0.5, nk - 0.5) for j in (-0.5, nj - 0.5) for i in (-0.5, ni - 0.5)])
    return geometry.index_to_patient(idx)


def patient_bounds(points: np.ndarray) -> tuple[float, ...]:
    """VTK-style (xmin, xmax, ymin, ymax, zmin, zmax) of a set of LPS points."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    return tuple(float(v) for pair in zip(lo, hi) for v in pair)


def _slice_array(array: np.ndarray, axis: int, index: int) -> np.ndarray:
    """The 2-D slice across voxel ``axis`` as [second, first] in-plane axis: x fastest, as vtkImageData stores."""
    plane = array[(slice(None),) * (2 - axis) + (index,)]
    dtype = np.dtype(np.uint8) if plane.dtype == np.bool_ else plane.dtype.newbyteorder("=")
    return np.ascontiguousarray(plane, dtype=dtype)


class _Plane:
    """One textured slice quad plus its coloured border."""

    def __init__(self, axis: int, lut: vtkLookupTable):
        self.axis = axis
        self.index = -1
        self.source = vtkPlaneSource()
        self.source.SetOutputPointsPrecision(vtkAlgorithm.DOUBLE_PRECISION)
        self.image = vtkImageData()
        self.pixels: np.ndarray | None = None  # VTK wraps this array without copying: keep it alive
        self.texture = vtkTexture()
        self.texture.SetInputData(self.image)
        self.texture.SetLookupTable(lut)
        self.texture.SetColorModeToMapScalars()
        self.texture.InterpolateOn()
        self.texture.EdgeClampOn()
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(self.source.GetOutputPort())
        self.actor = vtkActor()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(self.texture)
        prop = self.actor.GetProperty()
        prop.LightingOff()
        border_mapper = vtkPolyDataMapper()
        border_mapper.SetInputConnection(self.source.GetOutputPort())
        self.border = vtkActor()
        self.border.SetMapper(border_mapper)
        border = self.border.GetProperty()
        border.SetRepresentationToWireframe()
        border.LightingOff()
        border.SetLineWidth(2.0)

    def show(self, volume: Volume, index: int) -> None:
        self.index = index
        geometry = volume.geometry
        corners = plane_corners(geometry, self.axis, index)
        self.source.SetOrigin(*corners[0])
        self.source.SetPoint1(*corners[1])
        self.source.SetPoint2(*corners[2])
        self.pixels = _slice_array(volume.array, self.axis, index)
        rows, cols = self.pixels.shape
        self.image.SetDimensions(cols, rows, 1)
        self.image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(self.pixels.reshape(-1), deep=False))
        self.image.Modified()

    def set_visible(self, visible: bool) -> None:
        self.actor.SetVisibility(visible)
        self.border.SetVisibility(visible)


class SlicePlanesScene:
    """A vtkRenderer holding the slice planes, the volume's outline and, once given an interactor, the
    patient-orientation cube. Call ``render_window.Render()`` (or let the widget repaint) after changes."""

    def __init__(self):
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.08, 0.09, 0.12)
        self.volume: Volume | None = None
        self.lut = vtkLookupTable()
        self.planes = [_Plane(axis, self.lut) for axis in range(3)]
        for plane in self.planes:
            self.renderer.AddActor(plane.actor)
            self.renderer.AddActor(plane.border)
            plane.set_visible(False)
        self.outline_source = vtkOutlineSource()
        self.outline_source.SetBoxTypeToOriented()
        self.outline_source.SetOutputPointsPrecision(vtkAlgorithm.DOUBLE_PRECISION)
        outline_mapper = vtkPolyDataMapper()
        outline_mapper.SetInputConnection(self.outline_source.GetOutputPort())
        self.outline = vtkActor()
        self.outline.SetMapper(outline_mapper)
        self.outline.GetProperty().SetColor(0.85, 0.85, 0.85)
        self.outline.GetProperty().LightingOff()
        self.outline.SetVisibility(False)
        self.renderer.AddActor(self.outline)
        self.marker_widget = None
        self.set_window(WindowLevel(400, 40), "grey")

    # --- content ----------------------------------------------------------------------------
    def set_volume(self, volume: Volume, crosshair=None) -> None:
        self.volume = volume
        geometry = volume.geometry
        self.outline_source.SetCorners(box_corners(geometry).reshape(-1).tolist())
        voxel_axis, _ = nearest_patient_axes(geometry.direction)
        for patient_axis, axis in enumerate(voxel_axis):
            self.planes[axis].border.GetProperty().SetColor(*_BORDER_RGB[patient_axis])
        for plane in self.planes:
            plane.index = -1
            plane.set_visible(True)
        self.outline.SetVisibility(True)
        self.set_crosshair(np.asarray(volume.size) // 2 if crosshair is None else crosshair)
        self.reset_camera()

    def set_crosshair(self, index) -> None:
        """Move the planes to voxel index (i, j, k); only planes whose slice changed are re-textured."""
        if self.volume is None:
            return
        index = np.clip(np.rint(np.asarray(index, float)).astype(int), 0, np.asarray(self.volume.size) - 1)
        for plane in self.planes:
            if plane.index != index[plane.axis]:
                plane.show(self.volume, int(index[plane.axis]))

    def set_window(self, wl: WindowLevel, colour_map: str = "grey") -> None:
        rgba = np.empty((256, 4), np.uint8)
        rgba[:, :3] = colour_table(colour_map)
        rgba[:, 3] = 255
        self.lut.SetTable(numpy_support.numpy_to_vtk(rgba, deep=True))
        self.lut.SetRange(wl.low, wl.high)
        self.lut.Modified()

    # --- camera and decorations -------------------------------------------------------------
    def reset_camera(self) -> None:
        """Look from the front (anterior, -y in LPS), turned 30° towards the patient's left and 20° down from
        above, at the volume's centre, superior up: all three planes are seen at once, none edge-on."""
        camera = self.renderer.GetActiveCamera()
        centre = np.zeros(3)
        if self.volume is not None:
            centre = box_corners(self.volume.geometry).mean(axis=0)
        camera.SetFocalPoint(*centre)
        turn, tilt = np.radians(30.0), np.radians(20.0)
        offset = [np.sin(turn) * np.cos(tilt), -np.cos(turn) * np.cos(tilt), np.sin(tilt)]
        camera.SetPosition(*(centre + offset))
        camera.SetViewUp(0.0, 0.0, 1.0)
        camera.OrthogonalizeViewUp()
        if self.volume is not None:
            self.renderer.ResetCamera(patient_bounds(box_corners(self.volume.geometry)))
        else:
            self.renderer.ResetCamera()

    def install_orientation_marker(self, interactor) -> None:
        """Show the L/R/A/P/S/I cube in the lower-left corner, turning with the camera (needs an interactor)."""
        from vtkmodules.vtkInteractionWidgets import vtkOrientationMarkerWidget

        if self.marker_widget is not None:
            return
        widget = vtkOrientationMarkerWidget()
        widget.SetOrientationMarker(orientation_cube())
        widget.SetInteractor(interactor)
        widget.SetViewport(0.0, 0.0, 0.18, 0.18)
        widget.SetEnabled(1)
        widget.InteractiveOff()
        self.marker_widget = widget

    def plane_bounds(self) -> list[tuple[float, ...]]:
        """VTK bounds of the three plane actors, in voxel-axis order (i, j, k)."""
        return [plane.actor.GetBounds() for plane in self.planes]


def orientation_cube() -> vtkAnnotatedCubeActor:
    """A cube labelled with the patient directions of LPS world axes."""
    cube = vtkAnnotatedCubeActor()
    for setter, text in (("XPlus", "L"), ("XMinus", "R"), ("YPlus", "P"), ("YMinus", "A"),
                         ("ZPlus", "S"), ("ZMinus", "I")):
        getattr(cube, f"Set{setter}FaceText")(text)
    cube.SetFaceTextScale(0.6)
    cube.GetCubeProperty().SetColor(0.75, 0.78, 0.85)
    cube.GetTextEdgesProperty().SetColor(0.2, 0.2, 0.2)
    for axis, name in enumerate("XYZ"):
        getattr(cube, f"Get{name}PlusFaceProperty")().SetColor(*_BORDER_RGB[axis])
        getattr(cube, f"Get{name}MinusFaceProperty")().SetColor(*_BORDER_RGB[axis])
    return cube
