#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: bootstrap, then pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export FERRASYNC_TEST_PG=${FERRASYNC_TEST_PG:-postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres}

.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
