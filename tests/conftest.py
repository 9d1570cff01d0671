"""Shared fixtures: where the vendored real data lives, and external validators that CI must have."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLE = REPO / "resources" / "sample" / "STS_001"
STS_002 = DATA / "sts_mirp" / "STS_002"
SPINAL = DATA / "sct_spinalcord_mri"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The log and crash reports of the tests (and of every medseg they start) stay out of the user's state folder.
if "MEDSEG_LOG_DIR" not in os.environ:
    os.environ["MEDSEG_LOG_DIR"] = _TEST_LOGS = tempfile.mkdtemp(prefix="medseg-test-logs-")
    atexit.register(shutil.rmtree, _TEST_LOGS, True)


def require_tool(name: str) -> str:
    """Path of an external program; skip locally when it is missing, but fail in CI, which must install it."""
    found = shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed; packaging/setup-env.sh --test should have installed it")
        pytest.skip(f"{name} is not installed")
    return found


def series_dir(case: Path, modality: str) -> Path:
    """The DICOM image folder of one sarcoma series (modality: CT, MR_T1, PET)."""
    return case / modality / "dicom" / "image"


@pytest.fixture
def sample_ct() -> Path:
    return series_dir(SAMPLE, "CT")


@pytest.fixture
def copy_series(tmp_path):
    """Copy a vendored series into tmp_path so a test may alter it without touching the repository."""

    def _copy(src: Path, name: str = "series") -> Path:
        dst = tmp_path / name
        shutil.copytree(src, dst)
        for p in dst.rglob("*"):
            p.chmod(0o644 if p.is_file() else 0o755)
        return dst

    return _copy
