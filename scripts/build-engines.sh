#!/usr/bin/env bash
# Builds the model-engines addon (engines/: libtorch + libxgboost via
# node-addon-api) and installs it as native/engines.node, atomically (a
# half-copied .node must never be loadable). Idempotent: does nothing when
# native/engines.node is newer than every source. FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

dst=native/engines.node
# Which libtorch the installed addon was built against ("" = Debian's): a
# different LIBTORCH=/path (docs/scale.md) means a rebuild.
stamp=native/.engines-libtorch
sources=(engines/binding.gyp engines/src scripts/build-engines.sh scripts/torch-flags.sh)
if [ "${FORCE:-0}" != 1 ] && [ -f "$dst" ] && [ -z "$(find "${sources[@]}" -newer "$dst" -print -quit)" ] &&
  [ "$(cat "$stamp" 2>/dev/null || true)" = "${LIBTORCH:-}" ]; then
  exit 0
fi

torch_header=/usr/include/torch/csrc/api/include/torch/torch.h
if [ -n "${LIBTORCH:-}" ]; then
  torch_header="$LIBTORCH/include/torch/csrc/api/include/torch/torch.h"
  [ -f "$LIBTORCH/lib/libtorch.so" ] || { echo "build-engines: LIBTORCH=$LIBTORCH has no lib/libtorch.so (unpack a libtorch zip from pytorch.org there)" >&2; exit 1; }
fi
for f in "$torch_header" /usr/include/xgboost/c_api.h /usr/include/gloo/context.h; do
  [ -f "$f" ] || { echo "build-engines: $f missing; install libtorch-dev libxgboost-dev libgloo-dev (scripts/setup.sh), or point LIBTORCH at a libtorch distribution" >&2; exit 1; }
done
[ -d node_modules/node-addon-api ] || { echo "build-engines: node-addon-api missing; run npm ci" >&2; exit 1; }

# node-gyp needs Node's headers (include/node/common.gypi, node_api.h). The
# build machines cannot reach nodejs.org, so never let node-gyp download
# them: use the headers installed next to the node binary (Debian/NodeSource
# packages and the official tarballs ship them under <prefix>/include/node),
# else an existing node-gyp cache, else fail with a clear message.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
node_version="$(node -p process.version | sed 's/^v//')"
gyp_args=()
if [ -n "${NODEDIR:-}" ]; then
  gyp_args+=(--nodedir="$NODEDIR")
elif [ -f "$node_prefix/include/node/common.gypi" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  gyp_args+=(--nodedir="$node_prefix")
elif [ -f "${HOME:-/root}/.cache/node-gyp/$node_version/include/node/common.gypi" ]; then
  :  # node-gyp finds its own cache
else
  echo "build-engines: no Node $node_version headers found (looked in $node_prefix/include/node and ~/.cache/node-gyp);" >&2
  echo "  install the headers for this node (they ship with Debian/NodeSource nodejs) or set NODEDIR=<prefix>" >&2
  exit 1
fi

# The local node-gyp (devDependency), else the one bundled with npm.
gyp="$PWD/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$gyp" ]; then
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
fi

echo "build-engines: compiling engines/ (libtorch headers are heavy: ~1-2 min)"
(cd engines && node "$gyp" rebuild --jobs max "${gyp_args[@]}" --loglevel=warn)

mkdir -p native
tmp="$(mktemp --suffix=.node native/.engines.XXXXXX)"  # *.node: git-ignored
trap 'rm -f "$tmp"' EXIT
cp engines/build/Release/engines.node "$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$dst"
trap - EXIT
printf '%s' "${LIBTORCH:-}" > "$stamp"
echo "build-engines: installed $dst"
