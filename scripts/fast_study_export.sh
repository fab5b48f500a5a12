#!/usr/bin/env bash
# While scripts/fast_study.sh runs: every INTERVAL seconds (default 1200), write the study's report to docs/fast_study
# (examples/study_report.py --sampler fast: trials.csv, summary.md, best.yml, importances.json, history.png) and commit
# that folder alone, so that the trials survive the loss of the machine (scripts/restore_study.py --sampler fast
# re-creates the study from trials.csv). Stops when the workers have stopped (no process with `--study-name $STUDY`
# left) after one last export, or after ROUNDS rounds (default: no limit). STUDY (default cartdqn-fast) and DOCS
# (default docs/fast_study) name the study and its report folder.
#
#   STORAGE=postgresql+psycopg2://postgres@127.0.0.1:5433/cartdqn_fast_study \
#       setsid nohup bash scripts/fast_study_export.sh > runs/fast_study/export.log 2>&1 < /dev/null &
set -uo pipefail
cd "$(dirname "$0")/.."
: "${STORAGE:?set STORAGE to the study database URL}"
STUDY=${STUDY:-cartdqn-fast}
INTERVAL=${INTERVAL:-1200}
ROUNDS=${ROUNDS:-0}
DOCS=${DOCS:-docs/fast_study}
PYTHON=${PYTHON:-python}
export MPLBACKEND=Agg OMP_NUM_THREADS=1
# examples/study_report.py imports this checkout's package, not an installed one
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

export_and_commit() {
    # trials.csv is written first: it is committed even when the rest of the report cannot be made yet (no complete
    # trial)
    nice -n 10 "$PYTHON" examples/study_report.py --storage "$STORAGE" --study-name "$STUDY" --sampler fast \
        --out "$DOCS" > /dev/null || echo "$(date -u +%FT%TZ) report incomplete (no complete trial yet?)"
    counts=$("$PYTHON" -c "import pandas, sys; print(pandas.read_csv(sys.argv[1]).state.value_counts().to_dict())" \
        "$DOCS/trials.csv")
    git add "$DOCS"
    if git commit -q -m "Fast study $STUDY so far, $(date -u +%H:%MZ): trials $counts (scripts/fast_study_export.sh)" \
        -- "$DOCS"; then
        echo "$(date -u +%FT%TZ) committed: $counts"
    else
        echo "$(date -u +%FT%TZ) nothing to commit or commit failed"
    fi
}

round=0
while :; do
    sleep "$INTERVAL"
    round=$((round + 1))
    export_and_commit
    if ! pgrep -f -- "--study-name $STUDY " > /dev/null; then echo "workers gone: stop"; break; fi
    if [ "$ROUNDS" -gt 0 ] && [ "$round" -ge "$ROUNDS" ]; then break; fi
done
