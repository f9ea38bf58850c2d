#!/usr/bin/env bash
# Quick start, command 2: set up (Python packages, and as root the Debian packages the tests
# use: chromium, postgresql), then run ruff, mypy and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v wget >/dev/null 2>&1 || need+=(wget)
updated=""
install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: $*"
    [ -n "$updated" ] || { apt-get update -qq >/dev/null; updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "warning: missing $* (install them to run every test)" >&2
  fi
}
if [ "${#need[@]}" -gt 0 ]; then install "${need[@]}"; fi
# the RUM extension of the server the tests start (tests/pgserver.py: the newest major): search's
# best-first path on PostgreSQL (migration 0009_search_rum); its tests also cover the path without
pg_major=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort | tail -n 1 | cut -d/ -f5)
if [ -n "$pg_major" ] && [ ! -e "/usr/share/postgresql/$pg_major/extension/rum.control" ]; then
  install "postgresql-$pg_major-rum"
fi
# pywb (the replay tool people use) in its own environment: the replay tests run it over our
# exports; its dependencies (gevent, pinned libraries) stay out of archiver's
if [ ! -x .venv-pywb/bin/pywb ]; then
  "$(.venv/bin/python -c 'import sys; print(sys._base_executable)')" -m venv .venv-pywb
  .venv-pywb/bin/python -m pip install --quiet --disable-pip-version-check "pywb>=2.8,<3"
fi
.venv/bin/ruff check .
.venv/bin/mypy  # strict on the adapters, the engine, importing, search, web ([tool.mypy] in pyproject.toml)
# the suite on as many processes as CPUs (at most 4): most tests wait on servers and processes
exec .venv/bin/pytest -n auto --maxprocesses 4 "$@"
