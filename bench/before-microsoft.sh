#!/usr/bin/env bash
# Produces bench/results-microsoft-before.json: the Microsoft 365 backend bench (bench/microsoft.ts) on
# the backend as it was at REF (default 5ef25a3, before the warm pool and the Graph batching): one pwsh
# per cmdlet, one Graph request per read. Builds in a temporary copy; touches nothing else.
#   bash bench/before-microsoft.sh [REF] [--quick]
# The copy takes src/backends/microsoft from REF but keeps today's powershell/script.ts, whose one-shot
# SCRIPT speaks the same stdin protocol: the fake pwsh (test/fakes/pwsh.js) reads the script it is
# handed, and the fakes of today model the costs. Only the code that decides how often pwsh starts and
# how many requests go to Graph is the old one.
set -euo pipefail
REF="${1:-5ef25a3}"
QUICK="${2:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/switchboard-bench-ms-before-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/src" "$ROOT/cards" "$ROOT/bench" "$ROOT/tsconfig.json" "$TMP/"
mkdir -p "$TMP/test" && cp -r "$ROOT/test/helpers" "$ROOT/test/fakes" "$TMP/test/"
ln -s "$ROOT/node_modules" "$TMP/node_modules"
rm -rf "$TMP/src/backends/microsoft"
mkdir -p "$TMP/src/backends/microsoft"
git -C "$ROOT" archive "$REF" src/backends/microsoft | tar -x -C "$TMP"
cp "$ROOT/src/backends/microsoft/powershell/script.ts" "$TMP/src/backends/microsoft/powershell/script.ts"
cd "$TMP"
npx tsc -p bench/tsconfig.json --outDir "$TMP/build" --tsBuildInfoFile "$TMP/build/.tsbuildinfo"
BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD) with src/backends/microsoft of $REF" \
  node --disable-warning=DEP0111 build/bench/microsoft.js --before $QUICK
cp "$TMP/bench/results-microsoft-before.json" "$ROOT/bench/results-microsoft-before.json"
echo "bench/results-microsoft-before.json written (src/backends/microsoft from $REF)"
