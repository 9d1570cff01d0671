"""Segment surfaces for the 3-D view: a mask's boundary as a triangle mesh in LPS patient millimetres.

:func:`surface_arrays` is pure and thread-safe (it builds its own VTK filters and returns numpy arrays only), so
the GUI runs it in a worker; :class:`SegmentSurfacesScene` owns one actor per segment and must be touched on the
GUI thread only. The mask is meshed on its bounding box padded by one background voxel (a lesion costs
milliseconds instead of a pass over the whole grid), with voxel spacing in millimetres so that smoothing is
isotropic; the points are then rotated by the direction cosines and moved to the origin, so an oblique volume's
surface lies where its voxels are in the patient.

Measured (2 cores, see benchmarks/bench_surfaces.py): vtkQuadricDecimation needs minutes and vtkDecimatePro
seconds on a 1.3 M-triangle body surface, vtkQuadricClustering 0.2 s, so large surfaces are clustered.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkPoints, vtkSMPTools
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkQuadricClustering,
    vtkSurfaceNets3D,
    vtkWindowedSincPolyDataFilter,
)
from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer

from ..core.geometry import ImageGeometry
from ..core.sparse_mask import SparseMask

SMOOTHING_ITERATIONS = 16  # SurfaceNets3D's default; 0 gives the unsmoothed (statistics-grade) surface
DECIMATE_ABOVE = 400_000  # triangles; larger surfaces are clustered down to about this many
METHODS = ("surface_nets", "flying_edges")

_smp_lock = threading.Lock()
_smp_enabled = False


def enable_vtk_threads() -> None:
    """Let VTK's SMP filters use every core (the pip build runs sequentially until a backend is chosen)."""
    global _smp_enabled
    with _smp_lock:
        if not _smp_enabled:
            vtkSMPTools.SetBackend("STDThread")
            _smp_enabled = True


enable_vtk_threads()


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32)


def _image(array: np.ndarray, spacing, origin) -> vtkImageData:
    """uint8 vtkImageData wrapping ``array`` ([k, j, i], i fastest) without a copy: keep ``array`` alive."""
    image = vtkImageData()
    image.SetDimensions(array.shape[2], array.shape[1], array.shape[0])
    image.SetSpacing(*spacing)
    image.SetOrigin(*origin)
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(array.reshape(-1), deep=False))
    return image


def _padded(data: np.ndarray) -> np.ndarray:
    """The mask as uint8 with one zero voxel on every side (so that the surface is closed)."""
    padded = np.zeros(tuple(n + 2 for n in data.shape), np.uint8)
    padded[1:-1, 1:-1, 1:-1] = data
    return padded


