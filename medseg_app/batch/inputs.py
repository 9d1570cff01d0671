"""Studies from a command line: DICOM folders, image files and CSV lists (``id,image[,box][,series]``); study ids;
the images, segmentations and references of a cohort matched by name.

Study ids are file-system safe (letters, digits, ``.``, ``_``, ``-``). From a CSV they are the ``id`` column
(other characters replaced by ``_``); otherwise, and where a CSV row has no id, they are derived from the path: the
file or folder name without its image extension (``STS_001.nii.gz`` → ``STS_001``), with as many parent folder
names in front as it takes to tell it from every other study (``a/STS_001/PET`` and ``b/STS_002/PET`` become
``STS_001_PET`` and ``STS_002_PET``); the same path given twice gets ``_2``, ``_3``, ....

A CSV's relative image paths are relative to the CSV's folder. Its ``box`` is ``x0,y0,z0,x1,y1,z1`` in mm, LPS (as
``medseg segment --box`` takes it; quote the cell, it holds commas).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import CommandError
from ..core.prompt_box import parse_box
from ..core.errors import MedSegError
from ..io.image_files import IMAGE_FILE_SUFFIXES

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STEM_SUFFIXES = tuple(sorted(IMAGE_FILE_SUFFIXES + (".dcm",), key=len, reverse=True))
LABEL_MAP_NAME = "labels.nii.gz"  # what ``medseg batch`` writes in each study's folder
RESERVED_IDS = frozenset({"statistics.csv", "summary.json"})  # files of the output folder, not study folders


class InputError(MedSegError):
    """Inputs that cannot make a batch (a missing or malformed CSV, duplicate ids): a bad command line."""


@dataclass
class Study:
    id: str | None
    image: str  # absolute path
    box: list[list[float]] | None = None
    series: str | None = None
    problem: str | None = None  # why the study fails before it is run (a malformed box, ...)

    def task(self) -> dict:
        """The plain arguments a worker needs (no objects of ours cross a process or machine boundary)."""
        return {"id": self.id, "image": self.image, "box": self.box, "series": self.series}


def safe_id(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text.strip()).strip("._-")
    return cleaned[:120] or "study"


def stem(path: Path) -> str:
    name = path.name
    for suffix in _STEM_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _parse_study_box(text: str) -> tuple[list[list[float]] | None, str | None]:
    try:
        return parse_box(text), None
    except CommandError:
        return None, f"its box {text!r} is not six numbers x0,y0,z0,x1,y1,z1 (mm, LPS)."


def read_csv(path: Path) -> list[Study]:
    """The studies listed in a CSV with the columns ``id`` (optional), ``image``, ``box`` and ``series`` (optional)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
            if "image" not in fields:
                raise InputError(f"{path}: a study list needs an 'image' column (and may have 'id', 'box', "
                                 f"'series'); its header is {', '.join(reader.fieldnames or []) or 'empty'}.")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot be read as a CSV study list ({exc}).") from None
    studies = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        cell = {key: (row.get(original) or "").strip() for key, original in fields.items()}
        if not any(cell.values()):
            continue
        if not cell["image"]:
            raise InputError(f"{path}: line {number} has no image.")
        image = Path(cell["image"]).expanduser()
        image = image if image.is_absolute() else path.parent / image
        box, problem = _parse_study_box(cell["box"]) if cell.get("box") else (None, None)
        studies.append(Study(safe_id(cell["id"]) if cell.get("id") else None, str(image.absolute()), box,
                             cell.get("series") or None, problem))
    return studies


def _derive_ids(paths: list[Path], taken: set[str]) -> list[str]:
    """Shortest unique trailing runs of path parts (see the module's docstring)."""
    parts = [[p for p in path.parts[:-1] if p not in (path.anchor, "")] + [stem(path)] for path in paths]
    depth = [1] * len(paths)
    while True:
        ids = [safe_id("_".join(p[-d:])) for p, d in zip(parts, depth)]
        counts = Counter(ids)
        clashing = [n for n, i in enumerate(ids) if counts[i] > 1 or i in taken]
        grown = False
        for n in clashing:
            if depth[n] < len(parts[n]):
                depth[n] += 1
                grown = True
        if not grown:
            break
    seen = set(taken)
    unique = []
    for i in ids:
        candidate, k = i, 2
        while candidate in seen:
            candidate, k = f"{i}_{k}", k + 1
        seen.add(candidate)
        unique.append(candidate)
    return unique


