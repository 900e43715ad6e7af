#!/usr/bin/env bash
# Sets up a fresh machine and runs every test suite: venv, pinned packages, Debian's chromium for browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements-dev.txt
.venv/bin/python -m pip install -q --no-deps -e .   # the project itself: bench/ and scripts/ import it as installed
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
fi
.venv/bin/ruff check .   # lint first (pyproject.toml: pyflakes, import order, complexity): a lint error fails the run
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
