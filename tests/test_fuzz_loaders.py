"""Fuzzing every loader and importer with damaged copies of real files ("Never lose work", part 2).

Each mutated input must either load or raise a MedSegError (the LoadError family, one sentence naming the
file): never another exception, never a hang (a per-case alarm), never a memory blow-up (peak RSS checked).
Hypothesis runs derandomized (a fixed seed per test) with bounded example counts, so CI time stays ~1 minute.
Inputs that once crashed a loader are kept in tests/data/fuzz_regressions/ and replayed by
test_fuzz_regressions_replay: the file name's prefix (ct_, series_, nii_, nrrd_, rs_, seg_) says which loader.
"""

from __future__ import annotations

import os
import shutil
import signal
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from medseg_app.core.errors import MedSegError  # noqa: E402
from medseg_app.core.segmentation import Segmentation  # noqa: E402
from medseg_app.io.load import load_volume  # noqa: E402
from medseg_app.io.rtstruct_import import read_rtstruct  # noqa: E402
from medseg_app.io.seg_io import read_seg, write_seg  # noqa: E402
from medseg_app.io.structure_files import input_kind  # noqa: E402

from conftest import DATA, SAMPLE, series_dir  # noqa: E402

REGRESSIONS = DATA / "fuzz_regressions"
CASE_SECONDS = 10  # a single input taking longer than this is a hang
RSS_GROWTH_LIMIT = 2 * 1024**3  # peak RSS may not grow by more than this over a whole fuzz test


FUZZ_SCALE = float(os.environ.get("MEDSEG_FUZZ_SCALE", "1"))  # more cases for a long local run


def _fuzz_settings(n: int):
    return settings(max_examples=max(1, int(n * FUZZ_SCALE)), derandomize=True, deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate])


@contextmanager
def _time_bound(seconds: int = CASE_SECONDS):
    def _alarm(signum, frame):
        raise TimeoutError(f"a loader ran for more than {seconds} s on one input")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


SAVE_CRASHERS = os.environ.get("MEDSEG_FUZZ_SAVE")  # a folder: failing inputs are copied there


def _loads_or_refuses(call, path, *args):
    """Run a loader: success or MedSegError only."""
    with _time_bound():
        try:
            call(path, *args)
        except MedSegError as exc:
            text = str(exc)
            assert text and "\n" not in text.strip(), f"not a one-line message: {text!r}"
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
    for f in files[28:31]:
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
    return {
        "ct_bytes": files[30].read_bytes(),
        "series_files": sorted(series.iterdir()),
        "series_volume": small,
        "ct_volume": load_volume(CT_DIR),
        "rs_bytes": RS_PATH.read_bytes(),
        "seg_bytes": Path(seg_path).read_bytes(),
        "nii_bytes": (root / "crop.nii").read_bytes(),
        "nrrd_bytes": (root / "crop.nrrd").read_bytes(),
    }


# ------------------------------------------------------------------------------------------------ mutations

@st.composite
def byte_mutation(draw, data: bytes, header_bytes: int = 2048):
    """Truncation, bit flips or overwritten runs, biased towards the header."""
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, n - 1))]
    out = bytearray(data)
    limit = draw(st.sampled_from([min(header_bytes, n), n])) - 1
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, limit))
        if kind == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        else:
            run = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff", b"\x80"]))
            out[pos: pos + len(run)] = run
    return bytes(out)


_NAN, _INF = float("nan"), float("inf")
DICOM_EDITS = {
    "Rows": [0, 1, 7, 513, 65535, None],
    "Columns": [0, 1, 7, 511, 65535, None],
    "BitsAllocated": [0, 1, 8, 12, 32, 64, None],
    "BitsStored": [0, 1, 17, 32, None],
    "PixelRepresentation": [1, 2, None],
    "SamplesPerPixel": [0, 3, None],
    "PixelSpacing": [[0, 0], [-1, 1], [_NAN, _NAN], [_INF, 1], [1e30, 1e30], [1], None],
    "ImagePositionPatient": [[_NAN, 0, 0], [0, 0, _INF], [1e30, 0, -1e30], [0, 0], None],
    "ImageOrientationPatient": [[0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], [_NAN] * 6, [1, 0, 0], None],
    "NumberOfFrames": [0, 2, 1000, 2**31 - 1, None],
    "SliceThickness": [0, -5, _NAN, None],
    "RescaleSlope": [0, _NAN, _INF, -1e30, None],
    "RescaleIntercept": [_NAN, 1e30, None],
    "SOPClassUID": ["1.2.840.10008.5.1.4.1.1.66.4", "1.2.3", None],
    "Modality": ["PT", "RTSTRUCT", "SEG", None],
    "PixelData": [b"", b"\x00" * 10, None],
    "FrameOfReferenceUID": ["1.2.3", None],
    "SeriesInstanceUID": [None],
}


