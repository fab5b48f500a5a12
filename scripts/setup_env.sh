#!/usr/bin/env bash
# Creates ./.venv (once) and installs sb3-cartdqn with its test dependencies into it.
# The CPU build of torch is installed first, so that the torch requirement does not pull a multi-GB CUDA build;
# EXTRAS=docs adds the documentation tools. Set TORCH_SPEC (e.g. TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu124") to override.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# shellcheck disable=SC2086
python -m pip install -q ${TORCH_SPEC:-torch==2.13.0} 2>&1 | grep -v "^WARNING: Location" || true
# A regular (not editable) install: setuptools warns on every editable install. Commands run from this folder
# (python -m ..., pytest) import the working tree first; scripts/test.sh runs this script, so tests see every edit.
python -m pip install -q ".[tests${EXTRAS:+,$EXTRAS}]" 2>&1 | grep -v "^WARNING: Location" || true
python -c "import torch, stable_baselines3, sb3_contrib, rl_zoo3, sb3_cartdqn; print('torch', torch.__version__, '| sb3', stable_baselines3.__version__, '| sb3_cartdqn', sb3_cartdqn.__version__)"
