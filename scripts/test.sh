#!/usr/bin/env bash
# Set up ./.venv and run the whole test suite (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EXTRAS=docs bash scripts/setup_env.sh  # the docs build and the notebook are tests too
export SDL_VIDEODRIVER=dummy MPLBACKEND=Agg
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
