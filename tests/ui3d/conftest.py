"""An X display for the VTK rendering tests, which run their widgets in a subprocess (view_probe.py).

A display is used as found; without one an Xvfb server is started for the session. Locally the tests are
skipped when neither exists; in CI (CI=true) they must run, so a missing display fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # Xvfb writes its display number once it accepts connections
    if not number:
        server.kill()
        raise RuntimeError("Xvfb did not start")
    return server, f":{number}"


@pytest.fixture(scope="session")
def x_display():
    """The DISPLAY value for subprocesses that open real (xcb) windows."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        if IN_CI:
            pytest.fail("no DISPLAY and no Xvfb: CI must run the tests under xvfb-run or install Xvfb")
        pytest.skip("no X display and no Xvfb")
    server, display = _start_xvfb()
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)
