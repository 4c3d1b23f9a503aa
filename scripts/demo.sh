#!/usr/bin/env bash
# The README's first command: FerraSync working end to end on 127.0.0.1, nothing to configure.
# Needs only Python 3.11+ (no system packages): it creates a virtualenv with FerraSync the first time,
# then runs `ferrasync demo` (windows where there is a display, the terminal otherwise; --headless forces
# the terminal). Extra arguments go to `ferrasync demo` (see `ferrasync demo --help`).
# FERRASYNC_VENV picks another virtualenv (default .venv); PYTHON another interpreter to create it.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=${FERRASYNC_VENV:-.venv}
bin="$venv/bin"
[ -d "$venv/Scripts" ] && bin="$venv/Scripts"  # a Windows virtualenv (Git Bash)

if [ ! -x "$bin/python" ] && [ ! -x "$bin/python.exe" ]; then
  command -v "$python" >/dev/null || { echo "demo: $python not found; install Python 3.11 or newer" >&2; exit 1; }
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "demo: $("$python" --version 2>&1) is too old; FerraSync needs Python 3.11 or newer" >&2; exit 1; }
  echo "demo: creating the virtualenv $venv"
  "$python" -m venv "$venv" || {
    echo "demo: could not create a virtualenv. On Debian/Ubuntu the venv module is a separate package" \
         "(python3-venv); or run with PYTHON=/path/to/another/python3" >&2
    exit 1
  }
  [ -d "$venv/Scripts" ] && bin="$venv/Scripts"
fi
if ! "$bin/python" -c 'import importlib.metadata as m; m.version("ferrasync"); import aiohttp, sync.devstack.demo, agent.cli' \
     2>/dev/null; then
  echo "demo: installing FerraSync into $venv (the first time takes a minute or two)"
  "$bin/python" -m pip install -q --disable-pip-version-check -e '.[devstack]'
fi
exec "$bin/python" -m sync.cli demo "$@"
