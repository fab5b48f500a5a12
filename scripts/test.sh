#!/usr/bin/env bash
# Set up ./.venv and run the whole test suite (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup_env.sh
export SDL_VIDEODRIVER=dummy MPLBACKEND=Agg
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
