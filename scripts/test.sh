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
# Two workers (pytest-xdist), one test file at a time each: most tests wait on a launched app, a browser or a
# training subprocess, so two share CI's two cores well (16.8 min on one worker, 11.5 on two, here). Module-scoped
# fixtures (a launched app) stay within one worker with --dist loadfile. TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