def read_inputs(inputs: list[str]) -> list[Study]:
    """One study per DICOM folder or image file, plus every study of each CSV; ids assigned and unique."""
    studies: list[Study] = []
    for text in inputs:
        path = Path(text).expanduser()
        if path.suffix.lower() == ".csv":
            if not path.is_file():
                raise InputError(f"{path}: the study list does not exist.")
            studies += read_csv(path)
        else:
            studies.append(Study(None, str(path.absolute())))
    given = [s.id for s in studies if s.id is not None]
    duplicates = sorted(i for i, c in Counter(given).items() if c > 1)
    if duplicates:
        raise InputError(f"study id {duplicates[0]} is given to more than one study; ids name the output folders "
                         "and must be unique.")
    reserved = sorted(RESERVED_IDS.intersection(given))
    if reserved:
        raise InputError(f"study id {reserved[0]} is the name of a file of the output folder; choose another id.")
    unnamed = [s for s in studies if s.id is None]
    for study, study_id in zip(unnamed, _derive_ids([Path(s.image) for s in unnamed], set(given) | RESERVED_IDS)):
        study.id = study_id
    return studies


def is_image_file_path(path: str) -> bool:
    """A NIfTI / NRRD / MetaImage file (by name): not a DICOM series, so no SEG or RTSTRUCT can reference it."""
    name = Path(path).name.lower()
    return any(name.endswith(s) for s in IMAGE_FILE_SUFFIXES)


def _entries(folder: Path, images: bool) -> dict[str, list[Path]]:
    """id → the entries of ``folder`` named so: sub-folders, image files (and, for images, DICOM files)."""
    found: dict[str, list[Path]] = defaultdict(list)
    suffixes = IMAGE_FILE_SUFFIXES + ((".dcm",) if images else ())
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() or child.name.lower().endswith(suffixes):
            found[stem(child)].append(child)
    return found


def match_cohort(images: Path, segs: Path, refs: Path | None) -> list[dict]:
    """One task per study id found in IMAGES or SEGS: {id, image, seg, ref, problem, refs_given}, sorted by id.

    The id of an entry is its name without the image extension; a folder in SEGS or REFS stands for the label map
    in it (``labels.nii.gz`` as ``medseg batch`` writes, else its only label map), a folder in IMAGES for a DICOM
    series. Other files (sidecars, CSVs) are ignored.
    """
    for name, folder in (("--images", images), ("--segs", segs), ("--refs", refs)):
        if folder is not None and not folder.is_dir():
            raise InputError(f"{name} {folder} is not a folder.")
    found = {"image": _entries(images, True), "seg": _entries(segs, False),
             "ref": _entries(refs, False) if refs is not None else {}}
    tasks = []
    for study_id in sorted(set(found["image"]) | set(found["seg"])):
        task: dict = {"id": study_id, "image": None, "seg": None, "ref": None, "problem": None,
                      "refs_given": refs is not None}
        for key, folder in (("image", images), ("seg", segs), ("ref", refs)):
            paths = found[key].get(study_id, [])
            if len(paths) > 1:
                task["problem"] = task["problem"] or (f"{len(paths)} entries of {folder} are named {study_id} "
                                                      f"({', '.join(p.name for p in paths)}).")
            elif paths:
                task[key] = str(paths[0].absolute())
        if task["problem"] is None and task["image"] is None:
            task["problem"] = f"no image named {study_id} in {images}."
        elif task["problem"] is None and task["seg"] is None:
            task["problem"] = f"no segmentation named {study_id} in {segs}."
        tasks.append(task)
    return tasks


def label_map_in(path: Path) -> Path:
    """``path`` itself, or for a folder the label map inside it."""
    if not path.is_dir():
        return path
    if (path / LABEL_MAP_NAME).is_file():
        return path / LABEL_MAP_NAME
    maps = [p for p in sorted(path.iterdir()) if p.is_file() and p.name.lower().endswith(IMAGE_FILE_SUFFIXES)]
    if len(maps) != 1:
        raise InputError(f"{path} holds {len(maps) or 'no'} label map{'s' if len(maps) != 1 else ''}; "
                         f"expected {LABEL_MAP_NAME} or a single label map file.")
    return maps[0]

