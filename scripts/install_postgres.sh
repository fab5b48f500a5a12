#!/usr/bin/env bash
# Installs Debian's PostgreSQL server programs (initdb, pg_ctl) for the distributed-optimisation test
# (tests/test_zoo_postgres.py starts its own server on 127.0.0.1 with them). Does nothing when they are there.
# Exits 0 when the programs are there afterwards; else (no root/apt-get, no network) non-zero, and the test skips.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || command -v initdb > /dev/null; then
  echo "PostgreSQL server programs found"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get > /dev/null; then
  echo "PostgreSQL is not installed and this is not a root shell with apt-get: install the 'postgresql' package," \
    "or set CARTDQN_TEST_POSTGRES_URL to an empty database, to run the PostgreSQL test"
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql > /dev/null
echo "Installed: $(compgen -G '/usr/lib/postgresql/*/bin/initdb')"
