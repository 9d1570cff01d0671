"""Bad input gives the typed error whose message is one sentence naming the path and the problem, and
`medseg info` prints that sentence on stderr, exits 2 and shows no traceback; loading never writes into the
input folder; a folder of several series is listed and each one can be picked."""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate

from conftest import SAMPLE, STS_002, require_tool, series_dir
from medseg_app.cli import main
from medseg_app.core.errors import (AmbiguousSeriesError, CorruptFileError, EmptyInputError, LoadError,
                                    NotDicomError)
from medseg_app.io import list_series, load_volume
from medseg_app.io.dicom_scan import scan
from medseg_app.io.load import load_series, select_series

CT = series_dir(STS_002, "CT")
PET = series_dir(STS_002, "PET")
RS = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"
MEDSEG = [sys.executable, "-m", "medseg_app", "info"]
# Root ignores file modes through two capabilities; without them it obeys chmod like anyone else. Staying
# root (unlike switching to nobody) keeps the venv, wherever the checkout lies, runnable.
WITHOUT_ROOT_BYPASS = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def _one_sentence(message: str, path: Path) -> None:
    assert str(path) in message, message
    assert "\n" not in message and message.endswith(".") and ".)" not in message, message
    assert not re.search(r"[.!?]\s+[A-Z]", message.replace(str(path), "PATH")), message


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["info", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _cli_process(*args, prefix=(), cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*prefix, *MEDSEG, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _garbage(path: Path) -> Path:
    path.write_bytes(b"\0" * 128 + b"DICM" + np.random.default_rng(5).integers(0, 256, 3000, np.uint8).tobytes())
    return path


def _pixel_offset(path: Path) -> int:
    """Where the (7FE0,0010) element starts: its value's offset less the 8-byte implicit-VR tag and length."""
    return pydicom.dcmread(path)["PixelData"].file_tell - 8


# --- each bad input: (what to load, the path the message must name, error type, words it must contain) -------
def _empty(tmp):
    (tmp / "empty").mkdir()
    return tmp / "empty", tmp / "empty", EmptyInputError, "empty folder"


def _rtstruct_only(tmp):
    (tmp / "rt").mkdir()
    shutil.copy(RS, tmp / "rt" / "RS.dcm")
    return tmp / "rt", tmp / "rt", EmptyInputError, "no DICOM images (only RTSTRUCT"


def _cut(tmp, where):
    folder = _copy(CT, tmp / "series")
    victim = folder / "000010.dcm"
    data = victim.read_bytes()
    victim.write_bytes(data[:{"pixels": len(data) - 1000, "element": 500, "header": _pixel_offset(victim)}[where]])
    words = {"pixels": "pixel data ends after", "element": "ends inside element", "header": "ends before its pixel"}
    return folder, victim, CorruptFileError, words[where]


def _random_alone(tmp):
    return _garbage(tmp / "noise.dcm"), tmp / "noise.dcm", CorruptFileError, "corrupt"


def _random_in_series(tmp):
    folder = _copy(CT, tmp / "series")
    return folder, _garbage(folder / "000010.dcm"), CorruptFileError, "corrupt"


def _not_dicom_alone(tmp):
    (tmp / "notes.dcm").write_text("These are notes, not a DICOM image.\n" * 20)
    return tmp / "notes.dcm", tmp / "notes.dcm", NotDicomError, "not a DICOM file"


def _only_not_dicom(tmp):
    (tmp / "docs").mkdir()
    for name in ("a.dcm", "b.dcm"):
        (tmp / "docs" / name).write_text("plain text\n" * 20)
    return tmp / "docs", tmp / "docs", EmptyInputError, "no DICOM files"


def _missing(tmp):
    return tmp / "nowhere", tmp / "nowhere", LoadError, "does not exist"


CASES = {"empty-folder": _empty, "rtstruct-only": _rtstruct_only,
         "truncated-pixels": lambda t: _cut(t, "pixels"), "truncated-in-element": lambda t: _cut(t, "element"),
         "truncated-before-pixels": lambda t: _cut(t, "header"), "random-bytes": _random_alone,
         "random-bytes-in-series": _random_in_series, "not-dicom": _not_dicom_alone,
         "only-not-dicom": _only_not_dicom, "missing": _missing}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_a_typed_one_sentence_error_and_cli_exit_2(tmp_path, capsys, case):
    target, named, error, words = CASES[case](tmp_path)
    with pytest.raises(LoadError) as caught:
        load_volume(target)
    assert type(caught.value) is error
    message = str(caught.value)
    _one_sentence(message, named)
    assert words in message
    code, out, err = _cli(capsys, target)
    assert (code, out, err) == (2, "", f"medseg: {message}\n")


def test_an_rtstruct_alone_is_listed_as_rtstruct_not_as_an_image(tmp_path):
    target = _rtstruct_only(tmp_path)[0]
    listing = list_series(target)
    assert listing["series"] == [] and listing["skipped"] == []
    assert [(o["kind"], o["modality"], o["files"]) for o in listing["objects"]] == [("RTSTRUCT", "RTSTRUCT", 1)]
    assert "slices" not in listing["objects"][0]


def _unsupported_syntax(tmp):
    folder = _copy(CT, tmp / "series")
    victim = folder / "000010.dcm"
    ds = pydicom.dcmread(victim)
    ds.PixelData = encapsulate([ds.PixelData])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: no decoder for it is installed
    ds.save_as(victim, enforce_file_format=True)
    return folder, victim, None, "transfer syntax"


@pytest.mark.parametrize("case", ["missing", "random-bytes", "truncated-pixels", "unsupported-syntax"])
def test_cli_process_prints_one_sentence_without_traceback(tmp_path, case):
    target, named, _, words = (CASES.get(case) or _unsupported_syntax)(tmp_path)
    result = _cli_process(target)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("medseg: ") and result.stderr.count("\n") == 1
    _one_sentence(result.stderr[len("medseg: "):].strip(), named)
    assert words in result.stderr


# --- mixed sizes in one series, non-DICOM among slices -----------------------------------------------------
@pytest.fixture
def mixed_sizes(copy_series):
    """The real CT with its three top slices halved (Rows, Columns, pixels, spacing), same SeriesInstanceUID."""
    folder = copy_series(CT)
    slices = sorted(folder.glob("*.dcm"), key=lambda p: float(pydicom.dcmread(p).ImagePositionPatient[2]))
    small = []
    for path in slices[-3:]:
        ds = pydicom.dcmread(path)
        plane = ds.pixel_array[::2, ::2].copy()
        ds.Rows, ds.Columns = plane.shape
        ds.PixelSpacing = [f"{2 * float(v):.6f}" for v in ds.PixelSpacing]
        ds.PixelData = plane.tobytes()
        ds.save_as(path)
        small.append(plane)
    return folder, str(ds.SeriesInstanceUID), np.stack(small)


def test_mixed_sizes_in_one_series_are_separate_stacks(mixed_sizes, capsys):
    folder, uid, small = mixed_sizes
    reference = load_volume(CT).array
    with pytest.raises(AmbiguousSeriesError) as caught:
        load_volume(folder)
    message = str(caught.value)
    _one_sentence(message, folder)
    assert f"{uid}#1 (CT 'IBSI_1_STS_002_CT_image', 161×143×45)" in message
    assert f"{uid}#2 (CT 'IBSI_1_STS_002_CT_image', 81×72×3)" in message
    big = load_volume(folder, series=f"{uid}#1")
    assert big.size == (161, 143, 45) and big.warnings == []
    np.testing.assert_array_equal(big.array, reference[:45])
    top = load_volume(folder, series=f"{uid}#2")
    assert top.size == (81, 72, 3)
    np.testing.assert_array_equal(top.array, small)

    code, out, _ = _cli(capsys, folder)
    assert code == 0 and f"{uid}#1" in out and f"{uid}#2" in out
    code, out, err = _cli(capsys, folder, "--series", uid)
    assert code == 2 and out == "" and f"{uid}#1" in err and f"{uid}#2" in err
    code, out, _ = _cli(capsys, folder, "--series", f"{uid}#1", "--json")
    assert code == 0 and json.loads(out)["size"] == [161, 143, 45]


def test_a_non_dicom_file_among_a_series_is_skipped_with_a_warning(copy_series, capsys):
    folder = copy_series(CT)
    (folder / "README.dcm").write_text("exported by a viewer\n" * 10)
    volume = load_volume(folder)
    np.testing.assert_array_equal(volume.array, load_volume(CT).array)
    assert volume.warnings == ["1 file(s) that are not DICOM were skipped."]
    skipped = list_series(folder)["skipped"]
    assert len(skipped) == 1
    _one_sentence(skipped[0], folder / "README.dcm")
    code, out, _ = _cli(capsys, folder)
    assert code == 0 and "not DICOM were skipped" in out


# --- permissions -------------------------------------------------------------------------------------------
@pytest.fixture
def open_tmp():
    """A folder other users may search (pytest's tmp_path sits under a root-only 0700 folder)."""
    base = Path(tempfile.mkdtemp(prefix="medseg-perm-"))
    base.chmod(0o755)
    yield base
    for p in [base, *base.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    shutil.rmtree(base)


@pytest.fixture
def unprivileged() -> list[str]:
    """Command prefix that runs the CLI where chmod is obeyed: root without its permission-bypass capabilities."""
    if os.geteuid() != 0:
        return []
    require_tool("setpriv")
    probe = subprocess.run([*WITHOUT_ROOT_BYPASS, "cat", "/proc/self/status"], capture_output=True, timeout=60)
    assert probe.returncode == 0, probe.stderr.decode()
    return WITHOUT_ROOT_BYPASS


@pytest.mark.parametrize("what", ["folder", "file", "parent"])
def test_unreadable_input_says_permission_denied(open_tmp, unprivileged, what):
    folder = _copy(CT, open_tmp / "locked" / "series")
    for p in [open_tmp / "locked", folder, *folder.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    named = {"folder": folder, "file": folder / "000010.dcm", "parent": folder}[what]
    {"folder": folder, "file": folder / "000010.dcm", "parent": open_tmp / "locked"}[what].chmod(0o000)
    result = _cli_process(folder, prefix=unprivileged, cwd=open_tmp)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == f"medseg: {named}: cannot be read: permission denied.\n"


def _deny(monkeypatch, victim: Path) -> None:
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) == victim:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)


@pytest.mark.parametrize("when", ["header", "pixels"])
def test_unreadable_file_in_process_is_a_load_error(copy_series, monkeypatch, capsys, when):
    folder = copy_series(CT)
    victim = folder / "000010.dcm"
    entry = select_series(scan(folder), None)
    _deny(monkeypatch, victim)
    with pytest.raises(LoadError) as caught:
        load_volume(folder) if when == "header" else load_series(entry)
    assert type(caught.value) is LoadError  # not "corrupt": the file is fine, we may not read it
    assert str(caught.value) == f"{victim}: cannot be read: permission denied."
    if when == "header":
        assert _cli(capsys, folder) == (2, "", f"medseg: {victim}: cannot be read: permission denied.\n")


# --- loading never writes ----------------------------------------------------------------------------------
def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ctime_ns, p.stat().st_mode)
            for p in [root, *root.rglob("*")]}


