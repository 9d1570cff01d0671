"""The front door for images: what is at a path, and the volume the user chose from it."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import (AmbiguousSeriesError, EmptyInputError, LoadCancelled, LoadError, MedSegError,
                           damaged_content_is_corrupt)
from ..core.privacy import get_logger
from ..core.volume import Volume
from .dicom_scan import CancelFn, ProgressFn, ScanResult, SeriesEntry, scan
from .dicom_series import load_series as _load_series
from .image_files import is_image_file, read_image_file

__all__ = ["scan", "list_series", "load_volume", "select_series", "load_series"]


_log = get_logger("load")


def _opened(volume: Volume, what: str) -> Volume:
    """Log what was opened: modality, size, spacing, units, warnings; never who (nor a UID or path)."""
    _log.info("opened %s: modality %s, size %s, spacing %s mm, units %s%s", what, volume.modality or "-",
              "x".join(str(v) for v in volume.size), "x".join(f"{v:.4g}" for v in volume.spacing),
              volume.units or "none", f"; {len(volume.warnings)} warning(s): " + " ".join(volume.warnings)
              if volume.warnings else "")
    return volume


def _failed(exc: Exception) -> None:
    """Log a load that failed (the sentence names the file; the log filter redacts the patient's identifiers)."""
    if isinstance(exc, LoadCancelled):
        _log.info("loading was cancelled")
    elif isinstance(exc, MedSegError):
        _log.warning("load failed: %s", exc)
    else:
        _log.error("load failed unexpectedly: %s: %s", type(exc).__name__, exc, exc_info=exc)


def load_series(entry: SeriesEntry, progress: ProgressFn | None = None, cancelled: CancelFn | None = None) -> Volume:
    """:func:`dicom_series.load_series`, logged."""
    try:
        volume = _load_series(entry, progress=progress, cancelled=cancelled)
    except Exception as exc:
        _failed(exc)
        raise
    return _opened(volume, f"a DICOM series of {len(entry.files)} file(s)")


def _describe(entry: SeriesEntry) -> str:
    size = "×".join(str(v) for v in entry.size) if entry.size else ""
    desc = f" '{entry.description}'" if entry.description else ""
    return f"{entry.key} ({entry.modality}{desc}, {size})"


def select_series(result: ScanResult, series: str | None) -> SeriesEntry:
    """The image stack named by ``series`` (a key or a SeriesInstanceUID), or the only one there is."""
    images = result.images
    if series is not None:
        for entry in images:
            if entry.key == series:
                return entry
        stacks = [e for e in images if e.series_uid == series]
        if stacks:
            raise AmbiguousSeriesError(result.root, f"series {series} holds images of different sizes or "
                                                    f"orientations; choose one stack: {'; '.join(map(_describe, stacks))}.")
        objects = [e for e in result.objects if e.series_uid == series or e.key == series]
        if objects:
            raise LoadError(result.root, f"series {series} is a {objects[0].kind} object, not an image series.")
        raise LoadError(result.root, f"holds no image series {series}; it holds: "
                                     f"{'; '.join(map(_describe, images)) or 'no images'}.")
    if not images:
        kinds = sorted({e.kind for e in result.objects})
        found = f" (only {', '.join(kinds)} objects)" if kinds else ""
        raise EmptyInputError(result.root, f"holds no DICOM images{found}.")
    if len(images) > 1:
        split = {e.series_uid for e in images}
        if len(split) == 1:
            raise AmbiguousSeriesError(result.root, f"series {images[0].series_uid} holds images of different sizes "
                                                    f"or orientations; choose one stack: {'; '.join(map(_describe, images))}.")
        raise AmbiguousSeriesError(result.root, f"holds {len(images)} image series; choose one: "
                                                f"{'; '.join(map(_describe, images))}.")
    return images[0]


def _is_image_path(path: Path) -> bool:
    """A NIfTI / NRRD / MetaImage file; False when it cannot even be looked at (scan() then says why)."""
    try:
        return path.is_file() and is_image_file(path)
    except OSError:  # Path.is_file raises PermissionError when a folder above cannot be searched
        return False


def list_series(path: str | Path) -> dict:
    """Everything found at ``path``: image series and non-image objects, as plain dicts."""
    path = Path(path)
    if _is_image_path(path):
        volume = read_image_file(path)
        return {"series": [{"uid": "", "kind": "image", "modality": "", "description": path.name,
                            "slices": volume.size[2], "size": list(volume.size), "files": 1}], "objects": []}
    result = scan(path)
    return {"series": [e.summary() for e in result.images],
            "objects": [e.summary() for e in result.objects],
            "skipped": result.skipped}


def load_volume(
    path: str | Path,
    series: str | None = None,
    volume_index: int = 0,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> Volume:
    """Load the image at ``path``: an image file, a DICOM file, a folder of DICOM files, or a DICOMDIR."""
    path = Path(path)
    if _is_image_path(path):
        try:
            return _opened(read_image_file(path, volume_index), "an image file")
        except Exception as exc:
            _failed(exc)
            raise
    try:
        result = scan(path, progress=None if progress is None else (lambda f, m: progress(0.3 * f, m)),
                      cancelled=cancelled)
        entry = select_series(result, series)
    except Exception as exc:
        _failed(exc)
        raise
    where = entry.files[0].path.parent if len(entry.files) > 1 else entry.files[0].path
    try:
        with damaged_content_is_corrupt(where, "DICOM header values"):
            volume = _load_series(entry, cancelled=cancelled,
                                  progress=None if progress is None else (lambda f, m: progress(0.3 + 0.7 * f, m)))
    except Exception as exc:
        _failed(exc)
        raise
    if result.skipped:
        volume.warnings.append(f"{len(result.skipped)} file(s) that are not DICOM were skipped.")
    return _opened(volume, f"a DICOM series of {len(entry.files)} file(s)")
