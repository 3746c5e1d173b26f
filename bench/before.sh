#!/usr/bin/env bash
# Produces bench/results-before.json: the same benchmark, on the current code with the storage files
# (src/store/{jsonFile,audit}.ts, src/backends/simulated/{queries,tenant}.ts) as they were at
# REF (default 33488a1, before the storage work). Builds in a temporary copy; touches nothing else.
#   bash bench/before.sh [REF]
set -euo pipefail
REF="${1:-33488a1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/switchboard-bench-before-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/src" "$ROOT/cards" "$ROOT/bench" "$ROOT/tsconfig.json" "$TMP/"
mkdir -p "$TMP/test" && cp -r "$ROOT/test/helpers" "$TMP/test/"
ln -s "$ROOT/node_modules" "$TMP/node_modules"
for f in src/store/jsonFile.ts src/store/audit.ts src/backends/simulated/queries.ts src/backends/simulated/tenant.ts; do
  git -C "$ROOT" show "$REF:$f" > "$TMP/$f"
done
cd "$TMP"
npx tsc -p bench/tsconfig.json --outDir "$TMP/build" --tsBuildInfoFile "$TMP/build/.tsbuildinfo"
BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD) with the storage files of $REF" \
  node --disable-warning=DEP0111 build/bench/run.js --before
cp "$TMP/bench/results-before.json" "$ROOT/bench/results-before.json"
echo "bench/results-before.json written (storage files from $REF)"
