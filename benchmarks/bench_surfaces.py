"""3-D surface benchmarks: the mesh of an edited segment, as the 3-D view rebuilds it in the background.

``mesh_update_organ``: surface_arrays (SurfaceNets3D with smoothing, cropped to the segment's box) of an organ-sized
segment (~250 k voxels, an ellipsoid) on a 512×512×300 grid: mask to points + triangles in LPS mm. Target ≤ 50 ms.
``mesh_body``: the same for a whole-body mask (an elliptic cylinder through all 300 slices): its box is the grid,
so it is meshed at half resolution from block fractions. Target ≤ 0.5 s.
Peer for both: vtkDiscreteFlyingEdges3D on the full, uncropped mask, single-threaded (the naive way).
"""

from __future__ import annotations

import numpy as np

from benchmarks.registry import Case, benchmark

SHAPE = (300, 512, 512)  # numpy order k, j, i


def _geometry():
    from medseg_app.core.geometry import ImageGeometry

    return ImageGeometry(size=SHAPE[::-1], spacing=(0.98, 0.98, 1.0), origin=(-250.0, -250.0, -150.0))


def _peer(dense: np.ndarray):
    """vtkDiscreteFlyingEdges3D on the whole grid with the SMP back-end forced sequential."""
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkCommonCore import vtkSMPTools
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D

    scalars = dense.view(np.uint8).reshape(-1)
    image = vtkImageData()
    image.SetDimensions(*dense.shape[::-1])
    image.SetSpacing(0.98, 0.98, 1.0)
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(scalars, deep=False))

    def run():
        previous = vtkSMPTools.GetBackend()
        vtkSMPTools.SetBackend("Sequential")
        try:
            edges = vtkDiscreteFlyingEdges3D()
            edges.SetInputData(image)
            edges.SetValue(0, 1)
            edges.ComputeNormalsOff()
            edges.ComputeGradientsOff()
            edges.ComputeScalarsOff()
            edges.Update()
            return edges.GetOutput().GetNumberOfPolys()
        finally:
            vtkSMPTools.SetBackend(previous)

    return run


def _case(dense: np.ndarray, min_triangles: int) -> Case:
    from medseg_app.core.sparse_mask import SparseMask
    from medseg_app.render.segment_surfaces import enclosed_volume_mm3, surface_arrays

    geometry = _geometry()
    mask = SparseMask.from_dense(dense)
    voxels = float(dense.sum())

    def verify(ours, _peer_triangles) -> None:
        points, triangles = ours
        if len(triangles) < min_triangles:
            raise AssertionError(f"only {len(triangles)} triangles")
        ratio = enclosed_volume_mm3(points, triangles) / (voxels * geometry.voxel_volume_mm3)
        if not 0.97 < ratio < 1.03:
            raise AssertionError(f"the surface encloses {ratio:.3f} × the mask's volume")

    return Case(ours=lambda: surface_arrays(mask, geometry), peer=_peer(dense),
                peer_name="vtkDiscreteFlyingEdges3D, whole grid, 1 thread", verify=verify)


@benchmark("mesh_update_organ")
def mesh_update_organ(data):
    """Surface of an organ-sized segment (~250 k voxels) on a 512×512×300 grid (target ≤ 50 ms)."""
    k, j, i = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    dense = ((i - 300) / 45.0) ** 2 + ((j - 260) / 40.0) ** 2 + ((k - 150) / 33.0) ** 2 < 1.0
    yield _case(dense, 10_000)


@benchmark("mesh_body")
def mesh_body(data):
    """Surface of a whole-body 512×512×300 mask (target ≤ 0.5 s)."""
    k, j, i = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    dense = (((i - 256) / 220.0) ** 2 + ((j - 256) / 160.0) ** 2 < 1.0) & (k > 5) & (k < 295)
    yield _case(np.ascontiguousarray(dense), 50_000)
