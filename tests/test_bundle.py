"""The desktop bundle (packaging/medseg.spec, built by packaging/build-bundle.sh): one folder that runs without the
virtualenv, holds the models and the sample study, opens the viewer, and runs ``info``, ``models`` and ``segment``;
plus the desktop entry and icons it installs.

The slow tests build the bundle from this checkout into a temporary folder (about 2 minutes on two cores, 4 with
the tests), as CI does; MEDSEG_BUNDLE=DIR tests a bundle built before instead (e.g. dist/MedSeg):

    MEDSEG_BUNDLE=dist/MedSeg bash packaging/run-tests.sh tests/test_bundle.py
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import REPO, SAMPLE, require_tool, series_dir

APP = "MedSeg"
# What the recipe leaves out must stay out (packaging/medseg.spec: EXCLUDED_MODULES, _DROPPED_PATTERNS): paths in
# the bundle's _internal folder.
UNWANTED = re.compile(r"^(nvidia|triton|tkinter|matplotlib|sympy|pytest|_pytest|hypothesis|IPython|tests|benchmarks)/"
                      r"|^_tkinter|lib(cudart|cudnn|cublas|nccl)|libQt6(Qml|Quick|WebEngine|3D|Multimedia|Designer)"
                      r"|^torch/(bin/(?!torch_shm_manager$)|include/|_inductor/|_dynamo/)|libtorchbind_test"
                      r"|^PySide6/Qt/(translations|qml)/|platformthemes/libqgtk3")


# --- the desktop entry and icons (fast, always run) ---------------------------------------------------------------

def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_desktop_entry_and_icons():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(REPO / "resources" / "medseg.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "MedSeg" and desktop["Icon"] == "medseg"
    assert desktop["Exec"].split()[0] == "MedSeg" and desktop["Exec"].split()[1] in ("%f", "%F")
    assert {"Science", "MedicalSoftware", "Graphics"} <= set(filter(None, desktop["Categories"].split(";")))
    mime_types = set(filter(None, desktop["MimeType"].split(";")))
    assert "application/dicom" in mime_types
    declared = {t.get("type") for t in ET.parse(REPO / "resources" / "medseg-mime.xml").getroot()}
    assert mime_types - {"application/dicom"} <= declared, "a MimeType the entry names is defined nowhere"

    validator = shutil.which("desktop-file-validate")  # desktop-file-utils, where installed
    if validator:
        result = subprocess.run([validator, str(REPO / "resources" / "medseg.desktop")], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr

    ET.parse(REPO / "resources" / "icons" / "medseg.svg")  # well-formed
    for size in (48, 128, 256):
        assert _png_size(REPO / "resources" / "icons" / f"medseg-{size}.png") == (size, size)


def test_resources_are_found_inside_a_frozen_bundle(monkeypatch, tmp_path):
    """In the bundle, resources/ and models/ lie in sys._MEIPASS (MedSeg/_internal); MEDSEG_* still override."""
    from medseg_app import resources

    for name in ("MEDSEG_RESOURCES", "MEDSEG_MODELS"):
        monkeypatch.delenv(name, raising=False)
    assert resources.models_dir() == REPO / "models" and resources.sample_study_dir() == SAMPLE
    assert [p.name for p in resources.icon_files()] == ["medseg-48.png", "medseg-128.png", "medseg-256.png"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.models_dir() == tmp_path / "models"
    assert resources.sample_ct_dir() == tmp_path / "resources" / "sample" / "STS_001" / "CT" / "dicom"
    monkeypatch.setenv("MEDSEG_MODELS", str(tmp_path / "mine"))
    assert resources.models_dir() == tmp_path / "mine"


# --- the bundle itself (slow: built on request) -------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle folder: MEDSEG_BUNDLE, or one built now from this checkout and moved to a path with a space
    (the folder must work wherever it is copied)."""
    if os.environ.get("MEDSEG_BUNDLE"):
        folder = Path(os.environ["MEDSEG_BUNDLE"]).resolve()
        assert (folder / APP).is_file(), f"MEDSEG_BUNDLE={folder} holds no {APP} executable"
        return folder
    root = tmp_path_factory.mktemp("bundle")
    build = subprocess.run(["bash", str(REPO / "packaging" / "build-bundle.sh"), "--distpath", str(root / "dist"),
                            "--workpath", str(root / "build")], capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, (build.stdout + build.stderr)[-6000:]
    shutil.rmtree(root / "build")
    moved = root / "copied elsewhere" / APP
    moved.parent.mkdir()
    shutil.move(str(root / "dist" / APP), moved)
    return moved


@pytest.fixture
def bundle_env(tmp_path) -> dict:
    """The environment of a user's desktop: no virtualenv, no Python paths, no MEDSEG_* overrides, empty
    per-user model and config folders."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_QPA_PLATFORM", "QT_PLUGIN_PATH",
                        "LD_LIBRARY_PATH") and not (k.startswith("MEDSEG_") and k != "MEDSEG_LOG_DIR")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["MEDSEG_CONFIG_DIR"] = str(tmp_path / "config" / "medseg")
    return env


def _run(bundle: Path, env: dict, *args, timeout: int = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / APP), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd or Path(env["XDG_DATA_HOME"]).parent)


@pytest.mark.slow
def test_bundle_holds_the_models_and_sample_and_leaves_out_what_is_unused(bundle):
    internal = bundle / "_internal"
    assert os.access(bundle / APP, os.X_OK)
    assert (bundle / "install.sh").is_file()
    sample = internal / "resources" / "sample"
    assert (sample / "STS_001" / "CT" / "dicom" / "image").is_dir() and (sample / "STS_001" / "PET").is_dir()
    assert (sample / "LICENSE.md").is_file() and (sample / "PROVENANCE.md").is_file()  # CC BY: the attribution
    shipped = sorted(p.name for p in (REPO / "models").iterdir() if (p / "configs").is_dir()
                     and not p.name.startswith("."))
    assert shipped and sorted(p.name for p in (internal / "models").iterdir() if p.is_dir()) == shipped
    for name in shipped:
        assert (internal / "models" / name / "models" / "model.pt").is_file()
    files = [p.relative_to(internal).as_posix() for p in internal.rglob("*") if p.is_file()]
    found = sorted(f for f in files if UNWANTED.search(f))
    assert not found, f"the bundle holds what the recipe leaves out: {found[:20]}"
    broken = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not broken, f"links to files the recipe left out: {broken}"
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    assert size < 2.0e9, f"the bundle grew to {size / 1e9:.2f} GB"  # 1.6 GB with torch 2.13 (CPU), VTK 9.7, Qt 6.11


@pytest.mark.slow
def test_info_from_the_bundle_matches_the_venv(bundle, bundle_env):
    ct = series_dir(SAMPLE, "CT")
    result = _run(bundle, bundle_env, "info", ct, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    venv = subprocess.run([sys.executable, "-m", "medseg_app", "info", str(ct), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert json.loads(result.stdout) == json.loads(venv.stdout)
    assert json.loads(result.stdout)["size"] == [198, 202, 59]
    bad = _run(bundle, bundle_env, "info", bundle_env["XDG_DATA_HOME"] + "/missing.nii.gz")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_models_are_found_inside_the_bundle(bundle, bundle_env):
    result = _run(bundle, bundle_env, "models", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    listing = json.loads(result.stdout)
    assert not listing["problems"]
    shipped = {p.name for p in (REPO / "models").iterdir() if (p / "configs").is_dir() and not p.name.startswith(".")}
    assert {m["name"] for m in listing["models"]} == shipped
    for model in listing["models"]:
        assert Path(model["path"]).parent == bundle / "_internal" / "models", model["path"]
        assert model["accuracy"], f"{model['name']}: no accuracy in its card"


@pytest.mark.slow
def test_segment_runs_torch_and_monai_from_the_bundle(bundle, bundle_env, tmp_path):
    """The AI stack frozen into the bundle (torch, MONAI's networks and inferers, loaded lazily) segments the
    sample PET's GTV from its box as the venv does."""
    from medseg_app.ai.box_training_data import Case, dice, exact_box
    from medseg_app.io import load_volume

    pet = series_dir(SAMPLE, "PET")
    volume = load_volume(pet)
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(SAMPLE / "PET" / "nifti" / "mask" / "mask.nii.gz"))) > 0
    box = exact_box(Case("STS_001", volume.array, mask, volume.geometry))
    out = tmp_path / "gtv.nii.gz"
    result = _run(bundle, bundle_env, "segment", pet, "--model", "pet_gtv_box_unet", "--out", out,
                  "--box", ",".join(f"{v:.2f}" for v in box.ravel()))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["device"] == "cpu" and summary["labels"][0]["name"] == "GTV"
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out)))
    assert dice(labels == 1, mask) > 0.75


