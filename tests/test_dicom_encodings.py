"""Compressed and re-encoded real series decode to the pixels of their uncompressed originals.

The encoded files are made at test time from the vendored series with GDCM's ``gdcmconv`` (and DCMTK where
GDCM cannot write a syntax), so every decoder plugin MedSeg relies on is exercised on real CT, MR and PET.
Lossless syntaxes must give the original volume bit for bit; lossy ones must give what an independent
decoder (SimpleITK / GDCM) reads from the same files, within the error the codec promises.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom import uid

from conftest import SAMPLE, STS_002, require_tool, series_dir
from medseg_app.core.errors import UnsupportedTransferSyntaxError
from medseg_app.core.sitk_bridge import geometry_from_sitk
from medseg_app.io import load_volume

N_SLICES = 8
SERIES = {
    "STS_002-CT": series_dir(STS_002, "CT"),  # signed 16-bit, implicit VR
    "STS_002-MR_T1": series_dir(STS_002, "MR_T1"),  # explicit VR, no rescale
    "STS_002-PET": series_dir(STS_002, "PET"),  # a different rescale slope on every slice
    "STS_001-PET": series_dir(SAMPLE, "PET"),
}

# name: (command before "in out", the transfer syntax the output must declare)
LOSSLESS = {
    "explicit-vr-le": (["gdcmconv", "-X"], uid.ExplicitVRLittleEndian),  # raw-bytes fast path
    "implicit-vr-le": (["gdcmconv", "-M"], uid.ImplicitVRLittleEndian),  # raw-bytes fast path
    "jpeg-lossless": (["gdcmconv", "--jpeg"], uid.JPEGLosslessSV1),
    "jpeg2000-lossless": (["gdcmconv", "--j2k"], uid.JPEG2000Lossless),
    "jpeg-ls-lossless": (["gdcmconv", "--jpegls"], uid.JPEGLSLossless),
    "rle": (["gdcmconv", "--rle"], uid.RLELossless),
    "deflated": (["gdcmconv", "--deflated"], uid.DeflatedExplicitVRLittleEndian),
    "explicit-vr-big-endian": (["dcmconv", "+tb"], uid.ExplicitVRBigEndian),  # GDCM cannot write it
}


def _by_position(folder: Path) -> list[Path]:
    """The folder's files ordered along the slice normal, read with pydicom alone."""
    headers = [(p, pydicom.dcmread(p, stop_before_pixels=True)) for p in sorted(folder.iterdir())]
    iop = np.asarray(headers[0][1].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    headers.sort(key=lambda ph: float(normal @ np.asarray(ph[1].ImagePositionPatient, dtype=float)))
    return [p for p, _ in headers]


def _subset(src: Path, dst: Path, n: int = N_SLICES) -> Path:
    """``n`` adjacent slices from the middle of a real series, copied to ``dst``."""
    ordered = _by_position(src)
    start = (len(ordered) - n) // 2
    dst.mkdir(parents=True)
    for p in ordered[start:start + n]:
        shutil.copyfile(p, dst / p.name)
    return dst


def _convert(command: list[str], src: Path, dst: Path) -> Path:
    """Run ``command in out`` on every file of ``src`` (in parallel), writing into ``dst``."""
    require_tool(command[0])
    dst.mkdir()
    procs = [subprocess.Popen([*command, str(p), str(dst / p.name)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for p in sorted(src.iterdir())]
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, f"{' '.join(proc.args)} failed: {err.decode(errors='replace')}"
    return dst


def _syntaxes(folder: Path) -> set[str]:
    return {str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID)
            for p in folder.iterdir()}


def _sitk_volume(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _assert_same_volume(got, ref) -> None:
    assert got.array.dtype == ref.array.dtype
    np.testing.assert_array_equal(got.array, ref.array)
    assert got.size == ref.size
    for attr in ("spacing", "origin", "direction"):
        np.testing.assert_array_equal(getattr(got, attr), getattr(ref, attr), err_msg=attr)
    assert (got.modality, got.units) == (ref.modality, ref.units)
    assert got.identity == ref.identity
    assert got.warnings == ref.warnings == []


# --- lossless: bit-exact -----------------------------------------------------------------------------------

@pytest.mark.parametrize("codec", list(LOSSLESS))
@pytest.mark.parametrize("series", list(SERIES))
def test_lossless_syntax_decodes_to_the_original_volume(tmp_path, series, codec):
    command, syntax = LOSSLESS[codec]
    original = _subset(SERIES[series], tmp_path / "original")
    encoded = _convert(command, original, tmp_path / codec)
    assert _syntaxes(encoded) == {syntax}
    _assert_same_volume(load_volume(encoded), load_volume(original))


# --- lossy: equal to an independent decoder, close to the original ----------------------------------------

@pytest.fixture
def ct_subset(tmp_path) -> Path:
    return _subset(series_dir(STS_002, "CT"), tmp_path / "ct")


def _check_lossy(encoded: Path, syntax: str, original_volume, decoder_tol: float) -> np.ndarray:
    """Checks shared by all lossy codecs; returns |decoded - original| in output units."""
    assert _syntaxes(encoded) == {syntax}
    volume = load_volume(encoded)
    image = _sitk_volume(encoded)
    assert volume.geometry.same_grid(geometry_from_sitk(image), tol_mm=1e-4)
    assert volume.geometry.same_grid(original_volume.geometry, tol_mm=1e-6)
    reference = sitk.GetArrayFromImage(image).astype(np.float64)
    assert np.abs(volume.array - reference).max() <= decoder_tol
    error = np.abs(volume.array.astype(np.float64) - original_volume.array)
    assert error.max() > 0, "the codec was asked to be lossy but the pixels are untouched"
    return error


def test_jpeg_ls_near_lossless_stays_within_the_allowed_error(tmp_path, ct_subset):
    allowed = 3  # stored units; CT slope is 1, so HU
    encoded = _convert(["gdcmconv", "--jpegls", "--lossy", "-e", str(allowed)], ct_subset,
                       tmp_path / "jpegls-near")
    # JPEG-LS is deterministic integer arithmetic: every decoder must agree exactly.
    error = _check_lossy(encoded, uid.JPEGLSNearLossless, load_volume(ct_subset), decoder_tol=0)
    assert error.max() <= allowed


def test_jpeg2000_irreversible_matches_gdcm_and_the_original(tmp_path, ct_subset):
    encoded = _convert(["gdcmconv", "--j2k", "--lossy", "--irreversible", "-r", "10"], ct_subset,
                       tmp_path / "j2k-lossy")
    error = _check_lossy(encoded, uid.JPEG2000, load_volume(ct_subset), decoder_tol=0)
    assert error.mean() < 30  # HU, on a CT spanning -1000..+736 HU; measured ~14 HU
    assert error.max() < 300


def _derive_bit_depth(src: Path, dst: Path, bits: int) -> Path:
    """An unsigned ``bits``-bit copy of a real CT (lossy JPEG cannot hold signed 16-bit pixels)."""
    dst.mkdir()
    for p in sorted(src.iterdir()):
        ds = pydicom.dcmread(p)
        hu = ds.pixel_array.astype(np.int32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        if bits == 8:  # 8 HU steps from -1000 HU
            stored, slope, intercept = np.clip((hu + 1000) // 8, 0, 255).astype(np.uint8), 8, -1000
        else:
            stored, slope, intercept = np.clip(hu + 1024, 0, 4095).astype(np.uint16), 1, -1024
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = stored.itemsize * 8, bits, bits - 1, 0
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue"):  # their VR follows the sign
            if keyword in ds:
                delattr(ds, keyword)
        ds.PixelData = stored.tobytes()
        ds.file_meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
        ds.save_as(dst / p.name, enforce_file_format=True)
    return dst


def test_jpeg_baseline_8bit_lossy_matches_gdcm_and_the_original(tmp_path, ct_subset):
    original = _derive_bit_depth(ct_subset, tmp_path / "u8", 8)
    original_volume = load_volume(original)
    assert original_volume.array.dtype == np.float32 and original_volume.array.min() == -1000
    encoded = _convert(["gdcmconv", "--jpeg", "--lossy", "-q", "90"], original, tmp_path / "jpeg-baseline")
    # DCT decoders may differ by one stored unit (ISO 10918-2 IDCT accuracy): 8 HU here.
    error = _check_lossy(encoded, uid.JPEGBaseline8Bit, original_volume, decoder_tol=8)
    assert error.mean() < 3 * 8  # within three stored units on average; measured ~1.9


def test_jpeg_extended_12bit_lossy_matches_gdcm_and_the_original(tmp_path, ct_subset):
    # gdcmconv --jpeg --lossy writes a 16-bit-precision lossy stream that no decoder (GDCM included)
    # accepts, so the 12-bit JPEG Extended files come from DCMTK.
    original = _derive_bit_depth(ct_subset, tmp_path / "u12", 12)
    original_volume = load_volume(original)
    encoded = _convert(["dcmcjpeg", "+ee"], original, tmp_path / "jpeg-extended")
    error = _check_lossy(encoded, uid.JPEGExtended12Bit, original_volume, decoder_tol=1)
    assert error.mean() < 10 and error.max() < 100  # HU; measured 3 and 19


# --- syntaxes nobody here decodes -------------------------------------------------------------------------

UNSUPPORTED = {
    "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile / Main Level",
    "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main Profile / Level 5.1",
    "1.2.826.0.1.3680043.9.7433.99.1": None,  # a private syntax nobody here knows
}


def _relabel(path: Path, syntax: str) -> None:
    """Declare another encapsulated syntax for a file whose pixel data is encapsulated already."""
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = syntax
    pydicom.dcmwrite(path, ds, implicit_vr=False, little_endian=True)


@pytest.mark.parametrize("syntax", list(UNSUPPORTED))
def test_unsupported_syntax_names_the_file_and_the_syntax(tmp_path, ct_subset, syntax):
    encoded = _convert(["gdcmconv", "--jpeg"], ct_subset, tmp_path / "encapsulated")
    target = sorted(encoded.iterdir())[0]
    _relabel(target, syntax)
    with pytest.raises(UnsupportedTransferSyntaxError) as info:
        load_volume(target)
    message = str(info.value)
    assert info.value.path == target
    assert str(target) in message and syntax in message
    if UNSUPPORTED[syntax]:
        assert UNSUPPORTED[syntax] in message


def test_one_unsupported_file_in_a_series_is_named(tmp_path, ct_subset):
    encoded = _convert(["gdcmconv", "--jpeg"], ct_subset, tmp_path / "encapsulated")
    target = _by_position(encoded)[N_SLICES // 2]
    _relabel(target, "1.2.840.10008.1.2.4.102")  # MPEG-4 AVC/H.264 High Profile / Level 4.1
    with pytest.raises(UnsupportedTransferSyntaxError) as info:
        load_volume(encoded)
    assert info.value.path == target
    assert "1.2.840.10008.1.2.4.102" in str(info.value) and "H.264" in str(info.value)
