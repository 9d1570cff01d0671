#!/usr/bin/env bash
# Set everything up (venv, test tools, system validators) and run the whole test suite.
# Widget tests use Qt's offscreen platform; tests of real windows and VTK rendering need an X server,
# so without a display the suite runs inside a virtual one (Xvfb, Mesa's software OpenGL).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash packaging/setup-env.sh --test --package  # --package: PyInstaller, for tests/test_bundle.py
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
    exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest "$@"
