#!/usr/bin/env bash
# Build the MedSeg desktop bundle: dist/MedSeg/ (the MedSeg executable, its libraries, the models and the sample
# study in one folder; copy the folder anywhere and run dist/MedSeg/MedSeg, or ./install.sh inside it for the menu).
# Sets up .venv with the [package] extra (PyInstaller, see packaging/constraints.txt), then runs
# packaging/medseg.spec. Takes about 10 minutes on two cores; needs PyPI for the first setup only.
#
# Usage: packaging/build-bundle.sh [--distpath DIR] [--workpath DIR] [other PyInstaller options, e.g. --clean]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash packaging/setup-env.sh --package

dist="$repo/dist"
work="$repo/build/pyinstaller"
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --distpath) dist="$2"; shift 2 ;;
        --workpath) work="$2"; shift 2 ;;
        *) extra+=("$1"); shift ;;
    esac
done

start=$(date +%s)
.venv/bin/python -m PyInstaller --noconfirm --log-level WARN --distpath "$dist" --workpath "$work" \
    ${extra[@]+"${extra[@]}"} packaging/medseg.spec
case "$(uname -s)" in
    Darwin) out="$dist/MedSeg.app" ;;
    *) out="$dist/MedSeg" ;;
esac
echo "build-bundle: $out ($(du -sh "$out" | cut -f1)) built in $(( $(date +%s) - start )) s"