def _edit_dataset(ds: pydicom.Dataset, edits: list[tuple[str, object]]) -> bytes | None:
    for keyword, value in edits:
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    buffer = BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=False)
    except Exception:  # noqa: BLE001 - pydicom will not write every nonsense value: then there is no case
        return None
    return buffer.getvalue()


def dicom_edits(keys=tuple(DICOM_EDITS)):
    pair = st.sampled_from(list(keys)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(DICOM_EDITS[k])))
    return st.lists(pair, min_size=1, max_size=3)


NIFTI_FIELDS = {  # offset, struct format, values
    "dim0": (40, "<h", [0, 2, 5, 8, -1]),
    "dim1": (42, "<h", [0, -1, 1, 4000, 32767]),
    "dim2": (44, "<h", [0, -1, 4000, 32767]),
    "dim3": (46, "<h", [0, -3, 4000, 32767]),
    "datatype": (70, "<h", [0, 1, 2, 16, 64, 128, 2304, 999]),
    "bitpix": (72, "<h", [0, 1, 64]),
    "pixdim1": (80, "<f", [0.0, -1.0, _NAN, _INF, 1e30]),
    "pixdim3": (88, "<f", [0.0, -2.5, _NAN]),
    "vox_offset": (108, "<f", [0.0, 348.0, 1e9, -1.0, _NAN]),
    "scl_slope": (112, "<f", [0.0, _NAN, _INF]),
    "qform_code": (252, "<h", [0, 1, 99]),
    "sform_code": (254, "<h", [0, 1, 99]),
    "quatern_b": (256, "<f", [_NAN, 2.0]),
    "srow_x0": (280, "<f", [0.0, _NAN, _INF]),
    "srow_z3": (324, "<f", [_NAN, 1e38]),
    "sizeof_hdr": (0, "<i", [0, 540, -1]),
}


NRRD_LINES = {
    "sizes:": ["sizes: 4000 4000 4000", "sizes: 0 32 8", "sizes: -1 32 8", "sizes: 32 32", "sizes: x y z",
               "sizes: 99999999999 2 2"],
    "space directions:": ["space directions: (0,0,0) (0,1,0) (0,0,1)", "space directions: (nan,0,0) (0,1,0) (0,0,1)",
                          "space directions: (-1,0,0) (0,0,0) (0,0,1)", "space directions: none"],
    "type:": ["type: double", "type: block", "type: int64", "type: nonsense"],
    "encoding:": ["encoding: gzip", "encoding: ascii", "encoding: bzip2", "encoding: hex"],
    "dimension:": ["dimension: 2", "dimension: 4", "dimension: 0", "dimension: 17"],
    "space origin:": ["space origin: (nan,nan,nan)", "space origin: (1e308,0,0)", "space origin: ("],
    "endian:": ["endian: big", "endian: middle"],
}


# ------------------------------------------------------------------------------------------------ loaders

def _write(tmp_dir: Path, name: str, data: bytes) -> Path:
    path = tmp_dir / name
    path.write_bytes(data)
    return path


def _load_structures(path: Path, volume) -> None:
    input_kind(path)
    with_rs = path.name.startswith("rs")
    (read_rtstruct if with_rs else read_seg)(path, volume)


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
        data = _edit_dataset(pydicom.dcmread(BytesIO(corpus["ct_bytes"])), edits)
        if data is not None:
            _loads_or_refuses(load_volume, _write(work, "ct.dcm", data))

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
                data = _edit_dataset(ds, value)
            else:
                _rs_tamper(ds, *value)
                data = _edit_dataset(ds, [])
        if data is not None:
            _loads_or_refuses(_load_structures, _write(work, "rs.dcm", data), volume)

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
        data = value if kind == "bytes" else _edit_dataset(pydicom.dcmread(BytesIO(raw)), value)
        if data is not None:
            _loads_or_refuses(_load_structures, _write(work, "seg.dcm", data), volume)

    run()


# ----------------------------------------------------------------------------------------------- regressions

def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*") if p.is_file() and not p.name.endswith(".md"))


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.name)
def test_fuzz_regressions_replay(path, corpus, tmp_path):
    """Inputs that once crashed a loader: each loads or is refused with a MedSegError."""
    prefix = path.name.split("_")[0]
    if prefix in ("rs", "seg"):
        target = tmp_path / f"{prefix}.dcm"
        shutil.copy(path, target)
        _loads_or_refuses(_load_structures, target, corpus["ct_volume" if prefix == "rs" else "series_volume"])
    elif prefix == "series":
        folder = tmp_path / "series"
        folder.mkdir()
        for f in corpus["series_files"]:
            shutil.copy(f, folder / f.name)
        shutil.copy(path, folder / corpus["series_files"][0].name)
        _loads_or_refuses(load_volume, folder)
    else:
        suffix = {"nii": ".nii", "niigz": ".nii.gz", "nrrd": ".nrrd"}.get(prefix, ".dcm")
        target = tmp_path / f"input{suffix}"
        shutil.copy(path, target)
        _loads_or_refuses(load_volume, target)
