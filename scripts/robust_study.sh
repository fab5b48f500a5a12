#!/usr/bin/env bash
# The robust preset's Optuna study: WORKERS processes of `python -m sb3_cartdqn.zoo train -optimize` share one study in
# a database (RL Zoo's distributed optimisation), each trial scored on the study seeds by the multi-seed objective.
#
#   STORAGE=postgresql+psycopg2://postgres@127.0.0.1:5432/cartdqn_study bash scripts/robust_study.sh
#
# Settings (environment variables): STORAGE (required), STUDY (study name, default cartdqn-robust), TRIALS (total over
# all workers, default 100), BUDGET (env steps per seed, default 20000), WORKERS (default 2), OUT (log folder, default
# runs/study). Extra arguments go to every worker (e.g. -params learning_starts:500).
# Then: python examples/study_report.py --storage "$STORAGE" --study-name "$STUDY" --budget "$BUDGET" --out docs/study
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STORAGE:?set STORAGE to the study database URL}"
STUDY=${STUDY:-cartdqn-robust}
TRIALS=${TRIALS:-100}
BUDGET=${BUDGET:-20000}
WORKERS=${WORKERS:-2}
OUT=${OUT:-runs/study}
PYTHON=${PYTHON:-python}
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy MPLBACKEND=Agg

mkdir -p "$OUT"
# Create the study once before the workers start (two workers creating the schema at the same moment collide)
"$PYTHON" -c "import optuna, sys; optuna.create_study(study_name=sys.argv[1], storage=sys.argv[2], direction='maximize', load_if_exists=True)" "$STUDY" "$STORAGE"
started=$(date +%s)
pids=()
for worker in $(seq 1 "$WORKERS"); do
    # Each worker: its own sampler seed (--seed) and log folder; trials train on the study seeds 1000-1002
    "$PYTHON" -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1 --device cpu --verbose 1 -optimize \
        --storage "$STORAGE" --study-name "$STUDY" --max-total-trials "$TRIALS" -n "$BUDGET" \
        --trial-seeds 1000 1001 1002 --last-evaluations 2 --n-evaluations 4 --eval-episodes 10 \
        --sampler tpe --pruner median --n-startup-trials 10 --no-optim-plots \
        --seed "$worker" -f "$OUT/worker$worker" "$@" >"$OUT/worker$worker.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "study $STUDY: $WORKERS workers finished in $(( $(date +%s) - started )) s (logs in $OUT)"
