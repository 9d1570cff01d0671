"""RT Structure Set import and export on real data, checked against the upstream rasterisation, dciodvfy,
plastimatch, and round trips on axial, row-flipped and oblique series."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from conftest import IN_CI, REPO, SAMPLE, STS_002, require_tool, series_dir
from medseg_app.core.errors import LoadError
from medseg_app.core.segmentation import Segmentation
from medseg_app.io import load_volume
from medseg_app.io.label_resampling import labels_on_grid
from medseg_app.io.rtstruct_export import RtStructExportError, interpreted_type, write_rtstruct
from medseg_app.io.rtstruct_import import load_rtstruct_into, read_rtstruct

LUNG1 = REPO.parent / "shared" / "data" / "nsclc_lung1_001" / "LUNG1-001"


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


@pytest.fixture(scope="module")
def lung1():
    if not (LUNG1 / "image").is_dir():
        if IN_CI:
            pytest.fail(f"{LUNG1} is missing; CI must provide the shared LUNG1 data set")
        pytest.skip("the shared LUNG1 data set is not present")
    volume = load_volume(LUNG1 / "image")
    return volume, next((LUNG1 / "mask_rtstruct").glob("*.dcm"))


@pytest.fixture(scope="module")
def sts2_ct():
    return load_volume(series_dir(STS_002, "CT"))


# --- import against the upstream rasterisation --------------------------------------------------------------
@pytest.mark.parametrize("case, modality, published", [
    (SAMPLE, "CT", 117145), (SAMPLE, "PET", 5095),
    (STS_002, "CT", 17090), (STS_002, "MR_T1", 17090), (STS_002, "PET", 555)])
def test_sarcoma_gtv_matches_upstream_mask(case, modality, published):
    volume = load_volume(series_dir(case, modality))
    rois = read_rtstruct(case / modality / "dicom" / "mask" / "RS.dcm", volume)
    assert [r.name for r in rois] == [f"GTV_Mass_{modality}"]
    assert rois[0].interpreted_type == "GTV" and rois[0].skipped == []
    ours = rois[0].to_dense()
    reference, resampled = labels_on_grid(case / modality / "nifti" / "mask" / "mask.nii.gz", volume.geometry)
    assert not resampled
    assert _dice(ours, reference > 0) >= 0.98
    assert np.count_nonzero(ours) == published  # exact today: Dice 1.0 and the IBSI count on all five series


@pytest.mark.parametrize("case, modality", [(SAMPLE, "PET"), (STS_002, "CT"), (STS_002, "MR_T1"), (STS_002, "PET")])
def test_sarcoma_gtv_import_export_import_round_trip(case, modality, tmp_path):
    """The sample CT's round trip is checked with dciodvfy and plastimatch below; the other series here."""
    volume = load_volume(series_dir(case, modality))
    segmentation = Segmentation(volume.geometry)
    load_rtstruct_into(segmentation, case / modality / "dicom" / "mask" / "RS.dcm", volume)
    first = segmentation.segments[1].mask.to_dense()
    again = _roundtrip(segmentation, volume, tmp_path / "RS.dcm")[0].to_dense()
    assert _dice(first, again) >= 0.99
    np.testing.assert_array_equal(again, first)  # exact today: contours on the voxel boundary


def test_lung1_rois_import_with_plausible_volumes(lung1):
    volume, rs = lung1
    rois = {r.name: r for r in read_rtstruct(rs, volume)}
    assert set(rois) == {"GTV-1", "Spinal-Cord", "Lung-Left", "Lung-Right"}
    ml = {name: r.voxel_count * volume.geometry.voxel_volume_mm3 / 1000 for name, r in rois.items()}
    assert 1000 < ml["Lung-Left"] < 4000 and 1000 < ml["Lung-Right"] < 4500
    assert 10 < ml["GTV-1"] < 500 and 5 < ml["Spinal-Cord"] < 80
    assert min(ml["Lung-Left"], ml["Lung-Right"]) > 5 * ml["GTV-1"]
    # patient's right lung lies at smaller LPS x (lower i on this axial series) than the left
    right_i = np.nonzero(rois["Lung-Right"].to_dense())[2].mean()
    left_i = np.nonzero(rois["Lung-Left"].to_dense())[2].mean()
    assert right_i < left_i
    segmentation = Segmentation(volume.geometry)
    ids = load_rtstruct_into(segmentation, rs, volume)
    assert [segmentation.segments[i].name for i in ids] == list(rois)
    assert segmentation.segments[ids[0]].colour == rois["GTV-1"].colour


