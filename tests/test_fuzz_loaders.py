"""Fuzzing every loader and importer with damaged copies of real files ("Never lose work", part 2).

The damage (tests/fuzz_mutations.py): truncation, bit flips, overwritten runs, and DICOM tags, NIfTI header
fields and NRRD header lines set to wrong, missing, huge, zero, negative or NaN values. Each input must either
load or raise a MedSegError (the LoadError family, one sentence naming the file): never another exception,
never a hang (a per-case alarm; faulthandler ends the run if native code ignores it), never a memory blow-up
(the loaders are told 1 GB is available, and peak RSS is checked).
Hypothesis runs derandomized (a fixed seed per test) with bounded example counts (6,400 cases in all),
so CI time stays near a minute. Inputs that once crashed a loader are kept in tests/data/fuzz_regressions/
and replayed by test_fuzz_regressions_replay in a child process (tests/fuzz_replay.py), so one that still
kills the interpreter is reported by name: the file name's prefix (ct_, series_, nii_, niigz_, nrrd_, rs_,
seg_) says which loader. MEDSEG_FUZZ_SAVE=FOLDER keeps failing inputs (and the input in flight, last_input*,
in case native code crashes); MEDSEG_FUZZ_SCALE multiplies the case counts.
"""

from __future__ import annotations

import faulthandler
import gzip
import os
import resource
import shutil
import signal
import sys
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from medseg_app.core import memory  # noqa: E402
from medseg_app.core.errors import MedSegError  # noqa: E402
from medseg_app.core.segmentation import Segmentation  # noqa: E402
from medseg_app.io.load import load_volume  # noqa: E402
from medseg_app.io.seg_io import write_seg  # noqa: E402

from conftest import DATA, SAMPLE, series_dir  # noqa: E402
from fuzz_mutations import (NIFTI_FIELDS, NRRD_LINES, byte_mutation, dicom_edits, edit_dataset,  # noqa: E402
                            edit_nifti, edit_nrrd, table_edits)
from fuzz_replay import load_structures, replay_in_child, series_files  # noqa: E402

_NAN = float("nan")
REGRESSIONS = DATA / "fuzz_regressions"
CASE_SECONDS = 10  # a single input taking longer than this is a hang
RSS_GROWTH_LIMIT = 2 * 1024**3  # peak RSS may not grow by more than this over a whole fuzz test
FUZZ_MEMORY = 1024**3  # what the loaders are told is available, whatever this machine has


FUZZ_SCALE = float(os.environ.get("MEDSEG_FUZZ_SCALE", "1"))  # more cases for a long local run


def _fuzz_settings(n: int):
    return settings(max_examples=max(1, int(n * FUZZ_SCALE)), derandomize=True, deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate])


_WATCHDOG_FD: list[int] = []  # the real stderr: pytest's captured output is lost when faulthandler ends the run


@contextmanager
def _time_bound(seconds: int = CASE_SECONDS):
    def _alarm(signum, frame):
        raise TimeoutError(f"a loader ran for more than {seconds} s on one input")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    # SIGALRM waits for native code to return: if it never does, end the run (with tracebacks) instead of CI.
    faulthandler.dump_traceback_later(3 * seconds, exit=True, file=_WATCHDOG_FD[0] if _WATCHDOG_FD else sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(autouse=True)
def bounded_memory(monkeypatch, capfd):
    """Loaders see at most FUZZ_MEMORY available (so results do not depend on the machine), and peak RSS may
    not grow by more than RSS_GROWTH_LIMIT over a test."""
    if not _WATCHDOG_FD:
        with capfd.disabled():
            _WATCHDOG_FD.append(os.dup(2))
    real = memory.available_memory
    monkeypatch.setattr(memory, "available_memory", lambda: min(real() or FUZZ_MEMORY, FUZZ_MEMORY))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert grown < RSS_GROWTH_LIMIT, f"peak RSS grew by {grown / 1e9:.1f} GB"


SAVE_CRASHERS = os.environ.get("MEDSEG_FUZZ_SAVE")  # a folder: failing inputs are copied there


def _loads_or_refuses(call, path, *args):
    """Run a loader: success or MedSegError only."""
    if SAVE_CRASHERS and Path(path).is_file():
        Path(SAVE_CRASHERS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SAVE_CRASHERS) / ("last_input" + "".join(Path(path).suffixes)))
    with _time_bound():
        try:
            call(path, *args)
            event("loaded")  # --hypothesis-show-statistics counts the outcomes
        except MedSegError as exc:
            text = str(exc)
            assert text and "\n" not in text.strip(), f"not a one-line message: {text!r}"
            event(f"refused: {type(exc).__name__}")
        except BaseException as exc:
            if SAVE_CRASHERS and Path(path).is_file():
                import hashlib
                data = Path(path).read_bytes()
                name = f"{Path(path).stem.split('.')[0]}_{type(exc).__name__}_{hashlib.sha1(data).hexdigest()[:8]}"
                Path(SAVE_CRASHERS).mkdir(parents=True, exist_ok=True)
                (Path(SAVE_CRASHERS) / (name + "".join(Path(path).suffixes))).write_bytes(data)
            raise AssertionError(f"{type(exc).__name__}: {str(exc)[:300]}") from None


