"""Mesh export: STL / OBJ / PLY in LPS millimetres, readable by VTK's readers, one file per structure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from vtkmodules.vtkIOGeometry import vtkOBJReader, vtkSTLReader
from vtkmodules.vtkIOPLY import vtkPLYReader

from conftest import SAMPLE, series_dir
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume
from medseg_app.render.mesh_export import MeshExportError, write_mesh

READERS = {".stl": vtkSTLReader, ".obj": vtkOBJReader, ".ply": vtkPLYReader}


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(SAMPLE, "CT"))


@pytest.mark.parametrize("ext", [".stl", ".obj", ".ply"])
def test_mesh_lies_where_the_mask_is_in_lps(ct, tmp_path, ext):
    seg = Segmentation(ct.geometry, undo_budget_bytes=0)
    mask = np.zeros(ct.geometry.shape, bool)
    mask[10:20, 50:100, 60:120] = True
    seg.add_segment("Box one", mask=mask)
    files = write_mesh(seg, ct, tmp_path / f"out{ext}")
    assert [f.name for f in files] == [f"out_Box_one{ext}"]
    reader = READERS[ext]()
    reader.SetFileName(str(files[0]))
    reader.Update()
    bounds = np.array(reader.GetOutput().GetBounds()).reshape(3, 2)
    corners = ct.geometry.index_to_patient(np.array([[60, 50, 10], [119, 99, 19]]))
    expected = np.stack([corners.min(axis=0), corners.max(axis=0)], axis=1)
    assert np.all(np.abs(bounds - expected) <= ct.geometry.spacing[:, None])  # within a voxel
    assert reader.GetOutput().GetNumberOfPolys() > 0
    sidecar = json.loads((tmp_path / "out.json").read_text())
    assert sidecar["coordinate_system"] == "LPS" and sidecar["structures"][0]["name"] == "Box one"
    assert b"LPS" in files[0].read_bytes()[:400]


def test_empty_segment_is_refused(ct, tmp_path):
    seg = Segmentation(ct.geometry, undo_budget_bytes=0)
    seg.add_segment("Nothing")
    with pytest.raises(MeshExportError, match="empty"):
        write_mesh(seg, ct, tmp_path / "out.stl")
