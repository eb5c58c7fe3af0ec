#!/usr/bin/env bash
# The Python tools the tests drive for real, in .build/venv: alembic (+ psycopg2), the real
# aws CLI with a moto server to answer it on 127.0.0.1, and aiosmtpd (a STARTTLS + AUTH
# submission server for mail-service/prod), and jsonschema (every JSON output is checked
# against Sources/DeployKit/Output/Schemas).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/.build/venv
# Debian's python3 where it can make a venv (python3-venv, in make test's packages), whatever
# comes first on PATH: built with PGO and LTO, it runs an aws CLI call in 14 % fewer
# instructions than pyenv's build here (callgrind), and the aws CLI is a third of the suite's
# CPU. A venv made from another python3, or another version of it, is made again (anything
# added to it by hand goes with it).
python=python3
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  python=/usr/bin/python3
  version=$("$python" -c 'import platform; print(platform.python_version())')
  if [ -f "$venv/pyvenv.cfg" ] && ! { grep -qx 'home = /usr/bin' "$venv/pyvenv.cfg" && grep -qx "version = $version" "$venv/pyvenv.cfg"; }; then
    echo "test-venv: remaking $venv from /usr/bin/python3 $version"
    rm -rf "$venv"
  fi
fi
if [ ! -x "$venv/bin/alembic" ] || [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ] || [ ! -x "$venv/bin/aiosmtpd" ] \
   || [ ! -x "$venv/bin/jsonschema" ]; then
  mkdir -p "$root/.build"
  "$python" -m venv "$venv" 2>/dev/null || {
    echo "test-venv: $python -m venv failed; installing python3-venv"
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    "$python" -m venv "$venv"
  }
  echo "test-venv: installing alembic, psycopg2-binary, moto and its server, awscli, aiosmtpd, jsonschema"
  # moto with the extras of the services the tests and stacks call, and flask for its server:
  # moto[server] adds every service's (cfn-lint, sympy, networkx: ~150 MB), 74 -> 43 s here.
  "$venv/bin/pip" install -q --disable-pip-version-check alembic psycopg2-binary \
    'moto[s3,sqs,ses,sns,awslambda,logs,cloudwatch,dynamodb,budgets,sts,iam,cloudfront]==5.2.1' flask flask-cors \
    'awscli<2' aiosmtpd 'jsonschema>=4.18'
fi
