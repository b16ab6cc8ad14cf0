#!/usr/bin/env bash
# Benchmark (not a test): wall time of a full `dvc repro` from an empty cache, then of a no-op `dvc repro`.
# Runs in a temporary clone of the current commit so the working copy is untouched.
#   bash bench/bench_repro.sh
set -euo pipefail
src=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$src" "$tmp/repo"
cd "$tmp/repo"
t0=$(date +%s.%N)
dvc repro -q
t1=$(date +%s.%N)
dvc repro -q
t2=$(date +%s.%N)
dvc status -q && echo "pipeline up to date"
python3 - "$t0" "$t1" "$t2" <<'PY'
import json, sys
t0, t1, t2 = map(float, sys.argv[1:])
print(json.dumps({"full_repro_s": round(t1 - t0, 1), "noop_repro_s": round(t2 - t1, 2)}))
PY
