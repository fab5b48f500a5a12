#!/usr/bin/env bash
# The main job: set up ./.venv, train CartDQN (the tutorial's settings) on CartPole-v1 with a progress bar,
# evaluate it, and save the model and the episode-durations plot under runs/tutorial/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup_env.sh
export SDL_VIDEODRIVER=dummy MPLBACKEND=Agg
exec .venv/bin/python -m sb3_cartdqn.main "$@"
