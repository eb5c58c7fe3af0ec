#!/usr/bin/env python3
"""Runs a libpq program (pg_dump, pg_restore, psql) against $DATABASE_URL without the URL, and
so the password, standing in any process's argv (every user of the machine reads argv in `ps`).

The URL is split into the environment libpq reads (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE, and PGSSLMODE & co. from its query), DATABASE_URL is removed, and PROGRAM replaces
this process. libpq would not expand a URL given in PGDATABASE, hence the split.

Usage: DATABASE_URL=postgres://user:password@host:port/db?sslmode=require pg-env.py PROGRAM [ARGS...]
"""
import os
import sys
import urllib.parse

# libpq's URI query parameters and the variables that carry them.
PARAMETERS = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME",
    "options": "PGOPTIONS", "target_session_attrs": "PGTARGETSESSIONATTRS", "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
}


def fail(message):
    print(f"pg-env.py: {message}", file=sys.stderr)
    sys.exit(2)


if len(sys.argv) < 2:
    fail("usage: pg-env.py PROGRAM [ARGS...] (with DATABASE_URL in the environment)")
url = os.environ.get("DATABASE_URL", "")
if not url:
    fail("DATABASE_URL is not set (give the step env: {DATABASE_URL: ${secrets.DATABASE_URL}})")
parts = urllib.parse.urlsplit(url)
if parts.scheme not in ("postgres", "postgresql"):
    fail(f"DATABASE_URL must be a postgres:// or postgresql:// URL, not {parts.scheme or 'no scheme'}://")

env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
fields = {
    "PGHOST": parts.hostname,
    "PGPORT": str(parts.port) if parts.port else None,
    "PGUSER": urllib.parse.unquote(parts.username) if parts.username else None,
    "PGPASSWORD": urllib.parse.unquote(parts.password) if parts.password is not None else None,
    "PGDATABASE": urllib.parse.unquote(parts.path.lstrip("/")) or None,
}
env.update({name: value for name, value in fields.items() if value})
for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
    if key not in PARAMETERS:
        fail(f"DATABASE_URL has the parameter '{key}', which this helper does not map to libpq's environment")
    env[PARAMETERS[key]] = value
try:
    os.execvpe(sys.argv[1], sys.argv[1:], env)
except OSError as error:
    fail(f"cannot run {sys.argv[1]}: {error.strerror}")
