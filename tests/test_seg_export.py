"""SEG export / import round trip on the sample CT, dciodvfy validity, and the export verification table."""

from __future__ import annotations

import subprocess

import numpy as np
import pydicom
import pytest

from conftest import SAMPLE, require_tool, series_dir
from medseg_app.core.box import Box
from medseg_app.core.errors import LoadError
from medseg_app.core.export_verification import format_verification, verify
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume
from medseg_app.io.label_resampling import label_masks_on_grid
from medseg_app.io.seg_io import load_seg_into, property_codes, read_seg, write_seg

MASK = SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"


@pytest.fixture(scope="module")
def ct():
    return load_volume(series_dir(SAMPLE, "CT"))


def _segmentation(ct):
    seg = Segmentation(ct.geometry, undo_budget_bytes=0)
    seg.add_segment("GTV_Mass_CT", colour=(230, 60, 50), mask=label_masks_on_grid(MASK, ct.geometry)[0][2])
    box = np.zeros(ct.geometry.shape, bool)
    box[10:20, 50:100, 60:120] = True
    seg.add_segment("Bone", colour=(80, 200, 90), mask=box, source="threshold")
    return seg


def _dense(mask):
    return mask.read(Box.whole(mask.shape))


def test_seg_round_trip_is_exact_and_valid(ct, tmp_path):
    seg = _segmentation(ct)
    out = write_seg(seg, ct, tmp_path / "seg.dcm")
    report = subprocess.run([require_tool("dciodvfy"), str(out)], capture_output=True, text=True)
    errors = [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]
    assert errors == []
    ds = pydicom.dcmread(out)
    assert ds.FrameOfReferenceUID == ct.identity.frame_of_reference_uid
    assert [s.SegmentAlgorithmType for s in ds.SegmentSequence] == ["MANUAL", "SEMIAUTOMATIC"]
    assert ds.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Mass"
    assert ds.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Organ"
    back = read_seg(out, ct)
    assert [(n, c) for n, c, _ in back] == [("GTV_Mass_CT", (230, 60, 50)), ("Bone", (80, 200, 90))]
    for (_, _, mask), segment in zip(back, seg.segments.values()):
        assert np.array_equal(mask, _dense(segment.mask))
    target = Segmentation(ct.geometry, undo_budget_bytes=0)
    assert len(load_seg_into(target, out, ct)) == 2
    rows = verify({s.name: s.mask for s in seg.segments.values()}, {n: m for n, _, m in back}, ct.geometry)
    assert [(r["dice"], r["volume_change_percent"], r["centroid_shift_mm"], r["passed"]) for r in rows] == \
        [(1.0, 0.0, 0.0, True)] * 2


def test_seg_in_another_frame_of_reference_is_refused(ct, tmp_path):
    out = write_seg(_segmentation(ct), ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(out)
    ds.FrameOfReferenceUID = "1.2.3.4"
    ds.save_as(out)
    with pytest.raises(LoadError, match="different Frame of Reference"):
        read_seg(out, ct)


def test_property_codes():
    assert property_codes("GTV_primary")[1].meaning == "Mass"
    assert property_codes("Liver")[1].meaning == "Organ"


def test_verification_fails_a_broken_export(ct):
    seg = _segmentation(ct)
    gtv = _dense(seg.by_name("GTV_Mass_CT").mask)
    shifted = np.roll(gtv, 3, axis=0)  # three slices (≈ 10 mm) superior / inferior
    eroded = gtv.copy()
    eroded[:, ::10, :] = False  # about a tenth of the voxels gone, evenly: the centroid barely moves
    rows = verify({"GTV": gtv, "Bone": _dense(seg.by_name("Bone").mask), "Lost": gtv},
                  {"GTV": shifted, "Bone": np.zeros_like(gtv)}, ct.geometry)
    assert [r["passed"] for r in rows] == [False, False, False]
    assert "centroid" in rows[0]["reason"] and "Dice" in rows[0]["reason"]
    assert rows[1]["reason"] == "empty when read back" and rows[2]["reason"] == "missing from the file"
    table = format_verification(rows)
    assert table.count("FAIL") == 3 and "PASS" not in table
    one = verify({"GTV": gtv}, {"GTV": eroded}, ct.geometry)[0]
    assert not one["passed"] and one["volume_change_percent"] < -2 and "centroid" not in one["reason"]


def test_a_loaded_seg_says_where_each_segment_came_from_and_is_passed_on_as_manual(ct, tmp_path):
    from medseg_app.io.structure_files import read_structures, structure_origins

    out = write_seg(_segmentation(ct), ct, tmp_path / "seg.dcm")
    target = Segmentation(ct.geometry, undo_budget_bytes=0)
    loaded = [target.segments[i] for i in load_seg_into(target, out, ct)]
    assert [(s.source, s.source_detail) for s in loaded] == [
        ("SEG", "SEG segment 'GTV_Mass_CT' from seg.dcm"), ("SEG", "SEG segment 'Bone' from seg.dcm")]
    assert structure_origins(out, read_structures(out, ct)) == [(s.source, s.source_detail) for s in loaded]
    again = write_seg(target, ct, tmp_path / "again.dcm")  # drawn elsewhere: manual, as before
    assert [s.SegmentAlgorithmType for s in pydicom.dcmread(again).SegmentSequence] == ["MANUAL", "MANUAL"]