def test_wrong_frame_of_reference_is_refused(sts2_ct):
    other = dataclasses.replace(sts2_ct, identity=dataclasses.replace(sts2_ct.identity,
                                                                    frame_of_reference_uid="1.2.3.4.5"))
    with pytest.raises(LoadError, match="Frame of Reference") as info:
        read_rtstruct(STS_002 / "CT" / "dicom" / "mask" / "RS.dcm", other)
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


# --- export ----------------------------------------------------------------------------------------------------
def _roundtrip(segmentation, volume, path, target=None):
    write_rtstruct(segmentation, volume, path)
    return read_rtstruct(path, target or volume)


def test_lung1_roundtrip_dciodvfy_and_plastimatch(lung1, tmp_path):
    volume, rs = lung1
    segmentation = Segmentation(volume.geometry)
    ids = load_rtstruct_into(segmentation, rs, volume)
    out = tmp_path / "RS_out.dcm"
    back = _roundtrip(segmentation, volume, out)
    for sid, roi in zip(ids, back):
        original = segmentation.segments[sid].mask.to_dense()
        assert roi.name == segmentation.segments[sid].name
        assert np.array_equal(roi.to_dense(), original), roi.name  # exact, so Dice 1.0 ≥ 0.99
    ds = pydicom.dcmread(out)
    assert ds.StudyInstanceUID == volume.identity.study_instance_uid and ds.Modality == "RTSTRUCT"
    assert ds.SeriesInstanceUID != volume.identity.series_instance_uid
    ref_series = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert [i.ReferencedSOPInstanceUID for i in ref_series.ContourImageSequence] == list(volume.identity.sop_instance_uids)
    assert [o.RTROIInterpretedType for o in ds.RTROIObservationsSequence] == ["GTV", "ORGAN", "ORGAN", "ORGAN"]
    raw = out.read_bytes()
    assert b"CLOSED_PLANAR" in raw
    _assert_dciodvfy_clean(out)
    _assert_plastimatch_agrees(out, LUNG1 / "image", volume, back, tmp_path)


def _assert_dciodvfy_clean(path: Path) -> None:
    tool = require_tool("dciodvfy")
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    report = result.stdout + result.stderr
    assert "RTStructureSet" in report
    errors = [line for line in report.splitlines() if line.startswith("Error")]
    assert errors == [], report