@pytest.mark.slow
def test_batch_starts_dask_workers_from_the_bundle(bundle, bundle_env, tmp_path):
    """`MedSeg batch --workers 2` runs a local Dask cluster whose worker processes are the frozen executable again
    (packaging/medseg_launcher.py calls multiprocessing.freeze_support for them)."""
    pet = series_dir(SAMPLE, "PET")
    box = "28.12,-37.50,-843.69,117.19,60.94,-742.32"  # around the sample's GTV (LPS mm)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(f'id,image,box\nA,{pet},"{box}"\nB,{pet},"{box}"\n')
    result = _run(bundle, bundle_env, "batch", "--model", "pet_gtv_box_unet", "--out", tmp_path / "out",
                  "--workers", "2", "--json", cohort)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert sorted(summary["done"]) == ["A", "B"] and "Dask" in summary["ran"], summary
    assert (tmp_path / "out" / "A" / "labels.nii.gz").is_file()


@pytest.mark.slow
def test_screenshot_from_the_bundle_shows_the_sample(bundle, bundle_env, tmp_path):
    """`MedSeg --screenshot` (no path: the sample inside the bundle) draws every view, as tests/test_cli.py checks
    for the venv: the GTV outline in its RTSTRUCT colour, no blank view, the axial slice the right way round."""
    from PIL import Image

    from test_cli import _assert_axial_orientation, _view_regions

    xvfb = require_tool("xvfb-run")

    def screenshot(command: list[str], out: Path) -> np.ndarray:
        result = subprocess.run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", *command, "--screenshot", str(out)],
                                capture_output=True, text=True, timeout=300, env=bundle_env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "could not" not in result.stderr, result.stderr[-3000:]  # e.g. a segment surface that failed
        return np.asarray(Image.open(out).convert("RGB")).astype(int)

    shot = screenshot([str(bundle / APP)], tmp_path / "bundle-shot.png")
    if os.environ.get("MEDSEG_BUNDLE_SHOT"):  # keep the picture to look at
        shutil.copy(tmp_path / "bundle-shot.png", os.environ["MEDSEG_BUNDLE_SHOT"])
    assert shot.shape[:2] == (920, 1500)
    views = _view_regions(shot)
    outline = np.all(shot == (255, 0, 0), axis=2)
    assert outline[views["axial"]].sum() + outline[views["sagittal"]].sum() > 200
    assert outline[views["coronal"]].sum() > 100
    for name in ("axial", "sagittal", "coronal", "3d"):
        assert shot[views[name]].std() > 10, f"the {name} view came out blank"
    rows, cols = views["axial"]
    _assert_axial_orientation(shot[rows.start + 10: rows.stop - 30, cols.start + 30: cols.stop - 40])
    # The GTV's surface in the 3-D view (shaded red; the axial plane's red frame alone is a few hundred pixels).
    three_d = shot[views["3d"]]
    surface = (three_d[..., 0] > 100) & (three_d[..., 1] < 70) & (three_d[..., 2] < 70)
    assert surface.sum() > 1000, f"no segment surface in the 3-D view ({surface.sum()} red pixels)"

    # And the bundle draws what the venv draws (the status bar, which names the sample's path, aside).
    venv = screenshot([sys.executable, "-m", "medseg_app"], tmp_path / "venv-shot.png")
    for name, region in views.items():
        differs = (np.abs(shot[region] - venv[region]).max(axis=2) > 30).mean()
        assert differs < 0.002, f"the {name} view differs from the venv's in {differs:.1%} of its pixels"


