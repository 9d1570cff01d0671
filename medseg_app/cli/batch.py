"""``medseg batch`` and ``medseg batch-stats``: a cohort at a time, here or on a Dask cluster.

``medseg batch --model NAME --out DIR [--formats nifti,seg,rtstruct] [--workers N | --scheduler ADDRESS] INPUT...``
segments every study (DICOM folders, image files, CSV lists: see batch/inputs.py) into ``DIR/<id>/`` and writes the
statistics of all of them to ``DIR/statistics.csv`` and a summary to ``DIR/summary.json``.

``medseg batch-stats --images DIR --segs DIR [--refs DIR] --out FILE.csv`` measures a cohort's segmentations (and
their overlap with references), matched by name (see batch.inputs.match_cohort).

Progress goes to stderr, the summary to stdout. Exit status: 0 every study done (or done before), 1 some failed
(each with its reason; the others went on), 2 a bad command line (nothing run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ..core.errors import CommandError
from .common import MedSegParser, add_model_run_options, trusted_bundle
from ..batch.inputs import Study, is_image_file_path, match_cohort, read_inputs
from ..batch.pool import Progress, clock, default_workers, gpu_count, open_pool, task_failure, threads_per_worker
from ..batch.segment_task import DICOM_FORMATS, FILES, done_marker, failure_row, run_study, write_atomic
from ..batch.stats_task import study_statistics

EXIT_SOME_FAILED = 1
SUMMARY = "summary.json"
COMBINED_CSV = "statistics.csv"


def parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FILES]
    if unknown or not formats:
        raise CommandError(f"--formats {text!r}: choose from nifti, seg, rtstruct (comma-separated).")
    return list(dict.fromkeys(formats))


def _write_csv_atomic(rows: list[dict], path: Path) -> None:
    from ..io.statistics_export import write_csv

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_csv(rows, tmp)
    os.replace(tmp, path)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)



def _settings(args: argparse.Namespace, studies: list[Study], formats: list[str]) -> tuple[dict, object]:
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers {args.workers}: a cluster needs at least one worker.")
    out = Path(args.out).absolute()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file; it must be a folder (made when missing).")
    bundle = trusted_bundle(args)
    dicom_formats = [f for f in formats if f in DICOM_FORMATS]
    not_dicom = [s.id for s in studies if is_image_file_path(s.image)]
    if dicom_formats and not_dicom:
        listed = ", ".join(not_dicom[:5]) + (", ..." if len(not_dicom) > 5 else "")
        what = "studies are image files" if len(not_dicom) > 1 else "study is an image file"
        raise CommandError(f"--formats {','.join(dicom_formats)} needs DICOM series (a SEG or RTSTRUCT references "
                           f"its images), but {len(not_dicom)} {what} ({listed}); leave seg / rtstruct out or run "
                           "those studies in a batch of their own.")
    model = str(Path(args.model).absolute()) if (Path(args.model) / "configs").is_dir() else args.model
    settings = {"out": str(out), "model": model, "model_name": bundle.name, "formats": formats,
                "device": args.device, "trusted": True if args.trust else None, "threads": None}
    return settings, bundle


def cmd_batch(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    formats = parse_formats(args.formats)
    studies = read_inputs(args.inputs)
    settings, bundle = _settings(args, studies, formats)
    out = Path(settings["out"])
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    to_run: list[Study] = []
    for study in studies:
        problem = study.problem
        if problem is None and bundle.needs_box and study.box is None:
            problem = (f"model {bundle.name} needs a box around the lesion: list the study in a "
                       "CSV with its box (x0,y0,z0,x1,y1,z1, mm, LPS).")
        marker = None if problem else done_marker(study.task(), settings)
        if problem:
            results[study.id] = {"id": study.id, "status": "failed", "reason": problem, "seconds": 0.0,
                                 "rows": [failure_row(study.id, bundle.name, problem)]}
        elif marker:
            results[study.id] = {"id": study.id, "status": "skipped", "reason": "", "seconds": marker.get("seconds"),
                                 "rows": marker["rows"]}
        else:
            to_run.append(study)
    skipped = sum(r["status"] == "skipped" for r in results.values())
    failed_before = len(results) - skipped
    pool = None
    if to_run:
        gpus = gpu_count() if args.device != "cpu" and not args.scheduler else 0
        pool = open_pool(args.workers, args.scheduler, default_workers(len(to_run), gpus))
        if not args.scheduler:
            settings["threads"] = threads_per_worker(pool.workers)
    _say(f"batch: {len(studies)} studies: {skipped} done before (skipped), {failed_before} cannot run, "
         f"{len(to_run)} to run" + (f" {pool.description}" if pool else "") + ".")
    for result in results.values():
        if result["status"] == "failed":
            _say(f"batch: {result['id']} failed: {result['reason']}")
    progress = Progress(len(studies), "batch", skipped=len(results), failed=failed_before)
    try:
        if pool is not None:
            for index, result in pool.run(run_study, [(s.task(), settings) for s in to_run]):
                study = to_run[index]
                if isinstance(result, BaseException):
                    reason = task_failure(result)
                    result = {"id": study.id, "status": "failed", "reason": reason, "seconds": None,
                              "rows": [failure_row(study.id, bundle.name, reason)]}
                results[study.id] = result
                failed = result["status"] != "done"
                progress.update(failed, f"{study.id} " + (f"failed: {result['reason']}" if failed
                                                          else f"done ({result['seconds']:.1f} s)"))
    finally:
        progress.close()
        if pool is not None:
            pool.close()
    return _finish(args, studies, results, out, time.perf_counter() - started, pool)


def _finish(args, studies: list[Study], results: dict, out: Path, seconds: float, pool) -> int:
    ordered = [results[s.id] for s in studies]
    rows = [row for r in ordered for row in r["rows"]]
    _write_csv_atomic(rows, out / COMBINED_CSV)
    summary = {"done": [r["id"] for r in ordered if r["status"] == "done"],
               "skipped": [r["id"] for r in ordered if r["status"] == "skipped"],
               "failed": [{"id": r["id"], "reason": r["reason"]} for r in ordered if r["status"] == "failed"],
               "seconds": round(seconds, 3), "statistics": str(out / COMBINED_CSV), "rows": len(rows),
               "ran": pool.description if pool is not None else "nothing to run"}
    write_atomic(out / SUMMARY, json.dumps(summary, indent=1))
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"batch: {len(summary['done'])} done, {len(summary['skipped'])} skipped (done before), "
              f"{len(summary['failed'])} failed, in {clock(seconds)}")
        for failure in summary["failed"]:
            print(f"  failed {failure['id']}: {failure['reason']}")
        print(f"statistics: {out / COMBINED_CSV} ({len(rows)} rows); outputs: {out}/<id>/")
    return EXIT_SOME_FAILED if summary["failed"] else 0


def cmd_batch_stats(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers {args.workers}: a cluster needs at least one worker.")
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CommandError(f"{out} already exists; use --force to overwrite it.")
    if not out.absolute().parent.is_dir():
        raise CommandError(f"{out.absolute().parent} is not a folder.")
    tasks = match_cohort(Path(args.images), Path(args.segs), Path(args.refs) if args.refs else None)
    if not tasks:
        raise CommandError(f"found no images in {args.images} and no segmentations in {args.segs}.")
    results: dict[str, dict] = {}
    pool = open_pool(args.workers, args.scheduler, default_workers(len(tasks), 0))
    _say(f"batch-stats: {len(tasks)} studies, {pool.description}.")
    progress = Progress(len(tasks), "batch-stats")
    try:
        for index, result in pool.run(study_statistics, [(task,) for task in tasks]):
            study_id = tasks[index]["id"]
            if isinstance(result, BaseException):
                reason = task_failure(result)
                result = {"id": study_id, "status": "failed", "reason": reason, "rows": [
                    {"id": study_id, "label": None, "name": None, "status": "failed", "reason": reason}]}
            results[study_id] = result
            failed = result["status"] != "done"
            progress.update(failed, f"{study_id} " + (f"failed: {result['reason']}" if failed else "done"))
    finally:
        progress.close()
        pool.close()
    rows = [row for task in tasks for row in results[task["id"]]["rows"]]
    _write_csv_atomic(rows, out.absolute())
    failures = [results[t["id"]] for t in tasks if results[t["id"]]["status"] != "done"]
    print(f"batch-stats: {len(tasks) - len(failures)} studies measured, {len(failures)} failed, in "
          f"{clock(time.perf_counter() - started)}; {out} ({len(rows)} rows)")
    for failure in failures:
        print(f"  failed {failure['id']}: {failure['reason']}")
    return EXIT_SOME_FAILED if failures else 0


def _add_pool_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="run on a new local Dask cluster of N worker "
                       "processes (default: a pool sized to the machine: one worker per GPU, else half the cores)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask distributed cluster whose scheduler "
                       "is at ADDRESS (e.g. tcp://host:8786); the workers must see the inputs and the output folder")


def batch_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg batch", description="Segment a cohort with an AI model: label maps "
                                "(and SEG / RTSTRUCT) in DIR/<id>/, every study's statistics in DIR/statistics.csv. "
                                "A study done before (DIR/<id>/done.json) is skipped; a failing one is reported and "
                                "the others go on. Exit status 0 all done, 1 some failed, 2 bad command line.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="DICOM folder, image file, or CSV list of studies with "
                   "the columns id, image and box (x0,y0,z0,x1,y1,z1, mm, LPS; quoted)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (made when missing)")
    p.add_argument("--formats", default="nifti", help="comma-separated: nifti (label map + JSON sidecar), seg, "
                   "rtstruct (the last two need DICOM inputs); default nifti")
    _add_pool_options(p)
    add_model_run_options(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def batch_stats_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg batch-stats", description="Statistics of a cohort's segmentations on "
                                "their images, and overlap with references, one row per study and label. Studies "
                                "are matched by name: the file or folder name without its image extension.")
    p.add_argument("--images", required=True, metavar="DIR", help="images: DICOM folders and image files")
    p.add_argument("--segs", required=True, metavar="DIR", help="label maps (or folders holding one, as 'medseg "
                   "batch' writes)")
    p.add_argument("--refs", metavar="DIR", help="reference label maps: adds Dice, Jaccard, HD, HD95, ASSD")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="CSV to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE.csv if it exists")
    _add_pool_options(p)
    return p


COMMANDS = {"batch": (batch_parser, cmd_batch), "batch-stats": (batch_stats_parser, cmd_batch_stats)}