def _assert_plastimatch_agrees(rs: Path, image_dir: Path, volume, rois, tmp_path: Path) -> None:
    tool = require_tool("plastimatch")
    prefix = tmp_path / "plastimatch"
    result = subprocess.run([tool, "convert", "--input", str(rs), "--referenced-ct", str(image_dir),
                             "--output-prefix", str(prefix), "--prefix-format", "nii.gz"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    checked = 0
    for roi in rois:
        if roi.voxel_count * volume.geometry.voxel_volume_mm3 < 10_000:
            continue
        theirs, _ = labels_on_grid(prefix / f"{roi.name}.nii.gz", volume.geometry)
        assert _dice(roi.to_dense(), theirs > 0) >= 0.98, roi.name
        checked += 1
    assert checked >= 1


def test_sample_ct_export_is_valid_and_plastimatch_reads_it(tmp_path):
    volume = load_volume(series_dir(SAMPLE, "CT"))
    segmentation = Segmentation(volume.geometry)
    load_rtstruct_into(segmentation, SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm", volume)
    out = tmp_path / "RS.dcm"
    back = _roundtrip(segmentation, volume, out)
    assert back[0].voxel_count == 117145
    assert np.array_equal(back[0].to_dense(), segmentation.segments[1].mask.to_dense())
    ds = pydicom.dcmread(out)
    source = pydicom.dcmread(sorted(series_dir(SAMPLE, "CT").glob("*.dcm"))[0], stop_before_pixels=True)
    for key in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime"):
        assert str(ds.get(key, "")) == str(source.get(key, "")), key
    assert ds.Manufacturer == "MedSeg" and ds.FrameOfReferenceUID == volume.identity.frame_of_reference_uid
    assert all(len(str(v)) <= 16 for c in ds.ROIContourSequence[0].ContourSequence for v in c.ContourData)
    _assert_dciodvfy_clean(out)
    _assert_plastimatch_agrees(out, series_dir(SAMPLE, "CT"), volume, back, tmp_path)


def _asymmetric_mask(shape) -> np.ndarray:
    """An L-shaped, tapering structure: no mirror or rotation maps it onto itself."""
    mask = np.zeros(shape, bool)
    mask[10:20, 40:60, 30:45] = True  # body
    mask[10:14, 40:46, 45:90] = True  # long arm towards +i on the lower slices only
    mask[15:20, 60:95, 30:36] = True  # arm towards +j on the upper slices
    mask[18, 70:75, 60:64] = True     # an island on one slice
    return mask


def test_hole_islands_and_pinch_on_one_slice_survive(sts2_ct, tmp_path):
    segmentation = Segmentation(sts2_ct.geometry)
    mask = np.zeros(sts2_ct.geometry.shape, bool)
    k = 20
    mask[k, 30:70, 30:70] = True
    mask[k, 40:60, 40:60] = False      # a hole ...
    mask[k, 48:52, 48:52] = True       # ... with an island inside it
    mask[k, 90:100, 100:110] = True    # a second island
    mask[k, 110, 110] = mask[k, 111, 111] = True  # two voxels touching at a corner only
    segmentation.add_segment("PTV_test", mask=mask)
    out = tmp_path / "RS.dcm"
    back = _roundtrip(segmentation, sts2_ct, out)
    assert np.array_equal(back[0].to_dense(), mask)
    contours = pydicom.dcmread(out).ROIContourSequence[0].ContourSequence
    assert len(contours) == 6  # outer, hole, island in hole, island, and the pinch as two squares
    assert sorted(int(c.NumberOfContourPoints) for c in contours) == [4] * 6  # collinear points merged
    for c in contours:
        index = sts2_ct.geometry.patient_to_index(np.asarray(c.ContourData, float).reshape(-1, 3))
        assert np.allclose(index[:, :2] % 1, 0.5, atol=1e-4)  # vertices on voxel edges, not centres
        assert np.allclose(index[:, 2], k, atol=1e-4)
        assert c.ContourImageSequence[0].ReferencedSOPInstanceUID == sts2_ct.identity.sop_instance_uids[k]
    assert pydicom.dcmread(out).RTROIObservationsSequence[0].RTROIInterpretedType == "PTV"


def _rewrite_series(folder: Path, change) -> None:
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        change(ds)
        ds.save_as(path)


def test_asymmetric_structure_on_row_flipped_series(sts2_ct, copy_series, tmp_path):
    folder = copy_series(series_dir(STS_002, "CT"), "flipped")

    def flip(ds):
        row = np.asarray(ds.ImageOrientationPatient[:3], float)
        ds.ImagePositionPatient = [float(v) for v in np.asarray(ds.ImagePositionPatient, float)
                                   + row * float(ds.PixelSpacing[1]) * (int(ds.Columns) - 1)]
        ds.ImageOrientationPatient = [float(v) for v in -row] + [float(v) for v in ds.ImageOrientationPatient[3:]]
        ds.PixelData = np.ascontiguousarray(ds.pixel_array[:, ::-1]).tobytes()

    _rewrite_series(folder, flip)
    flipped = load_volume(folder)
    # Same anatomy at the same LPS points. The slice normal (row × column) is negated too, so the loader
    # stacks the slices the other way: flipped voxel (i, j, k) is axial voxel (ni-1-i, j, nk-1-k).
    mirror = (slice(None, None, -1), slice(None), slice(None, None, -1))
    assert np.array_equal(flipped.array, sts2_ct.array[mirror])
    assert np.allclose(flipped.geometry.index_to_patient([0, 0, 0]), sts2_ct.geometry.index_to_patient(
        np.asarray(sts2_ct.size) - [1, sts2_ct.size[1], 1]), atol=1e-3)
    mask = _asymmetric_mask(sts2_ct.geometry.shape)
    original = Segmentation(sts2_ct.geometry)
    original.add_segment("GTV", mask=mask)
    # drawn on the axial series, read onto the flipped one: the mirrored voxels, i.e. the same anatomy
    onto_flipped = _roundtrip(original, sts2_ct, tmp_path / "a.dcm", target=flipped)
    assert np.array_equal(onto_flipped[0].to_dense(), mask[mirror])
    assert np.array_equal(read_rtstruct(tmp_path / "a.dcm", sts2_ct)[0].to_dense(), mask)
    # drawn on the flipped series: back onto the same voxels, and onto the anatomy's voxels of the axial one
    on_flipped = Segmentation(flipped.geometry)
    on_flipped.add_segment("GTV", mask=mask)
    assert np.array_equal(_roundtrip(on_flipped, flipped, tmp_path / "b.dcm")[0].to_dense(), mask)
    assert np.array_equal(read_rtstruct(tmp_path / "b.dcm", sts2_ct)[0].to_dense(), mask[mirror])


def test_asymmetric_structure_on_oblique_series(sts2_ct, copy_series, tmp_path):
    folder = copy_series(series_dir(STS_002, "CT"), "oblique")
    angle = np.deg2rad(25.0)
    about_x = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    about_z = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    rotation = about_z @ about_x
    centre = sts2_ct.geometry.index_to_patient(np.asarray(sts2_ct.size) / 2)

    def rotate(ds):
        iop = np.asarray(ds.ImageOrientationPatient, float).reshape(2, 3)
        ds.ImageOrientationPatient = [round(float(v), 8) for v in (iop @ rotation.T).reshape(6)]
        ipp = rotation @ (np.asarray(ds.ImagePositionPatient, float) - centre) + centre
        ds.ImagePositionPatient = [round(float(v), 6) for v in ipp]

    _rewrite_series(folder, rotate)
    oblique = load_volume(folder)
    assert not np.allclose(oblique.direction, np.eye(3), atol=0.1)
    assert np.array_equal(oblique.array, sts2_ct.array)
    mask = _asymmetric_mask(oblique.geometry.shape)
    segmentation = Segmentation(oblique.geometry)
    segmentation.add_segment("Liver", mask=mask)
    out = tmp_path / "RS.dcm"
    back = _roundtrip(segmentation, oblique, out)
    assert np.array_equal(back[0].to_dense(), mask)
    # the contour points are the axial series' boundary points rotated with the anatomy
    axial = Segmentation(sts2_ct.geometry)
    axial.add_segment("Liver", mask=mask)
    write_rtstruct(axial, sts2_ct, tmp_path / "axial.dcm")
    first = pydicom.dcmread(out).ROIContourSequence[0].ContourSequence[0]
    first_axial = pydicom.dcmread(tmp_path / "axial.dcm").ROIContourSequence[0].ContourSequence[0]
    p = np.asarray(first.ContourData, float).reshape(-1, 3)
    q = np.asarray(first_axial.ContourData, float).reshape(-1, 3)
    assert np.allclose(p, (q - centre) @ rotation.T + centre, atol=1e-3)


def test_export_refuses_what_it_cannot_reference(sts2_ct, tmp_path):
    segmentation = Segmentation(sts2_ct.geometry)
    segmentation.add_segment("Empty")
    with pytest.raises(RtStructExportError, match="empty"):
        write_rtstruct(segmentation, sts2_ct, tmp_path / "x.dcm")
    segmentation.add_segment("GTV", mask=_asymmetric_mask(sts2_ct.geometry.shape))
    multiframe = dataclasses.replace(sts2_ct, identity=dataclasses.replace(
        sts2_ct.identity, sop_instance_uids=sts2_ct.identity.sop_instance_uids[:1],
        frame_numbers=tuple(range(1, sts2_ct.size[2] + 1))))
    with pytest.raises(RtStructExportError, match="multi-frame"):
        write_rtstruct(segmentation, multiframe, tmp_path / "x.dcm")
    not_dicom = dataclasses.replace(sts2_ct, identity=dataclasses.replace(sts2_ct.identity, sop_instance_uids=()))
    with pytest.raises(RtStructExportError, match="not loaded from DICOM"):
        write_rtstruct(segmentation, not_dicom, tmp_path / "x.dcm")
    assert not (tmp_path / "x.dcm").exists()


@pytest.mark.parametrize("name, kind", [("GTV_Mass_CT", "GTV"), ("GTV-1", "GTV"), ("PTV 60", "PTV"),
                                        ("ctv_high", "CTV"), ("Body", "EXTERNAL"), ("Lung-Left", "ORGAN"),
                                        ("Spinal-Cord", "ORGAN"), ("Segment_1", "ORGAN")])
def test_interpreted_type_from_name(name, kind):
    assert interpreted_type(name) == kind


def test_a_loaded_rtstruct_says_where_each_roi_came_from_and_is_passed_on_as_manual(tmp_path):
    from medseg_app.io.structure_files import read_structures, structure_origins

    volume = load_volume(series_dir(SAMPLE, "CT"))
    rs = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"
    segmentation = Segmentation(volume.geometry)
    (gtv,) = (segmentation.segments[i] for i in load_rtstruct_into(segmentation, rs, volume))
    assert (gtv.source, gtv.source_detail) == ("RTSTRUCT", "RTSTRUCT ROI 'GTV_Mass_CT' from RS.dcm")
    assert structure_origins(rs, read_structures(rs, volume)) == [(gtv.source, gtv.source_detail)]
    written = write_rtstruct(segmentation, volume, tmp_path / "RS_out.dcm")
    (roi,) = written.StructureSetROISequence
    assert roi.ROIGenerationAlgorithm == "MANUAL"
