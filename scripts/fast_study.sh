#!/usr/bin/env bash
# The fast preset's Optuna study (issue 22): WORKERS processes of `python -m sb3_cartdqn.zoo train -optimize` share
# one study in PostgreSQL, each trial scored by the time to a sustained solve on the study seeds 2000-2002
# (--objective sustained-seconds, sb3_cartdqn/zoo/sustained_solve.py; search space sb3_cartdqn/zoo/fast_sampler.py).
#
#   bash scripts/study_postgres.sh          # own cluster: 127.0.0.1:5433, database cartdqn_fast_study
#   STORAGE=postgresql+psycopg2://postgres@127.0.0.1:5433/cartdqn_fast_study \
#       setsid nohup bash scripts/fast_study.sh > runs/fast_study/study.log 2>&1 < /dev/null &
#
# Settings (environment variables): STORAGE (required), STUDY (default cartdqn-fast), TRIALS (total over all workers,
# default 100), WORKERS (default 2), OUT (log folder, default runs/fast_study), NICE (default 10), SEED_BASE (worker
# k's sampler seed is SEED_BASE + k, default 0: give a later run of the same study another one), OBJECTIVE
# (sustained-seconds, the default: timed to the first 475; settled-seconds: to the run of 475s that holds from the
# budget on; see sb3_cartdqn/zoo/sustained_solve.py). The settled study:
#   STUDY=cartdqn-fast-settled OBJECTIVE=settled-seconds OUT=runs/fast_study_settled STORAGE=... bash scripts/fast_study.sh
# Extra arguments go to every worker. Stop cleanly: `touch $OUT/STOP` (each worker returns after its current trial).
# Resume: run it again with the same STUDY (TPE continues from the stored trials; after losing the database, first
# python scripts/restore_study.py docs/fast_study/trials.csv --sampler fast --storage "$STORAGE" --study-name "$STUDY").
# Then: python examples/study_report.py --storage "$STORAGE" --study-name "$STUDY" --sampler fast --out docs/fast_study
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STORAGE:?set STORAGE to the study database URL}"
STUDY=${STUDY:-cartdqn-fast}
TRIALS=${TRIALS:-100}
WORKERS=${WORKERS:-2}
OUT=${OUT:-runs/fast_study}
NICE=${NICE:-10}
SEED_BASE=${SEED_BASE:-0}
OBJECTIVE=${OBJECTIVE:-sustained-seconds}
PYTHON=${PYTHON:-python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 SDL_VIDEODRIVER=dummy MPLBACKEND=Agg
mkdir -p "$OUT"
export CARTDQN_STUDY_STOP_FILE="$(cd "$OUT" && pwd)/STOP"
rm -f "$CARTDQN_STUDY_STOP_FILE"
# Create the study once before the workers start (two workers creating the schema at the same moment collide)
"$PYTHON" -c "import optuna, sys; optuna.create_study(study_name=sys.argv[1], storage=sys.argv[2], direction='maximize', load_if_exists=True)" "$STUDY" "$STORAGE"
started=$(date +%s)
echo "study $STUDY: $WORKERS workers started $(date -u +%FT%TZ)"
pids=()
for worker in $(seq 1 "$WORKERS"); do
    # Each worker: its own sampler seed (--seed) and log folder. 10 greedy episodes per evaluation, in 10 envs at
    # once; --n-evaluations 12: the median pruner's warm-up, 12 // 3 = 4 steps of 0.5 CPU s (sustained_solve.py)
    nice -n "$NICE" "$PYTHON" -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1 --device cpu --verbose 1 \
        -optimize --objective "$OBJECTIVE" --trial-seeds 2000 2001 2002 \
        --storage "$STORAGE" --study-name "$STUDY" --max-total-trials "$TRIALS" \
        --eval-episodes 10 --n-eval-envs 10 --n-evaluations 12 \
        --sampler tpe --pruner median --n-startup-trials 10 --no-optim-plots --num-threads 1 \
        --seed "$((SEED_BASE + worker))" -f "$OUT/worker$worker" "$@" >"$OUT/worker$worker.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "worker $pid exited with $?"; done
echo "study $STUDY: $WORKERS workers finished $(date -u +%FT%TZ) after $(( $(date +%s) - started )) s (logs in $OUT)"
