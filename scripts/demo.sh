#!/usr/bin/env bash
# Quick start, command 1: set up, serve the bundled sample thread on 127.0.0.1, archive it,
# write its text dump and its HTML mirror and print where: all in ./archive-demo, the demo's own
# data folder (your archive in ./archive or ARCHIVER_DATA_DIR is never touched).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/archiver demo "$@"
