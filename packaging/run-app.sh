#!/usr/bin/env bash
# Set everything up and open MedSeg on its bundled sample study (or on the path given).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash packaging/setup-env.sh
exec .venv/bin/medseg "$@"
