#!/usr/bin/env bash
# Create (or refresh) the virtual environment .venv inside the repository and install MedSeg into it.
# Usage: packaging/setup-env.sh [--test] [--package]
#   --test     also installs the test tools and the system validators
#   --package  also installs PyInstaller (the [package] extra), which packaging/build-bundle.sh uses
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

with_tests=0
with_package=0
for arg in "$@"; do
    case "$arg" in
        --test) with_tests=1 ;;
        --package) with_package=1 ;;
        *) echo "setup-env: unknown option $arg (use --test, --package)" >&2; exit 2 ;;
    esac
done

# System packages the tests need: Qt's xcb libraries and Xvfb for GUI tests, DICOM validators and converters.
if [ "$with_tests" = 1 ]; then
    need=(xvfb xauth libgl1 libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
          libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libfontconfig1 libdbus-1-3
          dicom3tools libgdcm-tools dcmtk plastimatch imagemagick)
    missing=()
    for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "setup-env: installing system packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            echo "setup-env: please install these system packages (as root): ${missing[*]}" >&2
        fi
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=.venv/.medseg-installed
# The stamp holds the hash of the requirements and the extras installed with it ("HASH test,package"); an extra
# installed before stays in the stamp, so the test and the bundle commands do not undo each other's installs.
hash="$(cat pyproject.toml packaging/constraints.txt | sha256sum | cut -c1-16)"
wanted=()
[ "$with_tests" = 1 ] && wanted+=(test)
[ "$with_package" = 1 ] && wanted+=(package)
had=""
[ -f "$stamp" ] && read -r stamp_hash had < "$stamp" || stamp_hash=""
[ "$stamp_hash" = "$hash" ] || had=""
extras="$(printf '%s\n' ${had//,/ } "${wanted[@]}" | sed '/^$/d' | sort -u | paste -sd, -)"
if [ "$stamp_hash" != "$hash" ] || [ "$extras" != "$had" ]; then
    # torch is pinned by the constraints file to the tested CPU build; it goes first so nothing pulls a CUDA build.
    .venv/bin/python -m pip install -q -c packaging/constraints.txt torch
    .venv/bin/python -m pip install -q -c packaging/constraints.txt -e ".${extras:+[$extras]}"
    echo "$hash $extras" > "$stamp"
fi