def test_loading_never_writes_into_the_input_folder(copy_series, capsys):
    folder = copy_series(CT)
    shutil.copy(RS, folder / "RS.dcm")
    before = _snapshot(folder)
    load_volume(folder)
    list_series(folder)
    assert _cli(capsys, folder)[0] == 0
    assert _cli(capsys, folder, "--json")[0] == 0
    result = subprocess.run([*MEDSEG, folder, "--json"], capture_output=True, text=True, timeout=120, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert _snapshot(folder) == before
    assert not [p for p in folder.rglob("*") if p.name == "__pycache__" or p.suffix in (".pyc", ".cache", ".db")]


# --- a folder of several series ----------------------------------------------------------------------------
@pytest.fixture
def study(tmp_path):
    root = tmp_path / "study"
    _copy(CT, root / "CT")
    _copy(PET, root / "PET")
    shutil.copy(STS_002 / "CT" / "dicom" / "mask" / "RS.dcm", root / "RS.dcm")
    return root


EXPECTED = {"CT": ("IBSI_1_STS_002_CT_image", [161, 143, 48]), "PT": ("IBSI_1_STS_002_PET_image", [30, 27, 48])}


def test_a_folder_of_two_series_is_listed_and_each_can_be_picked(study, capsys):
    listing = list_series(study)
    series = {s["modality"]: s for s in listing["series"]}
    assert set(series) == {"CT", "PT"} and len(listing["series"]) == 2
    for modality, (description, size) in EXPECTED.items():
        s = series[modality]
        assert (s["kind"], s["description"], s["slices"], s["size"], s["files"]) == ("image", description, 48, size, 48)
    assert [o["kind"] for o in listing["objects"]] == ["RTSTRUCT"]
    with pytest.raises(AmbiguousSeriesError) as caught:
        load_volume(study)
    _one_sentence(str(caught.value), study)
    assert "holds 2 image series" in str(caught.value)

    code, out, _ = _cli(capsys, study)
    assert code == 0 and out.startswith("2 image series") and "RTSTRUCT" in out
    for modality, (description, size) in EXPECTED.items():
        line = next(line for line in out.splitlines() if series[modality]["uid"] in line)
        assert modality in line and description in line and "×".join(map(str, size)) in line and "48 slices" in line
    code, out, _ = _cli(capsys, study, "--json")
    assert code == 0 and json.loads(out) == json.loads(json.dumps(listing))

    for modality, (_, size) in EXPECTED.items():
        code, out, err = _cli(capsys, study, "--series", series[modality]["uid"], "--json")
        info = json.loads(out)
        assert code == 0, err
        assert (info["modality"], info["size"], info["series_uid"]) == (modality, size, series[modality]["uid"])
