"""`medseg stats`: per-label statistics, --ref overlap, resampling of label maps on other grids, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, series_dir
from medseg_app.core.mask_transfer import transfer_mask_dense
from medseg_app.core.overlap_metrics import dice_and_jaccard
from medseg_app.io.image_files import read_image_file
from medseg_app.io.load import load_volume
from medseg_app.io.statistics_export import rows_as_tsv, write_csv, write_json

MEDSEG = [sys.executable, "-m", "medseg_app"]
CT_MASK = SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"
PET_MASK = SAMPLE / "PET" / "nifti" / "mask" / "mask.nii.gz"


def _stats(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*MEDSEG, "stats", *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def two_labels(tmp_path_factory):
    """The CT GTV split into two labels (3 = upper half, 7 = lower half) with a sidecar naming label 3 only."""
    folder = tmp_path_factory.mktemp("labels")
    image = sitk.ReadImage(str(CT_MASK))
    labels = sitk.GetArrayFromImage(image).astype(np.uint8)
    middle = int(np.median(np.argwhere(labels)[:, 0]))
    labels[:middle][labels[:middle] > 0] = 7
    labels[middle:][labels[middle:] > 0] = 3
    out = sitk.GetImageFromArray(labels)
    out.CopyInformation(image)
    sitk.WriteImage(out, str(folder / "two.nii.gz"))
    (folder / "two.json").write_text(json.dumps({"labels": [{"value": 3, "name": "GTV_upper"}]}))
    return folder / "two.nii.gz", labels


def test_json_lists_every_label_with_its_name_and_numbers(two_labels):
    path, labels = two_labels
    result = _stats(series_dir(SAMPLE, "CT"), "--seg", path, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["label"], r["name"]) for r in rows] == [(3, "GTV_upper"), (7, "Label_7")]
    for row in rows:
        assert row["voxels"] == int((labels == row["label"]).sum())
        for key in ("volume_ml", "mesh_volume_ml", "surface_mm2", "mean", "std", "min", "max", "median"):
            assert isinstance(row[key], float), key
        assert len(row["centroid_mm"]) == 3 and "suv_peak" not in row
    assert rows[0]["voxels"] + rows[1]["voxels"] == 117145  # the IBSI count of the whole GTV


def test_reference_adds_overlap_for_labels_in_both(two_labels):
    path, _ = two_labels
    result = _stats(series_dir(SAMPLE, "CT"), "--seg", path, "--ref", path, "--json")
    assert result.returncode == 0, result.stderr
    for row in json.loads(result.stdout):
        assert row["dice"] == 1.0 and row["jaccard"] == 1.0
        assert row["hd_mm"] == 0.0 and row["hd95_mm"] == 0.0 and row["assd_mm"] == 0.0
        assert row["volume_diff_ml"] == 0.0
    only_label_1 = _stats(series_dir(SAMPLE, "CT"), "--seg", path, "--ref", CT_MASK, "--json")
    assert all("dice" not in row for row in json.loads(only_label_1.stdout))  # no label 3 / 7 in the reference


def test_pet_mask_is_resampled_onto_the_ct_grid_and_compared():
    result = _stats(series_dir(SAMPLE, "CT"), "--seg", PET_MASK, "--ref", CT_MASK, "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    ct_mask = sitk.ReadImage(str(CT_MASK))
    pet_mask = read_image_file(PET_MASK)
    carried = transfer_mask_dense(pet_mask.array > 0, pet_mask.geometry, load_volume(series_dir(SAMPLE, "CT")).geometry)
    assert row["voxels"] == int(np.count_nonzero(carried))  # the shape-keeping transfer, not nearest neighbour
    resampled = sitk.Resample(sitk.ReadImage(str(PET_MASK)), ct_mask, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    truth = sitk.GetArrayViewFromImage(ct_mask) > 0
    nearest_dice = dice_and_jaccard(sitk.GetArrayViewFromImage(resampled) > 0, truth)[0]
    assert row["voxels"] != 5095 and nearest_dice < row["dice"] < 1.0  # 4.7 mm PET voxels on the 1 mm CT grid


def test_pet_rows_carry_suv_and_the_table_is_readable():
    result = _stats(series_dir(SAMPLE, "PET"), "--seg", PET_MASK)
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split()[:4] == ["label", "name", "voxels", "volume_ml"] and "suv_peak" in header
    assert row.split()[:3] == ["1", "Label_1", "5095"]


def test_bad_input_is_one_sentence_and_exit_2(tmp_path):
    missing = _stats(series_dir(SAMPLE, "CT"), "--seg", tmp_path / "none.nii.gz")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    (tmp_path / "junk.nii.gz").write_bytes(b"not an image")
    junk = _stats(tmp_path, "--seg", CT_MASK)
    assert junk.returncode == 2 and "Traceback" not in junk.stderr


def test_export_flattens_lists(tmp_path):
    rows = [{"label": 1, "name": "GTV", "voxels": 10, "centroid_mm": [1.5, 2.0, -3.25],
             "bbox_index": [[0, 1, 2], [3, 4, 5]], "suv_peak": None}]
    write_csv(rows, tmp_path / "s.csv")
    (parsed,) = csv.DictReader(open(tmp_path / "s.csv"))
    assert parsed["centroid_mm_z"] == "-3.25" and parsed["bbox_index_1_x"] == "3" and parsed["suv_peak"] == ""
    write_json(rows, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text()) == rows
    header, line = rows_as_tsv(rows).splitlines()
    assert header.split("\t")[:4] == ["label", "name", "voxels", "centroid_mm_x"] and line.split("\t")[1] == "GTV"
