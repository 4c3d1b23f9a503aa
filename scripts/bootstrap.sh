#!/usr/bin/env bash
# Installs and starts everything FerraSync's tests and demo need on a fresh Debian 12 machine
# (as root), then creates .venv with the frozen build's locked packages (requirements-frozen.txt) and the
# package with its dev extra. Safe to run again: each
# step checks first and does nothing when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  unixodbc odbc-postgresql postgresql php-cli nodejs npm
  nsis p7zip-full
  xvfb trayer xdotool x11-utils imagemagick
  libxkbcommon0 libxkbcommon-x11-0 libxcb1 libx11-6 libx11-xcb1 libxcb-cursor0 libxcb-icccm4
  libxcb-keysyms1 libxcb-image0 libxcb-render0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
  libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxcb-util1 libxcb-glx0 libegl1 libgl1
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  # node and npm may come from outside Debian's packages (nodesource, the image itself)
  case "$pkg" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: a running cluster on 127.0.0.1:5432 and a test role that may create databases.
pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$pg_version main" || pg_createcluster "$pg_version" main >/dev/null
pg_lsclusters -h | grep -q "^$pg_version main .* online" || pg_ctlcluster "$pg_version" main start
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "bootstrap: PostgreSQL did not start"; exit 1; }
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ferrasync') THEN
    CREATE ROLE ferrasync LOGIN PASSWORD 'ferrasync' CREATEDB;
  END IF;
END $$;
SQL

# The virtualenv, reinstalled only when pyproject.toml or the lock changed. The lock first, so the frozen
# build (build.spec checks it) and the tests run on exactly the versions the office PC gets.
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.ferrasync-installed
want=$(cat pyproject.toml requirements-frozen.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r requirements-frozen.txt
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# pusher-js for the conformance tests (tests/conformance/js), reinstalled only when its lock file changed.
js=tests/conformance/js
js_want=$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$js/node_modules/.ferrasync-installed" 2>/dev/null)" != "$js_want" ]; then
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$js_want" > "$js/node_modules/.ferrasync-installed"
fi
echo "bootstrap: ready (PostgreSQL $pg_version on 127.0.0.1:5432, .venv with requirements-frozen.txt and ferrasync[dev])"
