#!/usr/bin/env bash
# Creates ./.venv (once) and installs sb3-cartdqn with its test dependencies into it.
# The CPU build of torch is installed first (from PyTorch's CPU wheel index, falling back to the default index), so
# that the torch requirement does not pull a multi-GB CUDA build; the script says which build it installed.
# EXTRAS=docs adds the documentation tools. Set TORCH_SPEC (pip arguments, e.g.
# TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu124") for another build.
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
# torch first, so that the package's torch requirement finds it installed. Default: the CPU build from PyTorch's CPU
# wheel index; where that index cannot be reached, the default index (whose torch is the CPU build only on machines
# whose pip is pointed at one, as here). TORCH_SPEC (pip arguments) replaces both.
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
if [ -n "${TORCH_SPEC:-}" ]; then
  echo "setup: torch from TORCH_SPEC=$TORCH_SPEC"
  # shellcheck disable=SC2086
  python -m pip install -q $TORCH_SPEC 2>&1 | grep -v "^WARNING: Location" || true
elif python -m pip install -q --timeout 20 --retries 1 --index-url "$TORCH_CPU_INDEX" "torch==$TORCH_VERSION" \
    2>/tmp/cartdqn_torch_cpu_index.log; then
  echo "setup: torch==$TORCH_VERSION from PyTorch's CPU wheel index ($TORCH_CPU_INDEX)"
else
  echo "setup: PyTorch's CPU wheel index could not be reached (see /tmp/cartdqn_torch_cpu_index.log);" \
    "installing torch==$TORCH_VERSION from the default index"
  python -m pip install -q "torch==$TORCH_VERSION" 2>&1 | grep -v "^WARNING: Location" || true
fi
python -W ignore -c "import torch; print('setup: installed torch', torch.__version__, '-', 'CUDA build (CUDA ' + torch.version.cuda + ')' if torch.version.cuda else 'CPU build')"
# A regular (not editable) install: setuptools warns on every editable install. Commands run from this folder
# (python -m ..., pytest) import the working tree first; scripts/test.sh runs this script, so tests see every edit.
python -m pip install -q ".[tests${EXTRAS:+,$EXTRAS}]" 2>&1 | grep -v "^WARNING: Location" || true
python -c "import torch, stable_baselines3, sb3_contrib, rl_zoo3, sb3_cartdqn; print('torch', torch.__version__, '| sb3', stable_baselines3.__version__, '| sb3_cartdqn', sb3_cartdqn.__version__)"
