"""Label maps with a JSON sidecar: geometry kept, names and colours kept, overlaps reported, grid checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, series_dir
from medseg_app.core.errors import LoadError
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume
from medseg_app.io.label_map import load_label_map, save_label_map, sidecar_path


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(SAMPLE, "CT"))


@pytest.mark.parametrize("name", ["labels.nii.gz", "labels.nrrd"])
def test_round_trip_keeps_geometry_names_colours(tmp_path, ct, name):
    gtv = load_volume(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz").array > 0
    seg = Segmentation(ct.geometry)
    seg.add_segment("GTV", colour=(255, 0, 0), mask=gtv)
    seg.add_segment("Bone", colour=(240, 240, 200), mask=ct.array > 300)
    path = tmp_path / name
    sidecar = save_label_map(seg, path)
    assert sidecar_path(path).exists() and sidecar["coordinate_system"] == "LPS"
    image = sitk.ReadImage(str(path))
    np.testing.assert_allclose(image.GetOrigin(), ct.origin, atol=1e-4)
    np.testing.assert_allclose(image.GetSpacing(), ct.spacing, atol=1e-5)
    again = Segmentation(ct.geometry)
    ids = load_label_map(path, again)
    assert [again.segments[i].name for i in ids] == ["GTV", "Bone"]
    assert again.segments[ids[0]].colour == (255, 0, 0)
    overlap = int((gtv & (ct.array > 300)).sum())
    assert sidecar["overlap_voxels"] == overlap
    assert again.segments[ids[0]].mask.count() == gtv.sum() - overlap  # bone was written over the GTV
    np.testing.assert_array_equal(again.segments[ids[1]].mask.to_dense(), ct.array > 300)


def test_a_label_map_on_another_grid_is_refused(tmp_path, ct):
    pet = load_volume(series_dir(SAMPLE, "PET"))
    seg = Segmentation(pet.geometry)
    seg.add_segment("hot", mask=pet.array > 2.5)
    save_label_map(seg, tmp_path / "pet.nii.gz")
    with pytest.raises(LoadError, match="not on the image's grid"):
        load_label_map(tmp_path / "pet.nii.gz", Segmentation(ct.geometry))
    assert json.loads((tmp_path / "pet.json").read_text())["labels"][0]["name"] == "hot"


def test_sources_of_structures_read_from_files_round_trip_through_the_sidecar(tmp_path, ct):
    from medseg_app.io.structure_files import read_structures, structure_origins

    gtv = load_volume(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz").array > 0
    bone = ct.array > 300
    seg = Segmentation(ct.geometry)
    for name, source, mask in (("GTV_Mass_CT", "RTSTRUCT", gtv), ("Bone", "SEG", bone & ~gtv),
                               ("Cord", "label map", np.zeros_like(gtv)), ("AI", "AI model", np.zeros_like(gtv))):
        seg.add_segment(name, source=source, mask=mask)
    for k, segment in enumerate(list(seg.segments.values())[2:]):
        box = np.zeros_like(gtv)
        box[k, :4, :4] = True
        seg.modify(segment.id, *_whole(box))
    path = tmp_path / "labels.nii.gz"
    sidecar = save_label_map(seg, path)
    assert [e["source"] for e in sidecar["labels"]] == ["RTSTRUCT", "SEG", "label map", "AI model"]
    again = Segmentation(ct.geometry)
    ids = load_label_map(path, again)
    assert [again.segments[i].source for i in ids] == ["RTSTRUCT", "SEG", "label map", "AI model"]
    # Imported as structures (File ▸ Import), they say they were read from this label map
    structures = read_structures(path, ct)
    assert structure_origins(path, structures)[0] == ("label map",
                                                      "label map structure 'GTV_Mass_CT' from labels.nii.gz")
    # Without a sidecar naming a source, a loaded label says it came from the file
    sidecar_path(path).unlink()
    bare = Segmentation(ct.geometry)
    first_id = load_label_map(path, bare)[0]
    first = bare.segments[first_id]
    assert (first.source, first.source_detail) == ("label map", "label map structure 'Label_1' from labels.nii.gz")


def _whole(mask):
    from medseg_app.core.box import Box

    return Box.whole(mask.shape), mask
