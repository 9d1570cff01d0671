"""``medseg convert --image OTHER --seg LABELS``: a label map on another grid carried onto OTHER's grid by the
shape-keeping transfer (not nearest neighbour), label names and colours kept. Real data: STS_002's PET mask onto
its CT, compared with the CT's own mask of the same GTV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import series_dir
from medseg_app.cli import main
from medseg_app.core.overlap_metrics import dice_and_jaccard

STS_002 = Path("tests/data/sts_mirp/STS_002")
CT_MASK = STS_002 / "CT" / "nifti" / "mask" / "mask.nii.gz"
PET_MASK = STS_002 / "PET" / "nifti" / "mask" / "mask.nii.gz"


def _pet_label_map(folder: Path) -> Path:
    """The PET GTV as label 3 and a second structure (label 5, a block away from it) on the PET grid, named."""
    pet = sitk.ReadImage(str(PET_MASK))
    array = (sitk.GetArrayFromImage(pet) > 0).astype(np.uint8) * 3
    array[2:6, 2:6, 2:6] = 5
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(pet)
    path = folder / "pet_labels.nii.gz"
    sitk.WriteImage(image, str(path))
    (folder / "pet_labels.json").write_text(json.dumps({"labels": [
        {"value": 3, "name": "GTV_PET", "colour": [250, 140, 60]},
        {"value": 5, "name": "Block", "colour": [1, 2, 3]}]}))
    return path


def _convert(capsys, *args) -> int:
    code = main(["convert", "--image", str(series_dir(STS_002, "CT")), *[str(a) for a in args]])
    capsys.readouterr()
    return code


def test_pet_labels_reach_the_ct_grid_shape_kept_with_their_names(tmp_path, capsys):
    labels = _pet_label_map(tmp_path)
    out = tmp_path / "on_ct.nii.gz"
    assert _convert(capsys, "--seg", labels, "--out", out) == 0
    written, ct_mask = sitk.ReadImage(str(out)), sitk.ReadImage(str(CT_MASK))
    assert written.GetSize() == ct_mask.GetSize()
    np.testing.assert_allclose(written.GetOrigin(), ct_mask.GetOrigin(), atol=1e-3)
    side = json.loads((tmp_path / "on_ct.json").read_text())["labels"]
    assert [(e["name"], e["colour"]) for e in side] == [("GTV_PET", [250, 140, 60]), ("Block", [1, 2, 3])]
    array, truth = sitk.GetArrayFromImage(written), sitk.GetArrayFromImage(ct_mask) > 0
    gtv = array == [e["value"] for e in side if e["name"] == "GTV_PET"][0]
    dice = dice_and_jaccard(gtv, truth)[0]
    assert dice >= 0.95 and abs(gtv.sum() / truth.sum() - 1) < 0.03

    nearest = tmp_path / "nearest.nii.gz"
    assert _convert(capsys, "--seg", labels, "--out", nearest, "--resample", "nearest") == 0
    blocky = sitk.GetArrayFromImage(sitk.ReadImage(str(nearest)))
    assert dice > dice_and_jaccard(blocky == 1, truth)[0]


def test_an_unknown_resampling_method_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["convert", "--image", str(series_dir(STS_002, "CT")), "--seg", str(PET_MASK), "--out",
              str(tmp_path / "x.nii.gz"), "--resample", "cubic"])
    assert exit_status.value.code == 2 and "--resample" in capsys.readouterr().err
    assert not (tmp_path / "x.nii.gz").exists()
