#!/usr/bin/env bash
# Refresh requirements/lock.txt: resolve pyproject.toml's dependencies (and the dev extra) to the newest releases
# inside their ranges and inside requirements/pins.txt, for the running Python on this platform (Linux x86-64,
# CPython 3.11 is what the committed lock was made on). Needs pip-tools (in the dev extra).
# After a refresh: reinstall from the lock, run pytest, rerun `dvc repro` from an empty cache and commit the lock
# together with the reports and dvc.lock files it produces.
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOM_COMPILE_COMMAND="bash requirements/refresh.sh" exec python3 -m piptools compile --upgrade --quiet \
  --constraint requirements/pins.txt --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
  --output-file requirements/lock.txt pyproject.toml "$@"
