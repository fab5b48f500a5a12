#!/usr/bin/env bash
# The main job: set up ./.venv, train CartDQN (the tutorial's settings) on CartPole-v1 with a progress bar,
# evaluate it, and save the model and the episode-durations plot under runs/tutorial/.
#   bash scripts/main.sh --preset robust   # the robust preset's settings and budget (runs/robust/)
#   bash scripts/main.sh --preset fast     # the fast preset's (runs/fast/)
#   bash scripts/main.sh --seeds 0-9       # ten seeds in one process, batched (runs/tutorial-seeds/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup_env.sh
export SDL_VIDEODRIVER=dummy MPLBACKEND=Agg
exec .venv/bin/python -m sb3_cartdqn.main "$@"
