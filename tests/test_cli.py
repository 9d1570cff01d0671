"""`medseg info` prints SimpleITK-convention geometry; `medseg` with no path works on the bundled sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, SPINAL, STS_002, series_dir

MEDSEG = [sys.executable, "-m", "medseg_app"]


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*MEDSEG, *map(str, args)], capture_output=True, text=True, timeout=120)


def _sitk_image(path: Path) -> sitk.Image:
    if path.is_dir():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(path)))
        return reader.Execute()
    return sitk.ReadImage(str(path))


@pytest.mark.parametrize("path", [series_dir(STS_002, "MR_T1"), series_dir(SAMPLE, "PET"),
                                  SPINAL / "t2s" / "t2s.nii.gz", SPINAL / "t2" / "t2.nii.gz"],
                         ids=["mr-dicom", "pet-dicom", "oblique-nifti", "permuted-nifti"])
def test_info_json_matches_simpleitk(path):
    result = _run("info", path, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    image = _sitk_image(path)
    assert info["size"] == list(image.GetSize())
    np.testing.assert_allclose(info["spacing"], image.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(info["origin"], image.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(info["direction"], image.GetDirection(), atol=1e-6)
    assert set(info) >= {"size", "spacing", "origin", "direction", "modality", "units", "series_uid"}


def test_info_reports_modality_units_and_series():
    info = json.loads(_run("info", series_dir(SAMPLE, "PET"), "--json").stdout)
    assert (info["modality"], info["units"]) == ("PT", "SUV")
    assert info["series_uid"].startswith("1.3.6.1.4.1.14519")


def test_plain_info_is_readable():
    result = _run("info", series_dir(SAMPLE, "CT"))
    assert result.returncode == 0
    assert "CT" in result.stdout and "HU" in result.stdout and "198, 202, 59" in result.stdout


def test_no_path_describes_the_bundled_sample():
    result = _run()
    assert result.returncode == 0, result.stderr
    assert "198, 202, 59" in result.stdout
    assert str(SAMPLE.name) in result.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "medseg"
    assert script.exists()
    result = subprocess.run([str(script), "info", str(series_dir(STS_002, "CT")), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert json.loads(result.stdout)["size"] == [161, 143, 48]
