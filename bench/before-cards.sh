#!/usr/bin/env bash
# Produces bench/results-cards-before.json: this benchmark (today's bench/) on src/ and cards/ as they
# were at REF (default 297fb9c, main before issue 13 part 3, "cards at the SDK floor"). Builds in a
# temporary copy; touches nothing else.
#   bash bench/before-cards.sh [REF]
set -euo pipefail
REF="${1:-297fb9c}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/switchboard-bench-cards-before-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/bench" "$ROOT/tsconfig.json" "$TMP/"
mkdir -p "$TMP/test" && cp -r "$ROOT/test/helpers" "$TMP/test/"
# The fakes (bench/microsoft.ts compiles against them) as of REF: today's use fields of today's src/.
git -C "$ROOT" archive "$REF" src cards test/fakes | tar -x -C "$TMP"
ln -s "$ROOT/node_modules" "$TMP/node_modules"
cd "$TMP"
npx tsc -p bench/tsconfig.json --outDir "$TMP/build" --tsBuildInfoFile "$TMP/build/.tsbuildinfo"
BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)'s bench on src/ and cards/ of $REF" \
  node --disable-warning=DEP0111 build/bench/run.js --cards-before --no-microsoft
cp "$TMP/bench/results-cards-before.json" "$ROOT/bench/results-cards-before.json"
echo "bench/results-cards-before.json written (src/ and cards/ from $REF)"
