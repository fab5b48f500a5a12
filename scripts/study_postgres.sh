#!/usr/bin/env bash
# Starts (creating it the first time) a PostgreSQL cluster of its own for a study, on 127.0.0.1, and creates the
# study's database in it. The server programs come from scripts/install_postgres.sh (Debian's `postgresql`); as root,
# the server runs as the `postgres` user the package creates (it refuses to run as root).
#
#   PGSTUDY=/work/pgstudy PORT=5433 DATABASE=cartdqn_fast_study bash scripts/study_postgres.sh
#   # -> STORAGE=postgresql+psycopg2://postgres@127.0.0.1:5433/cartdqn_fast_study
#   PGSTUDY=/work/pgstudy bash scripts/study_postgres.sh stop
set -euo pipefail
PGSTUDY=${PGSTUDY:-/work/pgstudy}
PORT=${PORT:-5433}
DATABASE=${DATABASE:-cartdqn_fast_study}
bin=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")
as_user=()
if [ "$(id -u)" -eq 0 ]; then as_user=(runuser -u postgres --); fi
export LC_ALL=C
if [ "${1:-start}" = stop ]; then
    "${as_user[@]}" "$bin/pg_ctl" -D "$PGSTUDY/data" -m fast -w stop
    exit 0
fi
if [ ! -f "$PGSTUDY/data/PG_VERSION" ]; then
    mkdir -p "$PGSTUDY/data"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PGSTUDY"
    "${as_user[@]}" "$bin/initdb" -D "$PGSTUDY/data" -U postgres -A trust -E UTF8 > "$PGSTUDY/initdb.log"
fi
if ! "${as_user[@]}" "$bin/pg_ctl" -D "$PGSTUDY/data" status > /dev/null 2>&1; then
    "${as_user[@]}" "$bin/pg_ctl" -D "$PGSTUDY/data" -o "-h 127.0.0.1 -p $PORT -k $PGSTUDY/data" \
        -l "$PGSTUDY/server.log" -w -t 60 start
fi
if ! "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DATABASE'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DATABASE"
fi
echo "STORAGE=postgresql+psycopg2://postgres@127.0.0.1:$PORT/$DATABASE"
