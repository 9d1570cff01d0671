"""``medseg batch`` and ``medseg batch-stats`` on a small cohort made of the repository's own PET studies (the sample
STS_001 and STS_002, each as its DICOM series and as NIfTI), boxes from their GTV masks, the shipped
pet_gtv_box_unet, plus studies that must fail: a missing path, a text file, a study without a box."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import IN_CI, SAMPLE, STS_002, require_tool
from medseg_app.ai.box_training_data import Case, dice, exact_box
from medseg_app.batch import pool, segment_task
from medseg_app.batch.inputs import Study, _derive_ids, match_cohort, read_inputs
from medseg_app.batch.pool import Progress
from medseg_app.cli import main
from medseg_app.io import load_volume
from medseg_app.io.rtstruct_import import read_rtstruct
from medseg_app.io.seg_io import read_seg

MEDSEG = [sys.executable, "-m", "medseg_app"]
MODEL = "pet_gtv_box_unet"
GOOD = {  # id -> (image, reference mask)
    f"sts{n}_{kind}": (case / "PET" / ("dicom/image" if kind == "dicom" else "nifti/image/image.nii.gz"),
                       case / "PET" / "nifti" / "mask" / "mask.nii.gz")
    for n, case in ((1, SAMPLE), (2, STS_002)) for kind in ("dicom", "nifti")
}
FAILING = ("missing", "not_image", "nobox")


def _mask(path: Path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path))) > 0


def _box_text(image: Path, mask: Path) -> str:
    volume = load_volume(image)
    box = exact_box(Case("x", volume.array, _mask(mask), volume.geometry))
    return ",".join(f"{v:.3f}" for v in box.ravel())


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "image", "box"])
        writer.writerows(rows)
    return path


def _batch(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*MEDSEG, "batch", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def _csv_rows(path: Path) -> list[dict]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    boxes = {study_id: _box_text(image, mask) for study_id, (image, mask) in GOOD.items()}
    (root / "notes.txt").write_text("not an image\n")
    rows = [(i, str(GOOD[i][0]), boxes[i]) for i in GOOD]
    rows += [("missing", str(root / "gone" / "image.nii.gz"), boxes["sts1_nifti"]),
             ("not_image", "notes.txt", boxes["sts1_nifti"]),  # relative: to the CSV's folder
             ("nobox", str(GOOD["sts2_nifti"][0]), "")]
    studies = _write_csv(root / "studies.csv", rows)
    dicom = _write_csv(root / "dicom.csv", [r for r in rows if r[0].endswith("_dicom")])
    return {"root": root, "csv": studies, "dicom_csv": dicom}


@pytest.fixture(scope="module")
def dask_run(cohort):
    """The cohort on a local Dask cluster of two workers (each study a task)."""
    out = cohort["root"] / "out"
    result = _batch(cohort["csv"], "--model", MODEL, "--out", out, "--workers", "2", "--json")
    return out, result


def test_batch_on_a_dask_cluster_segments_the_good_studies_and_reports_the_bad(dask_run):
    out, result = dask_run
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["done"]) == sorted(GOOD) and summary["skipped"] == []
    reasons = {f["id"]: f["reason"] for f in summary["failed"]}
    assert sorted(reasons) == sorted(FAILING)
    assert "does not exist" in reasons["missing"]
    assert "notes.txt" in reasons["not_image"] and "not a DICOM file" in reasons["not_image"]
    assert "needs a box" in reasons["nobox"]
    assert "local Dask cluster of 2 workers" in summary["ran"]
    assert json.loads((out / "summary.json").read_text()) == summary
    # The progress bar: plain lines on a pipe, with counts and an ETA, ending at 7/7.
    progress = [line for line in result.stderr.splitlines() if line.startswith("batch [")]
    assert len(progress) == 6 and "7/7 100%" in progress[-1] and all("ETA" in line for line in progress)
    for study_id, (image, mask) in GOOD.items():
        volume = load_volume(image)
        labels = load_volume(out / study_id / "labels.nii.gz")
        assert labels.geometry.same_grid(volume.geometry, tol_mm=1e-3), study_id
        score = dice(labels.array > 0, _mask(mask))
        assert score > 0.7, (study_id, score)
        assert json.loads((out / study_id / "labels.json").read_text())["labels"][0]["name"] == "GTV"
        marker = json.loads((out / study_id / "done.json").read_text())
        assert marker["model"] == MODEL and marker["formats"] == ["nifti"]
    assert not any((out / f).exists() for f in FAILING)  # nothing half-written for a study that failed


def test_combined_statistics_have_a_row_per_study_and_label(dask_run, cohort):
    out, _ = dask_run
    rows = _csv_rows(out / "statistics.csv")
    assert [r["id"] for r in rows] == [*GOOD, *FAILING]  # the CSV's order
    for row in rows[: len(GOOD)]:
        assert (row["model"], row["label"], row["name"], row["status"]) == (MODEL, "1", "GTV", "done")
        assert float(row["seconds"]) > 0 and row["device"] and int(row["voxels"]) > 100
        assert float(row["volume_ml"]) > 1 and float(row["mesh_volume_ml"]) > 1
    assert rows[0]["suv_max"] and float(rows[0]["suv_max"]) > 2  # the DICOM PET is in SUV
    for row in rows[len(GOOD):]:
        assert row["status"] == "failed" and row["reason"] and not row["voxels"]
    per_study = _csv_rows(out / "sts2_dicom" / "statistics.csv")
    assert per_study[0]["voxels"] == rows[2]["voxels"]


def test_rerun_skips_done_studies_and_reports_the_failures_again(dask_run, cohort):
    out, _ = dask_run
    before = {i: ((out / i / "done.json").stat().st_mtime_ns, (out / i / "labels.nii.gz").stat().st_mtime_ns)
              for i in GOOD}
    result = _batch(cohort["csv"], "--model", MODEL, "--out", out, "--json")  # the default pool this time
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["done"] == [] and sorted(summary["skipped"]) == sorted(GOOD)
    assert sorted(f["id"] for f in summary["failed"]) == sorted(FAILING)
    after = {i: ((out / i / "done.json").stat().st_mtime_ns, (out / i / "labels.nii.gz").stat().st_mtime_ns)
             for i in GOOD}
    assert after == before
    rows = _csv_rows(out / "statistics.csv")
    assert [r["status"] for r in rows] == ["done"] * len(GOOD) + ["failed"] * len(FAILING)
    # A marker that no longer matches its outputs does not count: the study runs again.
    (out / "sts2_nifti" / "labels.nii.gz").unlink()
    again = json.loads(_batch(cohort["csv"], "--model", MODEL, "--out", out, "--json").stdout)
    assert again["done"] == ["sts2_nifti"] and (out / "sts2_nifti" / "labels.nii.gz").is_file()


def test_dicom_formats_on_the_default_pool_are_readable_and_valid(cohort):
    out = cohort["root"] / "dicom_out"
    result = _batch(cohort["dicom_csv"], "--model", MODEL, "--out", out, "--formats", "nifti,seg,rtstruct")
    assert result.returncode == 0, result.stderr
    assert "2 done, 0 skipped (done before), 0 failed" in result.stdout
    assert "Warning" not in result.stderr
    for study_id in ("sts1_dicom", "sts2_dicom"):
        volume = load_volume(GOOD[study_id][0])
        labels = load_volume(out / study_id / "labels.nii.gz").array > 0
        [(name, _, seg_mask)] = read_seg(out / study_id / "seg.dcm", volume)
        [roi] = read_rtstruct(out / study_id / "rtstruct.dcm", volume)
        assert name == roi.name == "GTV"
        assert np.array_equal(seg_mask, labels) and np.array_equal(roi.to_dense(), labels)
        assert dice(labels, _mask(GOOD[study_id][1])) > 0.7
        assert json.loads((out / study_id / "done.json").read_text())["formats"] == ["nifti", "rtstruct", "seg"]
    if shutil.which("dciodvfy") or IN_CI:  # CI must have it (require_tool fails there when it is missing)
        tool = require_tool("dciodvfy")
        for name, kind in (("seg.dcm", "Segmentation"), ("rtstruct.dcm", "RTStructureSet")):
            report = subprocess.run([tool, str(out / "sts2_dicom" / name)], capture_output=True, text=True,
                                    timeout=60)
            text = report.stdout + report.stderr
            assert kind in text and [line for line in text.splitlines() if line.startswith("Error")] == [], text


def test_batch_on_an_existing_cluster_by_its_scheduler_address(cohort, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        result = _batch(cohort["dicom_csv"], "--model", MODEL, "--out", tmp_path / "out", "--scheduler",
                        cluster.scheduler_address, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["done"]) == ["sts1_dicom", "sts2_dicom"]
    assert summary["ran"].startswith(f"on the Dask cluster at {cluster.scheduler_address} (1 worker")
    assert (tmp_path / "out" / "sts2_dicom" / "done.json").is_file()


def test_batch_stats_with_references(dask_run, cohort, tmp_path, capsys):
    out, _ = dask_run
    images, refs = tmp_path / "images", tmp_path / "refs"
    images.mkdir()
    refs.mkdir()
    for study_id, (image, mask) in GOOD.items():
        if image.is_dir():
            shutil.copytree(image, images / study_id)
        else:
            shutil.copy(image, images / f"{study_id}.nii.gz")
        shutil.copy(mask, refs / f"{study_id}.nii.gz")
    shutil.copy(GOOD["sts1_nifti"][0], images / "unsegmented.nii.gz")  # no segmentation: a failure row
    table = tmp_path / "cohort.csv"
    code = main(["batch-stats", "--images", str(images), "--segs", str(out), "--refs", str(refs),
                 "--out", str(table)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "4 studies measured, 1 failed" in printed and "unsegmented" in printed
    rows = {r["id"]: r for r in _csv_rows(table)}
    assert sorted(rows) == sorted([*GOOD, "unsegmented"])
    for study_id in GOOD:
        row = rows[study_id]
        assert row["status"] == "done" and row["name"] == "GTV" and float(row["dice"]) >= 0.7, row
        assert float(row["hd95_mm"]) >= 0 and float(row["assd_mm"]) >= 0 and row["volume_diff_ml"]
        assert 0 < float(row["jaccard"]) <= float(row["dice"])
    assert rows["unsegmented"]["status"] == "failed"
    assert "no segmentation named unsegmented" in rows["unsegmented"]["reason"]
    # The table is not overwritten without --force.
    assert main(["batch-stats", "--images", str(images), "--segs", str(out), "--out", str(table)]) == 2


def test_bad_command_lines_exit_2_and_run_nothing(cohort, tmp_path, capsys):
    out = tmp_path / "out"
    mixed = main(["batch", str(cohort["csv"]), "--model", MODEL, "--out", str(out), "--formats", "seg"])
    assert mixed == 2 and "sts1_nifti" in capsys.readouterr().err
    assert main(["batch", str(cohort["csv"]), "--model", "no_such_model", "--out", str(out)]) == 2
    assert main(["batch", str(tmp_path / "absent.csv"), "--model", MODEL, "--out", str(out)]) == 2
    duplicate = _write_csv(tmp_path / "dup.csv", [("a", "x.nii.gz", ""), ("a", "y.nii.gz", "")])
    assert main(["batch", str(duplicate), "--model", MODEL, "--out", str(out)]) == 2
    assert "more than one study" in capsys.readouterr().err
    (tmp_path / "nocol.csv").write_text("id,path\na,x.nii.gz\n")
    assert main(["batch", str(tmp_path / "nocol.csv"), "--model", MODEL, "--out", str(out)]) == 2
    assert main(["batch", str(cohort["csv"]), "--model", MODEL, "--out", str(out), "--formats", "png"]) == 2
    assert main(["batch", str(cohort["csv"]), "--model", MODEL, "--out", str(out), "--workers", "0"]) == 2
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(cohort["csv"]), "--model", MODEL, "--out", str(out), "--workers", "2",
              "--scheduler", "tcp://127.0.0.1:1"])
    assert exc.value.code == 2


def test_unreachable_scheduler_is_a_bad_command_line(cohort, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pool, "CONNECT_TIMEOUT", "2s")
    code = main(["batch", str(cohort["dicom_csv"]), "--model", MODEL, "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_study_ids_are_unique_and_safe(tmp_path):
    paths = [Path("/a/STS_001/PET/dicom/image"), Path("/b/STS_002/PET/dicom/image"), Path("/c/x y.nii.gz"),
             Path("/d/x y.nii.gz"), Path("/e/scan.nrrd"), Path("/e/scan.nrrd")]
    assert _derive_ids(paths, {"scan"}) == ["STS_001_PET_dicom_image", "STS_002_PET_dicom_image", "c_x_y", "d_x_y",
                                            "e_scan", "e_scan_2"]
    listed = tmp_path / "list.csv"
    listed.write_text('id,image,box\n../etc/p w,img.nii.gz,"1,2,3,4,5,6"\n,other.nii.gz,"1,2"\n')
    first, second = read_inputs([str(listed)])
    assert first.id == "etc_p_w" and first.image == str(tmp_path / "img.nii.gz")
    assert first.box == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] and first.problem is None
    assert second.id == "other" and second.box is None and "is not six numbers" in second.problem


def test_batch_stats_matches_by_name(tmp_path):
    (tmp_path / "i").mkdir()
    (tmp_path / "s").mkdir()
    (tmp_path / "i" / "A").mkdir()  # a DICOM folder
    (tmp_path / "i" / "B.nii.gz").touch()
    (tmp_path / "i" / "B.json").touch()  # sidecars and other files are ignored
    (tmp_path / "s" / "A").mkdir()  # a batch study folder
    (tmp_path / "s" / "B.nrrd").touch()
    (tmp_path / "s" / "C.nii").touch()
    tasks = {t["id"]: t for t in match_cohort(tmp_path / "i", tmp_path / "s", None)}
    assert sorted(tasks) == ["A", "B", "C"]
    assert tasks["A"]["problem"] is None and tasks["A"]["seg"].endswith("/s/A")
    assert tasks["B"]["image"].endswith("B.nii.gz") and tasks["B"]["seg"].endswith("B.nrrd")
    assert "no image named C" in tasks["C"]["problem"]


def test_workers_cache_one_model_and_never_raise(cohort, tmp_path):
    settings = {"out": str(tmp_path), "model": MODEL, "model_name": MODEL, "formats": ["nifti"], "device": "cpu",
                "trusted": None, "threads": None}
    segment_task._PREDICTORS.clear()
    image, mask = GOOD["sts2_nifti"]
    box = [[float(v) for v in _box_text(image, mask).split(",")][i:i + 3] for i in (0, 3)]
    for study_id in ("one", "two"):
        result = segment_task.run_study(Study(study_id, str(image), box).task(), settings)
        assert result["status"] == "done" and result["rows"][0]["voxels"] > 100
    assert list(segment_task._PREDICTORS) == [(MODEL, "cpu")]
    broken = segment_task.run_study(Study("three", str(tmp_path / "none.nii.gz"), box).task(), settings)
    assert broken["status"] == "failed" and "does not exist" in broken["reason"]
    assert broken["rows"][0]["status"] == "failed"
    assert segment_task.done_marker(Study("one", str(image), box).task(), settings) is not None
    assert segment_task.done_marker(Study("one", str(image), None).task(), settings) is None  # another box


def test_progress_bar_without_a_terminal():
    stream = io.StringIO()
    progress = Progress(4, "batch", stream=stream, skipped=1)
    progress.update(False, "a done (1.0 s)")
    progress.update(True, "b failed: why")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("batch [############............] 2/4  50%") and "ETA 0:00:" in lines[0]
    assert "3/4  75%  1 failed" in lines[1] and lines[1].endswith("b failed: why")
