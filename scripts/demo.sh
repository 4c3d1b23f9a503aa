#!/usr/bin/env bash
# The demo on a fresh machine: a virtualenv with FerraSync, then `ferrasync demo` (headless for now).
# It needs only Python 3.11+: the demo FerraWin is SQLite and everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -c "import sync.devstack.demo" 2>/dev/null || .venv/bin/python -m pip install -q -e .
exec .venv/bin/ferrasync demo "$@"
