"""Replay fuzz inputs in a child process: ``python tests/fuzz_replay.py FILE...`` (used by test_fuzz_loaders.py).

A loader that kills the interpreter (a segfault in native code: SimpleITK, zlib, a decoder) or hangs in it
cannot be caught in pytest's own process, so each file is replayed here. For each FILE one line
``START name`` is printed before loading and one of ``LOADED name``, ``REFUSED name``, ``ERROR name: text``
after it; a file with a START and no outcome crashed the process, or hung (then faulthandler ends it after
CASE_SECONDS). The file name's prefix says which loader: ct_ (a DICOM file), series_ (replaces the first
file of a 3-slice CT series), nii_ / niigz_ / nrrd_ (image files), rs_ / seg_ (structures on the sample CT).
"""

from __future__ import annotations

import faulthandler
import shutil
import subprocess
import sys
import tempfile
import warnings
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from conftest import SAMPLE, series_dir  # noqa: E402
from medseg_app.core import memory  # noqa: E402
from medseg_app.core.errors import MedSegError  # noqa: E402
from medseg_app.io.load import load_volume  # noqa: E402
from medseg_app.io.rtstruct_import import read_rtstruct  # noqa: E402
from medseg_app.io.seg_io import read_seg  # noqa: E402
from medseg_app.io.structure_files import input_kind  # noqa: E402

CASE_SECONDS = 20  # then faulthandler ends the child: the file hung
MEMORY = 1024**3  # what the loaders are told is available, as in test_fuzz_loaders.py
CT_DIR = series_dir(SAMPLE, "CT")
IMAGE_SUFFIXES = {"nii": ".nii", "niigz": ".nii.gz", "nrrd": ".nrrd"}


def series_files() -> list[Path]:
    """The 3-slice CT series the fuzz tests damage."""
    return sorted(CT_DIR.iterdir())[28:31]


def load_structures(path: Path, volume) -> None:
    input_kind(path)
    (read_rtstruct if path.name.startswith("rs") else read_seg)(path, volume)


@cache
def _volume(which: str, work: Path):
    if which == "ct":
        return load_volume(CT_DIR)
    folder = work / "reference_series"
    folder.mkdir()
    for f in series_files():
        shutil.copy(f, folder / f.name)
    return load_volume(folder)


def replay(path: Path, work: Path) -> None:
    """Feed one regression input to the loader its prefix names (raises what the loader raises)."""
    prefix = path.name.split("_")[0]
    if prefix in ("rs", "seg"):
        target = work / f"{prefix}.dcm"
        shutil.copy(path, target)
        load_structures(target, _volume("ct" if prefix == "rs" else "series", work))
    elif prefix == "series":
        folder = work / "series"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        files = series_files()
        for f in files[1:]:
            shutil.copy(f, folder / f.name)
        shutil.copy(path, folder / files[0].name)
        load_volume(folder)
    else:
        target = work / f"input{IMAGE_SUFFIXES.get(prefix, '.dcm')}"
        shutil.copy(path, target)
        load_volume(target)


def replay_in_child(paths: list[Path]) -> dict[str, str]:
    """Each file's outcome line from a child running this script; a child that dies (a crash, or a hang that
    faulthandler ended) is reported for the file it died on and restarted after it."""
    outcomes: dict[str, str] = {}
    todo = list(paths)
    while todo:
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), *map(str, todo)],
                               capture_output=True, text=True, timeout=120 + 30 * len(todo))
        started = None
        for line in child.stdout.splitlines():
            word, _, rest = line.partition(" ")
            if word == "START":
                started = rest
            elif word in ("LOADED", "REFUSED", "ERROR"):
                outcomes[rest.split(":")[0]] = line
                started = None
        if started is not None:
            how = "hung" if "Timeout" in child.stderr else f"crashed the interpreter (exit status {child.returncode})"
            outcomes[started] = f"ERROR {started}: the loader {how}"
        elif child.returncode != 0:
            raise AssertionError(f"fuzz_replay.py failed: {child.stderr[-2000:]}")
        todo = [p for p in todo if p.name not in outcomes]
    return outcomes


def main(paths: list[str]) -> int:
    warnings.simplefilter("ignore")
    real = memory.available_memory
    memory.available_memory = lambda: min(real() or MEMORY, MEMORY)
    work = Path(tempfile.mkdtemp(prefix="fuzz_replay_"))
    for name in paths:
        path = Path(name)
        print(f"START {path.name}", flush=True)
        faulthandler.dump_traceback_later(CASE_SECONDS, exit=True)
        try:
            replay(path, work)
            outcome = f"LOADED {path.name}"
        except MedSegError as exc:
            text = str(exc).strip()
            outcome = f"REFUSED {path.name}" if text and "\n" not in text else \
                f"ERROR {path.name}: not a one-line message: {text[:200]!r}"
        except BaseException as exc:  # noqa: BLE001 - exactly what the test is looking for
            outcome = f"ERROR {path.name}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        finally:
            faulthandler.cancel_dump_traceback_later()
        print(outcome, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
