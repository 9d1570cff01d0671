"""The task of ``medseg batch`` for one study: load, segment, export, measure, then mark the study done.

``run_study(study, settings)`` takes plain dicts and returns a small one (status, reason, seconds, device and the
statistics rows); it writes everything into ``<out>/<id>/`` itself, so it runs the same in this process, on a local
Dask cluster or on a remote worker that sees the same file system. It never raises for a study that fails: the
failure is its result, one sentence in ``reason``.

A worker loads a model once per (model, device) and keeps it in :data:`_PREDICTORS` for the studies after.

``<out>/<id>/done.json`` is written last, atomically (temporary file, fsync, rename), and only once every output is
in place; a study whose marker matches the request (same image, box, model, the formats asked for included) and
whose listed outputs all exist is done, and a rerun skips it (:func:`done_marker`). Starting a study removes its
old marker first, so a half-rewritten folder is never taken for a done one.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import warnings
from pathlib import Path

from ..core.errors import MedSegError, exception_clause

DONE_MARKER = "done.json"
STUDY_CSV = "statistics.csv"
FILES = {"nifti": ("labels.nii.gz", "labels.json"), "seg": ("seg.dcm",), "rtstruct": ("rtstruct.dcm",)}
DICOM_FORMATS = ("seg", "rtstruct")
MARKER_VERSION = 1

_PREDICTORS: dict[tuple[str, str], object] = {}


class StudyError(MedSegError):
    """A study that cannot be done as asked (no box for a box model, SEG output for an image file, ...)."""


def study_folder(settings: dict, study_id: str) -> Path:
    return Path(settings["out"]) / study_id


def _same_box(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return all(abs(float(x) - float(y)) < 1e-6 for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def done_marker(study: dict, settings: dict) -> dict | None:
    """The study's ``done.json`` when it vouches for this request and its outputs are all there, else None."""
    folder = study_folder(settings, study["id"])
    try:
        marker = json.loads((folder / DONE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        if marker.get("version") != MARKER_VERSION or not isinstance(marker.get("rows"), list):
            return None
        if (marker.get("image"), marker.get("series"), marker.get("model")) != (
                study["image"], study.get("series"), settings["model_name"]):
            return None
        if not _same_box(marker.get("box"), study.get("box")) or not set(settings["formats"]) <= set(
                marker.get("formats") or []):
            return None
        names = [str(name) for files in marker["outputs"].values() for name in files] + [STUDY_CSV]
        return marker if all((folder / name).is_file() for name in names) else None
    except (AttributeError, KeyError, TypeError, ValueError):  # a marker that is not ours, or damaged
        return None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - some file systems cannot open a folder
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _select_gpu(torch) -> None:
    """On a Dask worker of a machine with several GPUs, the GPU numbered after the worker (a LocalCluster names its
    workers 0, 1, ...); "cuda" then means that GPU for everything the worker runs."""
    if not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        return
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):  # not on a Dask worker
        return
    if isinstance(name, int):
        torch.cuda.set_device(name % torch.cuda.device_count())


def predictor(model: str, device: str, trusted: bool | None, threads: int | None):
    """The worker's Predictor for (model, device), loaded on first use."""
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    key = (model, device)
    if key not in _PREDICTORS:
        from ..ai.bundle import find_bundle
        from ..ai.inference import Predictor

        _select_gpu(torch)
        _PREDICTORS[key] = Predictor(find_bundle(model), device=device, trusted=trusted)
    return _PREDICTORS[key]


def _device_label(device: str) -> str:
    if device == "cuda":
        import torch

        return f"cuda:{torch.cuda.current_device()}"
    return device


def failure_row(study_id: str, model: str, reason: str, seconds: float | None = None, device: str = "") -> dict:
    return {"id": study_id, "model": model, "label": None, "name": None, "status": "failed", "reason": reason,
            "seconds": seconds, "device": device}


def run_study(study: dict, settings: dict) -> dict:
    """Segment one study as ``settings`` say (out, model, model_name, formats, device, trusted, threads)."""
    started = time.perf_counter()
    try:
        outcome = _run(study, settings, started)
    except Exception as exc:  # noqa: BLE001 - a failing study is reported and the batch goes on
        reason = str(exc) if isinstance(exc, MedSegError) else f"unexpected error ({exception_clause(exc, 300)})."
        seconds = round(time.perf_counter() - started, 3)
        return {"id": study["id"], "status": "failed", "reason": reason, "seconds": seconds, "device": "",
                "rows": [failure_row(study["id"], settings["model_name"], reason, seconds)]}
    return outcome


def _segmentation(result, volume, model_name: str):
    from ..core.segmentation import Segmentation

    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    ids = []
    for label in result.labels:
        segment = segmentation.add_segment(label.name, source="AI model")
        segmentation.set_properties(segment.id, source_detail=model_name)
        segmentation.modify(segment.id, label.box, label.mask, "set")
        ids.append(segment.id)
    return segmentation, ids


def _export_dicom(fmt: str, segmentation, ids: list[int], volume, folder: Path) -> None:
    from ..io.structure_files import verify_written

    written = [i for i in ids if segmentation.segments[i].mask.count()]
    if not written:
        raise StudyError(f"the model found nothing, and an empty {fmt.upper()} cannot be written.")
    path = folder / FILES[fmt][0]
    with warnings.catch_warnings():  # pydicom's notes on the source's own VR slips; the read-back below checks
        warnings.simplefilter("ignore", UserWarning)
        if fmt == "seg":
            from ..io.seg_io import write_seg

            write_seg(segmentation, volume, path, written)
        else:
            from ..io.rtstruct_export import write_rtstruct

            write_rtstruct(segmentation, volume, path, written)
        rows = verify_written(path, fmt, segmentation, volume, written)
    failed = [r for r in rows if not r["passed"]]
    if failed:
        raise StudyError(f"the {fmt.upper()} written does not match the segments when read back "
                         f"({failed[0]['name']}: {failed[0]['reason']}).")


def _run(study: dict, settings: dict, started: float) -> dict:
    from ..io import load_volume
    from ..io.label_map import save_label_map
    from ..io.statistics_export import write_csv
    from ..render.statistics_report import segment_rows

    folder = study_folder(settings, study["id"])
    (folder / DONE_MARKER).unlink(missing_ok=True)
    formats, model_name = list(settings["formats"]), settings["model_name"]
    volume = load_volume(study["image"], series=study.get("series"))
    if any(f in DICOM_FORMATS for f in formats) and not volume.identity.sop_instance_uids:
        raise StudyError(f"{study['image']}: SEG and RTSTRUCT output need a DICOM series, not an image file.")
    model = predictor(settings["model"], settings.get("device", "auto"), settings.get("trusted"),
                      settings.get("threads"))
    if model.bundle.needs_box and study.get("box") is None:
        raise StudyError(f"model {model_name} needs a box around the lesion: list the study in a "
                         "CSV with its box (x0,y0,z0,x1,y1,z1, mm, LPS).")
    result = model.segment(volume.array, volume.geometry, study.get("box"))
    device = _device_label(result.device)
    segmentation, ids = _segmentation(result, volume, model_name)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {}
    if "nifti" in formats:
        save_label_map(segmentation, folder / FILES["nifti"][0])
        outputs["nifti"] = list(FILES["nifti"])
    for fmt in (f for f in DICOM_FORMATS if f in formats):
        _export_dicom(fmt, segmentation, ids, volume, folder)
        outputs[fmt] = list(FILES[fmt])
    seconds = round(time.perf_counter() - started, 3)
    rows = []
    for row in segment_rows(segmentation, volume, ids):
        rows.append({"id": study["id"], "model": model_name, "label": row.pop("label"), "name": row.pop("name"),
                     "status": "done", "reason": "", "seconds": seconds, "device": device, **row})
    write_csv(rows, folder / STUDY_CSV)
    marker = {"version": MARKER_VERSION, "id": study["id"], "image": study["image"], "series": study.get("series"),
              "box": study.get("box"), "model": model_name, "formats": sorted(outputs), "outputs": outputs,
              "seconds": seconds, "device": device, "rows": rows,
              "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    write_atomic(folder / DONE_MARKER, json.dumps(marker, indent=1))
    return {"id": study["id"], "status": "done", "reason": "", "seconds": seconds, "device": device, "rows": rows}
