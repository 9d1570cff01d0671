"""Statistics of a segment per image layer (core/layer_statistics.py) and ``medseg stats --layer``: SUV numbers on
the sample STS_001 (CT + PET in one Frame of Reference, the GTV rasterised on each grid) against numpy."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import SAMPLE, series_dir
from medseg_app.core.layer_statistics import layer_statistics, mask_on_layer, study_layer_row
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.segment_statistics import SUV_PEAK_RADIUS_MM
from medseg_app.core.study import Study
from medseg_app.io.image_files import read_image_file
from medseg_app.io.load import load_volume
from medseg_app.io.statistics_export import write_csv

CT_MASK = SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"
PET_MASK = SAMPLE / "PET" / "nifti" / "mask" / "mask.nii.gz"


@pytest.fixture(scope="module")
def sample():
    ct, pet = load_volume(series_dir(SAMPLE, "CT")), load_volume(series_dir(SAMPLE, "PET"))
    study = Study(ct)
    layer = study.add_layer(pet)
    return study, layer, read_image_file(CT_MASK).array > 0, read_image_file(PET_MASK).array > 0


def _best_sphere_mean(pet, lesion) -> float:
    k, j, i = np.indices(pet.array.shape)
    values, spacing, best = pet.array.astype(np.float64), pet.spacing, -np.inf
    for ck, cj, ci in np.argwhere(lesion):
        near = slice(max(ck - 2, 0), ck + 3), slice(max(cj - 2, 0), cj + 3), slice(max(ci - 2, 0), ci + 3)
        distance = np.sqrt(((i[near] - ci) * spacing[0]) ** 2 + ((j[near] - cj) * spacing[1]) ** 2 +
                           ((k[near] - ck) * spacing[2]) ** 2)
        best = max(best, float(values[near][distance <= SUV_PEAK_RADIUS_MM].mean()))
    return best


def test_ct_gtv_read_on_the_pet_grid_matches_numpy_on_the_pet_mask(sample):
    study, layer, ct_gtv, pet_gtv = sample
    pet = layer.volume
    stats = layer_statistics(ct_gtv, study.geometry, pet, layer.transform)
    assert stats["read_on"] == "transferred segment"
    uptake = pet.array[pet_gtv].astype(np.float64)  # independent: the PET's own rasterisation of the GTV
    assert stats["suv_max"] == pytest.approx(uptake.max(), rel=1e-6)
    assert stats["suv_mean"] == pytest.approx(uptake.mean(), rel=0.005)
    mtv = ct_gtv.sum() * np.prod(study.geometry.spacing) / 1000.0
    assert stats["mtv_ml"] == pytest.approx(mtv, rel=1e-12)
    assert stats["mtv_ml"] == pytest.approx(pet_gtv.sum() * np.prod(pet.spacing) / 1000.0, rel=0.01)
    assert stats["tlg"] == pytest.approx(stats["suv_mean"] * stats["mtv_ml"], rel=1e-12)
    assert stats["suv_peak"] == pytest.approx(_best_sphere_mean(pet, pet_gtv), rel=0.01)
    assert stats["suv_mean"] < stats["suv_peak"] < stats["suv_max"]
    # exactly numpy on the voxels of the transferred segment
    box, crop = mask_on_layer(ct_gtv, study.geometry, pet, layer.transform)
    on_pet = pet.array[box.slices][crop].astype(np.float64)
    assert stats["suv_mean"] == pytest.approx(on_pet.mean(), rel=1e-12)
    dense = np.zeros(pet.array.shape, bool)
    dense[box.slices] = crop
    assert stats["suv_peak"] == pytest.approx(_best_sphere_mean(pet, dense), rel=1e-9)


def test_hu_of_the_reference_layer_are_the_segment_voxels(sample):
    study, layer, ct_gtv, _ = sample
    row = study_layer_row(ct_gtv, study, [study.reference.id, layer.id])
    hu = study.reference.volume.array[ct_gtv].astype(np.float64)
    assert row["CT_mean"] == pytest.approx(hu.mean()) and row["CT_max"] == hu.max() and row["CT_units"] == "HU"
    assert row["PET_units"] == "SUV" and "CT_suv_max" not in row and "PET_mean" not in row


def test_a_segment_smaller_than_a_pet_voxel_reads_the_voxel_holding_it(sample):
    study, layer, _, _ = sample
    pet = layer.volume
    tiny = np.zeros(study.geometry.shape, bool)
    tiny[30, 100, 100] = True
    stats = layer_statistics(tiny, study.geometry, pet, layer.transform)
    point = study.geometry.index_to_patient((100, 100, 30))
    i, j, k = pet.geometry.patient_to_nearest_index(point)
    assert stats["read_on"] == "layer voxels holding the segment"
    assert stats["suv_max"] == stats["suv_mean"] == pytest.approx(float(pet.array[k, j, i]))
    assert stats["mtv_ml"] == pytest.approx(np.prod(study.geometry.spacing) / 1000.0)


def test_a_shifted_layer_is_read_through_its_transform(sample):
    study, layer, ct_gtv, _ = sample
    pet = layer.volume
    shift = LayerTransform.rigid((pet.spacing[0] * 3, 0.0, 0.0))  # reference point + 3 PET voxels = layer point
    moved = layer_statistics(ct_gtv, study.geometry, pet, shift)
    box, crop = mask_on_layer(ct_gtv, study.geometry, pet, LayerTransform.identity())
    shifted = pet.array[box.slices[0], box.slices[1], box.start[2] + 3:box.stop[2] + 3][crop]
    assert moved["suv_mean"] == pytest.approx(float(shifted.astype(np.float64).mean()), rel=1e-6)


def test_empty_segment_has_no_numbers(sample):
    study, layer, _, _ = sample
    stats = layer_statistics(np.zeros(study.geometry.shape, bool), study.geometry, layer.volume, layer.transform)
    assert stats["suv_max"] is None and stats["tlg"] is None


def test_stats_cli_layer_adds_pet_columns_and_the_exports_keep_them(sample, tmp_path):
    study, layer, ct_gtv, _ = sample
    result = subprocess.run([sys.executable, "-m", "medseg_app", "stats", str(series_dir(SAMPLE, "CT")), "--seg",
                             str(CT_MASK), "--layer", str(series_dir(SAMPLE, "PET")), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    expected = layer_statistics(ct_gtv, study.geometry, layer.volume, layer.transform)
    for key in ("suv_max", "suv_peak", "suv_mean", "mtv_ml", "tlg"):
        assert row[f"PET_{key}"] == pytest.approx(expected[key], rel=1e-9), key
    assert row["PET_tlg"] == pytest.approx(row["PET_suv_mean"] * row["PET_mtv_ml"], rel=1e-12)
    assert row["mean"] == pytest.approx(float(study.reference.volume.array[ct_gtv].mean()), rel=1e-6)  # HU
    write_csv([row], tmp_path / "stats.csv")
    (written,) = list(csv.DictReader(open(tmp_path / "stats.csv")))
    assert float(written["PET_tlg"]) == pytest.approx(row["PET_tlg"]) and written["PET_units"] == "SUV"
    table = subprocess.run([sys.executable, "-m", "medseg_app", "stats", str(series_dir(SAMPLE, "CT")), "--seg",
                            str(CT_MASK), "--layer", str(series_dir(SAMPLE, "PET"))],
                           capture_output=True, text=True, timeout=120)
    header, line = table.stdout.splitlines()
    assert "PET_suv_peak" in header.split() and "PET_tlg" in header.split()
    assert f"{row['PET_tlg']:.4g}" in line.split()
