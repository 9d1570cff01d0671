"""Cohort throughput of ``medseg batch``.

batch_throughput: studies per minute of ``medseg batch --workers 2`` over the PET training set (41 cases of
``sts_pet_train/<case>/PET_image.nii.gz``, each with a box jittered around its ``PET_mask.nii.gz`` as a user would
draw it; the shipped pet_gtv_box_unet, label map + statistics per study), against the same batch with
``--workers 1`` (peer). End to end, as a user runs it: the local Dask cluster's start, each worker's model load,
every study's load, inference, export and statistics, and the combined CSV; a fresh output folder each run, so
nothing is skipped. Unit: studies / minute (higher is better: ratio > 1 means two workers gain).
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.registry import Case, Skip, benchmark

MODEL = "pet_gtv_box_unet"


def _study_list(data: Path, folder: Path) -> tuple[Path, int]:
    from medseg_app.ai.box_training_data import exact_box, jittered_box, load_cases

    cases = load_cases(data / "sts_pet_train")
    if not cases:
        raise Skip(f"no cases in {data / 'sts_pet_train'}")
    rng = np.random.default_rng(9)
    path = folder / "studies.csv"
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "image", "box"])
        for case in cases:
            box = jittered_box(exact_box(case), rng)
            writer.writerow([case.id, str(data / "sts_pet_train" / case.id / "PET_image.nii.gz"),
                             ",".join(f"{v:.3f}" for v in box.ravel())])
    return path, len(cases)


def _runner(studies: Path, count: int, folder: Path, workers: int):
    from medseg_app.cli import main

    def run() -> float:
        out = Path(tempfile.mkdtemp(prefix=f"w{workers}-", dir=folder))
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["batch", str(studies), "--model", MODEL, "--out", str(out), "--workers", str(workers)])
        elapsed = time.perf_counter() - started
        if code != 0:
            raise AssertionError(f"medseg batch --workers {workers} exited {code}: {err.getvalue()[-500:]}")
        shutil.rmtree(out, ignore_errors=True)
        return count / elapsed * 60.0

    return run


@benchmark("batch_throughput", needs=["sts_pet_train"])
def batch_throughput(data: Path):
    """medseg batch over the 41 PET training cases: studies/min with 2 Dask workers vs 1."""
    from medseg_app.ai.bundle import ModelError, find_bundle

    try:
        find_bundle(MODEL)
    except ModelError as exc:
        raise Skip(str(exc)) from None
    folder = Path(tempfile.mkdtemp(prefix="medseg-bench-batch-"))
    try:
        studies, count = _study_list(data, folder)
        yield Case(ours=_runner(studies, count, folder, 2), peer=_runner(studies, count, folder, 1),
                   peer_name="1 worker", unit="studies/min", timed=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
