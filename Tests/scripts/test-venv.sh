#!/usr/bin/env bash
# The Python tools the tests drive for real: alembic (+ psycopg2), in .build/venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/.build/venv
if [ ! -x "$venv/bin/alembic" ]; then
  mkdir -p "$root/.build"
  python3 -m venv "$venv" 2>/dev/null || {
    echo "test-venv: python3 -m venv failed; installing python3-venv"
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$venv"
  }
  echo "test-venv: installing alembic and psycopg2-binary"
  "$venv/bin/pip" install -q --disable-pip-version-check alembic psycopg2-binary
fi