@pytest.mark.slow
def test_the_window_has_the_icon_and_desktop_name(bundle, bundle_env, tmp_path):
    """The window icon (the PNGs inside the bundle) and the desktop file name that ties the window to medseg.desktop."""
    script = tmp_path / "probe.py"
    script.write_text('print("ICON", sorted((s.width(), s.height()) for s in app.windowIcon().availableSizes()), '
                      'app.desktopFileName(), flush=True)\napp.exit(0)\n')
    env = {**bundle_env, "MEDSEG_TEST_SCRIPT": str(script), "QT_QPA_PLATFORM": "offscreen"}
    result = _run(bundle, env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ICON [(48, 48), (128, 128), (256, 256)] medseg" in result.stdout, result.stdout[-2000:]


@pytest.mark.slow
def test_install_script_adds_the_menu_entry_and_removes_it(bundle, tmp_path):
    prefix = tmp_path / "prefix"
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(bundle / "install.sh"), "--prefix", str(prefix)], capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    entry = (prefix / "share" / "applications" / "medseg.desktop").read_text()
    assert f'Exec="{bundle / APP}" %f' in entry
    assert (prefix / "bin" / APP).resolve() == (bundle / APP).resolve()
    for size in (48, 128, 256):
        assert _png_size(prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "medseg.png") == \
            (size, size)
    assert (prefix / "share" / "mime" / "packages" / "medseg.xml").is_file()
    result = subprocess.run(["bash", str(bundle / "install.sh"), "--prefix", str(prefix), "--uninstall"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert not (prefix / "share" / "applications" / "medseg.desktop").exists()
    assert not (prefix / "bin" / APP).exists()
