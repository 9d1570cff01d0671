"""What a load job does off the GUI thread: read the volume and, where the study has one, its label map twin.

The bundled sample (and the MIRP sarcoma layout it comes from) keeps each series as ``<series>/dicom/image``
and ``<series>/nifti/image`` with the delineation as ``<series>/nifti/mask/mask.nii.gz`` on the same grid; the
mask was derived from the RTSTRUCT ``<series>/dicom/mask/*.dcm``, whose ROI name names the segment
(``GTV_Mass_CT`` in the sample).

A study opened from a scanned folder also brings the folder's RTSTRUCT and SEG objects in the image's Frame of
Reference: their structures (names and colours kept) come back as ``LoadedStudy.structures``. When there are
any, the label map twin is not read: it is a copy of the same delineation.

Whatever showing the volume reads from all of its voxels (value range, percentile window) is computed here too
(:func:`core.window_level.prepare_display`): on a 512×512×1000 CT each such pass would cost the GUI thread tens of
milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...io.dicom_files import read_dicom
from ...core.volume import Volume
from ...core.window_level import prepare_display
from ...io import load_volume
from ...io.dicom_scan import CancelFn, ProgressFn, SeriesEntry
from ...core.errors import LoadError
from ...io.load import load_series
from ...io.session_file import load_image_copy
from ...io.structure_files import frame_of_reference_uids, read_structures, structure_origin


@dataclass
class LoadedStudy:
    volume: Volume
    labels: np.ndarray | None
    path: str
    label_path: str = ""
    label_names: dict[int, str] | None = None
    structures: list[tuple[str, tuple | None, object]] = field(default_factory=list)  # (name, colour, mask)
    structure_paths: list[str] = field(default_factory=list)
    structure_origins: list[tuple[str, str]] = field(default_factory=list)  # (source, detail) per structure
    label_details: dict[int, str] | None = None  # where each label of ``labels`` came from (segment source detail)
    layers: list = field(default_factory=list)  # layer_loading.LayerLoad: other series joining the study


def twin_label_names(twin: Path, labels: np.ndarray) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the twin's labels (the RTSTRUCT's ROI names when it has one per label, else ``<series>_mask``) and
    where each came from (a segment's source detail)."""
    values = [int(v) for v in np.unique(labels) if v != 0]
    series = twin.parent.parent.parent
    rois: list[tuple[str, str]] = []  # (ROI name, RTSTRUCT file name)
    for rtstruct in sorted((series / "dicom" / "mask").glob("*.dcm")):
        try:

            ds = read_dicom(rtstruct, stop_before_pixels=True, specific_tags=["StructureSetROISequence"])
            rois += [(str(item.ROIName), rtstruct.name) for item in ds.get("StructureSetROISequence", [])]
        except Exception:  # an unreadable RTSTRUCT only costs the segment its name
            continue
    label_file = f"{twin.parent.name}/{twin.name}"
    if len(rois) == len(values):
        return ({v: roi for v, (roi, _) in zip(values, rois)},
                {v: f"label map {label_file} label {v}, named after RTSTRUCT ROI {roi!r} from {rs}"
                 for v, (roi, rs) in zip(values, rois)})
    names = {v: f"{series.name}_mask" if len(values) == 1 else f"{series.name}_mask_{v}" for v in values}
    return names, {v: f"label map {label_file} label {v}" for v in values}


def label_twin(path: str | Path) -> Path | None:
    """The ``nifti/mask/mask.nii.gz`` next to the ``dicom`` or ``nifti`` folder that holds ``path``, if any."""
    path = Path(path).resolve()
    for folder in [path, *path.parents][:4]:
        if folder.name in ("dicom", "nifti"):
            twin = folder.parent / "nifti" / "mask" / "mask.nii.gz"
            if twin.is_file() and twin != path:
                return twin
            return None
    return None


def matching_structures(volume: Volume, objects, cancelled: CancelFn | None = None) -> tuple[list, list[str]]:
    """Structures of the RTSTRUCT / SEG objects (scan entries) in the volume's Frame of Reference, and their files.

    An object that cannot be read costs only a warning on the volume."""
    ours = volume.identity.frame_of_reference_uid
    structures, paths, origins = [], [], []
    for entry in objects if ours else ():
        if entry.kind not in ("RTSTRUCT", "SEG"):
            continue
        for file in entry.files:
            if cancelled is not None and cancelled():
                return structures, paths
            if ours not in frame_of_reference_uids(file.header):
                continue
            try:
                found = read_structures(file.path, volume, drop_empty=True)
                structures += found
                origins += [structure_origin(entry.kind.lower(), file.path, name) for name, _, _ in found]
            except LoadError as exc:
                volume.warnings.append(str(exc))
                continue
            paths.append(str(file.path))
    return structures, paths, origins


def _with_labels(volume: Volume, source: str | Path, objects=(), cancelled: CancelFn | None = None) -> LoadedStudy:
    prepare_display(volume)
    structures, paths, origins = matching_structures(volume, objects, cancelled)
    if structures:
        return LoadedStudy(volume, None, str(source), structures=structures, structure_paths=paths,
                           structure_origins=origins)
    twin = label_twin(source)
    labels = None
    if twin is not None:
        mask = load_volume(twin)
        if mask.geometry.same_grid(volume.geometry, tol_mm=1e-2):
            labels = mask.array
        else:
            volume.warnings.append(f"{twin}: the label map is not on the image grid and was not shown.")
    names, details = twin_label_names(twin, labels) if labels is not None else (None, None)
    return LoadedStudy(volume, labels, str(source), str(twin) if labels is not None else "", names,
                       label_details=details)


def load_path(path: str | Path, series: str | None, progress: ProgressFn, cancelled: CancelFn) -> LoadedStudy:
    volume = load_volume(path, series=series, progress=progress, cancelled=cancelled)
    return _with_labels(volume, path)


def load_image_copy_study(session: str | Path, progress: ProgressFn, cancelled: CancelFn) -> LoadedStudy:
    """The copy of the image held in the session file ``session`` (see io.session_file)."""
    volume = load_image_copy(session, progress=progress, cancelled=cancelled)
    prepare_display(volume)
    return LoadedStudy(volume, None, str(session))


def load_entry(entry: SeriesEntry, progress: ProgressFn, cancelled: CancelFn, objects=()) -> LoadedStudy:
    """Load the series; ``objects`` (the scan's non-image entries) are searched for its RTSTRUCT / SEG."""
    volume = load_series(entry, progress=progress, cancelled=cancelled)
    source = entry.files[0].path if entry.files else ""
    return _with_labels(volume, source, objects, cancelled)
