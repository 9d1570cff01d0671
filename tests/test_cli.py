"""`medseg info` prints SimpleITK-convention geometry; `medseg` with no path opens the bundled sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SAMPLE, SPINAL, STS_002, require_tool, series_dir

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


def _screenshot(*args) -> subprocess.CompletedProcess:
    xvfb = require_tool("xvfb-run")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", *MEDSEG, *map(str, args)],
                          capture_output=True, text=True, timeout=180, env=env)


def test_no_path_opens_the_bundled_sample_with_its_label_map(tmp_path):
    """`medseg --screenshot` opens the sample in the window, draws every view (3-D included) and saves it."""
    from PIL import Image

    out = tmp_path / "shot.png"
    result = _screenshot("--screenshot", out)
    assert result.returncode == 0, result.stderr
    shot = np.asarray(Image.open(out).convert("RGB")).astype(int)
    height, width, _ = shot.shape
    assert (width, height) == (1500, 920)
    views = _view_regions(shot)
    import pydicom

    rs = pydicom.dcmread(SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm")  # the GTV comes from the RTSTRUCT, in its colour
    colour = tuple(int(c) for c in rs.ROIContourSequence[0].ROIDisplayColor)
    assert colour == (255, 0, 0)
    outline = np.all(shot == colour, axis=2)  # the GTV's outline, in the structure set's ROI colour
    assert outline[views["axial"]].sum() + outline[views["sagittal"]].sum() > 200
    assert outline[views["coronal"]].sum() > 100
    assert shot[views["3d"]].std() > 10, "the 3-D view came out blank"
    for name in ("axial", "sagittal", "coronal"):
        assert shot[views[name]].std() > 10, f"the {name} view came out blank"
    rows, cols = views["axial"]
    _assert_axial_orientation(shot[rows.start + 10: rows.stop - 30, cols.start + 30: cols.stop - 40])


def _view_regions(shot: np.ndarray) -> dict[str, tuple[slice, slice]]:
    """Where each view lies in a screenshot of the window (the segment and tool docks take the right-hand side):
    found by the colour of its title bar, which spans the view's width just above it."""
    from PySide6.QtGui import QColor  # noqa: F401  (QColor arithmetic needs no QApplication)

    from medseg_app.ui.viewer.view_colours import VIEW_COLOURS

    bars = {}
    for name, colour in VIEW_COLOURS.items():
        ys, xs = np.nonzero(np.all(shot == colour.darker(170).getRgb()[:3], axis=2))
        assert ys.size, f"no title bar of the {name} view in the screenshot"
        bars[name] = (ys.min(), ys.max(), xs.min(), xs.max())
    top, middle, bottom = bars["axial"][1] + 1, bars["sagittal"][0] - 20, shot.shape[0] - 60
    regions = {}
    for name, (first, last) in {"axial": (top, middle), "3d": (top, middle),
                                "sagittal": (bars["sagittal"][1] + 1, bottom),
                                "coronal": (bars["coronal"][1] + 1, bottom)}.items():
        regions[name] = (slice(first, last), slice(bars[name][2], bars[name][3] + 1))
    return regions


def _body_crop(grey: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(grey > 40)
    return grey[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]


def _assert_axial_orientation(axial_view: np.ndarray) -> None:
    """The axial view must match the sample's middle slice drawn radiologically: patient right on the screen's
    left, anterior at the top. Compared by correlation with the slice and its mirror images."""
    from PIL import Image

    from medseg_app.core.window_level import CT_PRESETS, to_grey8
    from medseg_app.io import load_volume

    volume = load_volume(series_dir(SAMPLE, "CT"))
    # Identity direction: i runs to the patient's left and j to posterior, i.e. screen right and down.
    expected = _body_crop(to_grey8(volume.array[volume.size[2] // 2], CT_PRESETS["Soft tissue"]).astype(float))
    plain = np.ptp(axial_view, axis=2) < 30  # grey pixels: not the label overlay, crosshair or letters
    grey = axial_view.astype(float).mean(axis=2)
    rows, cols = np.nonzero((grey > 40) & plain)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    size = expected.shape[::-1]
    seen = np.asarray(Image.fromarray(grey[box].astype(np.uint8)).resize(size), float)
    keep = np.asarray(Image.fromarray(plain[box]).resize(size, Image.NEAREST), bool)

    def correlation(a, b):
        return float(np.corrcoef(a[keep], b[keep])[0, 1])

    right = correlation(seen, expected)
    assert right > 0.8, f"the axial view does not show the sample's slice (correlation {right:.2f})"
    assert right > correlation(seen, expected[:, ::-1]) + 0.1, "the axial view is mirrored left-right"
    assert right > correlation(seen, expected[::-1, :]) + 0.1, "the axial view is upside down"


def test_screenshot_of_a_bad_path_fails_with_one_sentence(tmp_path):
    result = _screenshot(tmp_path / "missing.nii.gz", "--screenshot", tmp_path / "shot.png")
    assert result.returncode == 2
    assert "missing.nii.gz" in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "shot.png").exists()


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "medseg"
    assert script.exists()
    result = subprocess.run([str(script), "info", str(series_dir(STS_002, "CT")), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert json.loads(result.stdout)["size"] == [161, 143, 48]