# ---------------------------------------------------------------------------------------------------- inputs

CT_DIR = series_dir(SAMPLE, "CT")
RS_PATH = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Small real inputs: a CT slice, a 3-slice CT series, NIfTI / NRRD crops, the RTSTRUCT and a SEG."""
    root = tmp_path_factory.mktemp("fuzz_corpus")
    files = sorted(CT_DIR.iterdir())
    series = root / "series"
    series.mkdir()
    for f in series_files():
        shutil.copy(f, series / f.name)
    small = load_volume(series)
    seg_mask = np.zeros(small.geometry.shape, dtype=bool)
    seg_mask[:, 60:120, 60:140] = True
    segmentation = Segmentation(small.geometry)
    segmentation.add_segment("GTV", mask=seg_mask)
    seg_path = write_seg(segmentation, small, root / "seg.dcm")

    image = sitk.ReadImage(str(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"))
    size = image.GetSize()
    crop = image[size[0] // 2 - 16: size[0] // 2 + 16, size[1] // 2 - 16: size[1] // 2 + 16,
                 size[2] // 2 - 4: size[2] // 2 + 4]
    crop = sitk.Cast(crop, sitk.sitkInt16)
    sitk.WriteImage(crop, str(root / "crop.nii"), useCompression=False)
    sitk.WriteImage(crop, str(root / "crop.nrrd"), useCompression=False)
    sitk.WriteImage(crop, str(root / "crop_gz.nrrd"), useCompression=True)
    return {
        "ct_bytes": files[30].read_bytes(),
        "series_files": sorted(series.iterdir()),
        "series_volume": small,
        "ct_volume": load_volume(CT_DIR),
        "rs_bytes": RS_PATH.read_bytes(),
        "seg_bytes": Path(seg_path).read_bytes(),
        "nii_bytes": (root / "crop.nii").read_bytes(),
        "nrrd_bytes": (root / "crop.nrrd").read_bytes(),
        "nrrd_gz_bytes": (root / "crop_gz.nrrd").read_bytes(),
    }


# ------------------------------------------------------------------------------------------------ loaders

def _write(tmp_dir: Path, name: str, data: bytes) -> Path:
    path = tmp_dir / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_cases")


def test_fuzz_ct_slice_bytes(corpus, work):
    @_fuzz_settings(700)
    @given(byte_mutation(corpus["ct_bytes"]))
    def run(data):
        _loads_or_refuses(load_volume, _write(work, "ct.dcm", data))

    run()


def test_fuzz_ct_slice_tags(corpus, work):
    @_fuzz_settings(600)
    @given(dicom_edits())
    def run(edits):
        data = edit_dataset(pydicom.dcmread(BytesIO(corpus["ct_bytes"])), edits)
        if data is not None:
            _loads_or_refuses(load_volume, _write(work, "ct.dcm", data))

    run()


def _series_folder(work: Path, files: list[Path], index: int, data: bytes) -> Path:
    folder = work / "series"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for n, f in enumerate(files):
        (folder / f.name).write_bytes(data if n == index else f.read_bytes())
    return folder


def test_fuzz_series_folder(corpus, work):
    """One file of a 3-slice series damaged (bytes or tags), the folder loaded."""
    files = corpus["series_files"]
    originals = [f.read_bytes() for f in files]

    @_fuzz_settings(1000)
    @given(st.integers(0, len(files) - 1),
           st.one_of(st.just(("bytes", None)), dicom_edits().map(lambda e: ("tags", e))),
           st.data())
    def run(index, mutation, data):
        kind, value = mutation
        if kind == "bytes":
            damaged = data.draw(byte_mutation(originals[index], 512))  # the file meta and the first tags
        else:
            damaged = edit_dataset(pydicom.dcmread(BytesIO(originals[index])), value)
        if damaged is not None:
            _loads_or_refuses(load_volume, _series_folder(work, files, index, damaged))

    run()


def test_fuzz_nifti(corpus, work):
    """.nii and .nii.gz: damaged bytes (header-biased), header fields set to wrong, huge, zero or NaN values."""
    raw = corpus["nii_bytes"]
    packed = gzip.compress(raw, compresslevel=1)
    edits = table_edits(NIFTI_FIELDS, lambda k: [(k, v) for v in NIFTI_FIELDS[k][2]])

    @_fuzz_settings(2000)
    @example(("crop.nii", edit_nifti(raw, [("srow_x0", 0.0), ("srow_z3", 1e38)])))  # hung ITK
    @example(("crop.nii.gz", gzip.compress(edit_nifti(raw, [("dim2", 4000), ("dim3", 32767)]))))  # 8 GB
    @given(st.one_of(byte_mutation(raw, 352).map(lambda d: ("crop.nii", d)),
                     edits.map(lambda e: ("crop.nii", edit_nifti(raw, e))),
                     edits.map(lambda e: ("crop.nii.gz", gzip.compress(edit_nifti(raw, e), compresslevel=1))),
                     byte_mutation(packed, 64).map(lambda d: ("crop.nii.gz", d))))
    def run(case):
        name, data = case
        _loads_or_refuses(load_volume, _write(work, name, data))

    run()


def test_fuzz_nrrd(corpus, work):
    """Raw and gzip NRRD: damaged bytes (header-biased) and header lines replaced by wrong or absurd ones."""
    raws = [corpus["nrrd_bytes"], corpus["nrrd_gz_bytes"]]
    edits = table_edits(NRRD_LINES, lambda k: NRRD_LINES[k])
    header_bytes = corpus["nrrd_bytes"].index(b"\n\n") + 2

    @_fuzz_settings(2000)
    @example(edit_nrrd(raws[0], ["encoding: ascii"]))  # crashed ITK
    @given(st.sampled_from(raws).flatmap(lambda raw: st.one_of(byte_mutation(raw, header_bytes),
                                                                edits.map(lambda e: edit_nrrd(raw, e)))))
    def run(data):
        _loads_or_refuses(load_volume, _write(work, "crop.nrrd", data))

    run()


RS_EDITS = {
    "FrameOfReferenceUID": [None], "StructureSetROISequence": [None], "ROIContourSequence": [None],
    "SOPClassUID": ["1.2.3", None], "Modality": ["CT", None],
}


def _rs_tamper(ds: pydicom.Dataset, action: str, n: int) -> None:
    """Damage the first contours: NaN / huge / odd-length points, wrong counts, missing items."""
    for roi in list(ds.get("ROIContourSequence", []))[:2]:
        for contour in list(roi.get("ContourSequence", []))[:3]:
            data = [float(v) for v in contour.ContourData]
            if action == "nan":
                data[n % len(data)] = _NAN
            elif action == "huge":
                data[n % len(data)] = 1e30
            elif action == "odd":
                data = data[:-1] or [0.0]
            elif action == "count":
                contour.NumberOfContourPoints = n
            elif action == "type":
                contour.ContourGeometricType = "POINT" if n % 2 else "BOGUS"
            elif action == "empty":
                data = []
            contour.ContourData = data
        if action == "ref":
            roi.ReferencedROINumber = 999 + n


def test_fuzz_rtstruct(corpus, work):
    raw = corpus["rs_bytes"]
    volume = corpus["ct_volume"]
    tags = st.sampled_from(list(RS_EDITS)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(RS_EDITS[k])))

    @_fuzz_settings(60)
    @given(st.one_of(byte_mutation(raw, 4096).map(lambda d: ("bytes", d)),
                     st.lists(tags, min_size=1, max_size=2).map(lambda e: ("tags", e)),
                     st.tuples(st.sampled_from(["nan", "huge", "odd", "count", "type", "empty", "ref"]),
                               st.integers(0, 50)).map(lambda t: ("contours", t))))
    def run(mutation):
        kind, value = mutation
        if kind == "bytes":
            data = value
        else:
            ds = pydicom.dcmread(BytesIO(raw))
            if kind == "tags":
                data = edit_dataset(ds, value)
            else:
                _rs_tamper(ds, *value)
                data = edit_dataset(ds, [])
        if data is not None:
            _loads_or_refuses(load_structures, _write(work, "rs.dcm", data), volume)

    run()


SEG_EDITS = {
    "Rows": [0, 7, 65535], "Columns": [0, 7, 65535], "NumberOfFrames": [0, 1, 99, 2**31 - 1, None],
    "BitsAllocated": [8, 16, None], "FrameOfReferenceUID": ["1.2.3", None], "SegmentSequence": [None],
    "PerFrameFunctionalGroupsSequence": [None], "SharedFunctionalGroupsSequence": [None], "PixelData": [b"", None],
    "SegmentationType": ["FRACTIONAL", "NONSENSE"],
}


def test_fuzz_seg(corpus, work):
    raw = corpus["seg_bytes"]
    volume = corpus["series_volume"]
    tags = st.sampled_from(list(SEG_EDITS)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(SEG_EDITS[k])))

    @_fuzz_settings(40)
    @given(st.one_of(byte_mutation(raw, 4096).map(lambda d: ("bytes", d)),
                     st.lists(tags, min_size=1, max_size=2).map(lambda e: ("tags", e))))
    def run(mutation):
        kind, value = mutation
        data = value if kind == "bytes" else edit_dataset(pydicom.dcmread(BytesIO(raw)), value)
        if data is not None:
            _loads_or_refuses(load_structures, _write(work, "seg.dcm", data), volume)

    run()


# ----------------------------------------------------------------------------------------------- regressions

def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*") if p.is_file() and not p.name.endswith(".md"))


@pytest.fixture(scope="module")
def replayed() -> dict[str, str]:
    return replay_in_child(_regressions())


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.name)
def test_fuzz_regressions_replay(path, replayed):
    """Inputs that once crashed, hung or escaped a loader: each loads or is refused with a one-line MedSegError."""
    outcome = replayed[path.name]
    assert not outcome.startswith("ERROR"), outcome