def _block_counts(data: np.ndarray, factor: int) -> np.ndarray:
    """Voxels set in each ``factor``³ block (uint8), padded by one empty block on every side."""
    coarse = tuple(-(-n // factor) for n in data.shape)
    fine = np.zeros(tuple(n * factor for n in coarse), np.uint8)
    fine[:data.shape[0], :data.shape[1], :data.shape[2]] = data
    counts = np.zeros(tuple(n + 2 for n in coarse), np.uint8)
    inner = counts[1:-1, 1:-1, 1:-1]
    for a in range(factor):
        for b in range(factor):
            for c in range(factor):
                inner += fine[a::factor, b::factor, c::factor]
    return counts


def estimated_triangles(shape) -> int:
    """About how many triangles the surface of a compact blob filling a box of ``shape`` voxels has."""
    a, b, c = shape
    return 4 * (a * b + b * c + c * a)


def _extract(image: vtkImageData, smoothing: int, method: str) -> vtkPolyData:
    if method == "surface_nets":
        nets = vtkSurfaceNets3D()
        nets.SetInputData(image)
        nets.SetValue(0, 1)
        nets.SetOutputMeshTypeToTriangles()
        nets.SetSmoothing(smoothing > 0)
        nets.SetNumberOfIterations(max(0, int(smoothing)))
        nets.Update()
        return nets.GetOutput()
    if method != "flying_edges":
        raise ValueError(f"method must be one of {METHODS}")
    edges = vtkDiscreteFlyingEdges3D()
    edges.SetInputData(image)
    edges.SetValue(0, 1)
    edges.ComputeNormalsOff()
    edges.ComputeGradientsOff()
    edges.ComputeScalarsOff()
    if smoothing <= 0:
        edges.Update()
        return edges.GetOutput()
    sinc = vtkWindowedSincPolyDataFilter()
    sinc.SetInputConnection(edges.GetOutputPort())
    sinc.SetNumberOfIterations(int(smoothing))
    sinc.SetPassBand(0.1)
    sinc.BoundarySmoothingOff()
    sinc.FeatureEdgeSmoothingOff()
    sinc.NonManifoldSmoothingOn()
    sinc.NormalizeCoordinatesOn()
    sinc.Update()
    return sinc.GetOutput()


def _cluster(mesh: vtkPolyData, target: int, voxels: tuple[int, int, int]) -> vtkPolyData:
    """Quadric clustering to about ``target`` triangles: bins of ``sqrt(n / target)`` voxels per side."""
    bin_voxels = math.sqrt(mesh.GetNumberOfPolys() / max(1, target))
    cluster = vtkQuadricClustering()
    cluster.SetInputData(mesh)
    cluster.AutoAdjustNumberOfDivisionsOff()
    cluster.SetNumberOfDivisions(*(max(2, math.ceil(n / bin_voxels)) for n in voxels))
    cluster.Update()
    return cluster.GetOutput()


def surface_arrays(mask: SparseMask, geometry: ImageGeometry, smoothing: int = SMOOTHING_ITERATIONS,
                   decimate_above: int | None = DECIMATE_ABOVE,
                   method: str = "surface_nets") -> tuple[np.ndarray, np.ndarray]:
    """The boundary of ``mask`` as (points float32 (n, 3) LPS mm, triangles int32 (m, 3) point indices).

    ``smoothing``: SurfaceNets3D relaxation iterations (or WindowedSinc iterations with ``method="flying_edges"``);
    0 keeps the voxel-faithful surface. Surfaces of more than ``decimate_above`` triangles (None: never) are
    clustered down to about that many. An empty mask gives empty arrays.
    """
    if mask.box.empty or not mask.data.any():
        return _empty()
    spacing = geometry.spacing
    factor = 1
    if decimate_above is not None:
        factor = min(6, math.ceil(math.sqrt(estimated_triangles(mask.data.shape) / max(1, decimate_above))))
    if factor <= 1:
        array = _padded(mask.data)
        image = _image(array, spacing, -spacing)  # padded voxel 0 is one voxel before the box's first
        mesh = _extract(image, smoothing, method)
    else:
        # Large: mesh the fraction of each factor³ block at one half (partial-volume antialiasing), so the
        # surface keeps the mask's volume while having ~factor² fewer triangles; ~10× cheaper than meshing
        # the full grid and clustering.
        array = _block_counts(mask.data, factor)
        origin = (-factor + (factor - 1) / 2.0) * spacing  # centre of the padding block, in fine voxels
        image = _image(array, factor * spacing, origin)
        edges = vtkFlyingEdges3D()
        edges.SetInputData(image)
        edges.SetValue(0, factor ** 3 / 2.0)
        edges.ComputeNormalsOff()
        edges.ComputeGradientsOff()
        edges.ComputeScalarsOff()
        edges.Update()
        mesh = edges.GetOutput()
    if decimate_above is not None and mesh.GetNumberOfPolys() > 2 * decimate_above:
        mesh = _cluster(mesh, decimate_above, image.GetDimensions())  # a complex shape the estimate missed
    if mesh.GetNumberOfPoints() == 0 or mesh.GetNumberOfPolys() == 0:
        return _empty()
    local = numpy_support.vtk_to_numpy(mesh.GetPoints().GetData()).astype(np.float64)
    # Local millimetres along the voxel axes, from the centre of the box's first voxel (index box.start).
    first = np.asarray(mask.box.start[::-1], float) * spacing
    points = (local + first) @ geometry.direction.T + geometry.origin
    polys = mesh.GetPolys()
    offsets = numpy_support.vtk_to_numpy(polys.GetOffsetsArray())
    connectivity = numpy_support.vtk_to_numpy(polys.GetConnectivityArray())
    if not np.all(np.diff(offsets) == 3):  # keep triangles only (the filters above make nothing else)
        sizes = np.diff(offsets)
        starts = offsets[:-1][sizes == 3]
        connectivity = connectivity[starts[:, None] + np.arange(3)]
    return points.astype(np.float32), np.ascontiguousarray(connectivity.reshape(-1, 3), dtype=np.int32)


def vertex_normals(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (float32 (n, 3)) for smooth shading; numpy only, worker-safe."""
    p = points.astype(np.float64, copy=False)
    face = np.cross(p[triangles[:, 1]] - p[triangles[:, 0]], p[triangles[:, 2]] - p[triangles[:, 0]])
    normals = np.zeros((len(points), 3))
    flat = triangles.reshape(-1)
    for axis in range(3):
        normals[:, axis] = np.bincount(flat, weights=np.repeat(face[:, axis], 3), minlength=len(points))
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)


def enclosed_volume_mm3(points: np.ndarray, triangles: np.ndarray) -> float:
    """The volume a closed, consistently oriented triangle mesh encloses (divergence theorem), in mm³."""
    p = points.astype(np.float64)
    a, b, c = p[triangles[:, 0]], p[triangles[:, 1]], p[triangles[:, 2]]
    return float(abs(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)


def polydata(points: np.ndarray, triangles: np.ndarray, normals: np.ndarray | None = None) -> vtkPolyData:
    """A vtkPolyData sharing nothing with the inputs' lifetime (arrays are deep-copied into VTK)."""
    mesh = vtkPolyData()
    vtk_points = vtkPoints()
    vtk_points.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(points, np.float32), deep=True))
    mesh.SetPoints(vtk_points)
    cells = vtkCellArray()
    offsets = np.arange(0, 3 * len(triangles) + 1, 3, dtype=np.int64)
    cells.SetData(numpy_support.numpy_to_vtkIdTypeArray(offsets, deep=True),
                  numpy_support.numpy_to_vtkIdTypeArray(np.ascontiguousarray(triangles, np.int64).reshape(-1),
                                                        deep=True))
    mesh.SetPolys(cells)
    if normals is not None:
        array = numpy_support.numpy_to_vtk(np.ascontiguousarray(normals, np.float32), deep=True)
        array.SetName("Normals")
        mesh.GetPointData().SetNormals(array)
    return mesh


class SegmentSurfacesScene:
    """One actor per segment in ``renderer`` (SlicePlanesScene.renderer); GUI thread only."""

    def __init__(self, renderer: vtkRenderer):
        self.renderer = renderer
        self.actors: dict[int, vtkActor] = {}
        self._styles: dict[int, tuple] = {}

    def set_surface(self, segment_id: int, points: np.ndarray, triangles: np.ndarray,
                    normals: np.ndarray | None = None) -> None:
        """Show (or replace) a segment's mesh; an empty mesh removes the actor. The style is kept."""
        if len(triangles) == 0:
            self.remove(segment_id, keep_style=True)
            return
        actor = self.actors.get(segment_id)
        if actor is None:
            actor = vtkActor()
            mapper = vtkPolyDataMapper()
            mapper.ScalarVisibilityOff()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetSpecular(0.25)
            prop.SetSpecularPower(20)
            prop.SetInterpolationToGouraud()
            self.actors[segment_id] = actor
            self.renderer.AddActor(actor)
        actor.GetMapper().SetInputData(polydata(points, triangles, normals))
        if segment_id in self._styles:
            self._apply_style(segment_id)

    def set_style(self, segment_id: int, colour, opacity: float = 1.0, visible: bool = True) -> None:
        """Colour (RGB 0–255), opacity (0–1) and visibility; remembered for a surface that arrives later."""
        self._styles[segment_id] = (tuple(int(c) for c in colour), float(opacity), bool(visible))
        if segment_id in self.actors:
            self._apply_style(segment_id)

    def _apply_style(self, segment_id: int) -> None:
        colour, opacity, visible = self._styles[segment_id]
        actor = self.actors[segment_id]
        prop = actor.GetProperty()
        prop.SetColor(*(c / 255.0 for c in colour))
        prop.SetOpacity(opacity)
        actor.SetVisibility(visible)

    def remove(self, segment_id: int, keep_style: bool = False) -> None:
        actor = self.actors.pop(segment_id, None)
        if actor is not None:
            self.renderer.RemoveActor(actor)
        if not keep_style:
            self._styles.pop(segment_id, None)

    def clear(self) -> None:
        for segment_id in list(self.actors):
            self.remove(segment_id)
        self._styles.clear()

    def triangle_count(self, segment_id: int) -> int:
        actor = self.actors.get(segment_id)
        return 0 if actor is None else actor.GetMapper().GetInput().GetNumberOfPolys()
