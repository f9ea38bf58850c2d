#!/usr/bin/env bash
# Create .venv with Python 3.11+ and install archiver into it (editable). Usage: setup.sh [EXTRA]
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
  done
fi
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "archiver needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || "$py" -m venv .venv
spec="."
[ -n "$extra" ] && spec=".[$extra]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
