#!/usr/bin/env bash
# Builds the Rust addon and installs it as native/cis490.node (atomically:
# a half-copied .node must never be loadable). Idempotent: cargo is
# incremental, and the copy is redone only when the library changed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p cis490-node
src=target/release/libcis490_node.so
dst=native/cis490.node
mkdir -p native
if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
  exit 0
fi
tmp="$(mktemp --suffix=.node native/.cis490.XXXXXX)"  # *.node: git-ignored
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$dst"
trap - EXIT
echo "build-native: installed $dst"
