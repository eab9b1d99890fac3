#!/usr/bin/env bash
# Installs everything cis490 needs on a fresh Debian machine with Node 20 and Rust.
# Idempotent: every step checks before it acts, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtorch-dev's BLAS dependency is met by Debian's reference (netlib)
# libblas3, and libtorch then runs every GEMM on it: the GRU trains ~6x
# slower. Install an optimised build and select it. The OpenMP build of
# OpenBLAS shares libtorch's and XGBoost's OpenMP runtime instead of adding
# a pthread pool of its own (measured on 2 cores: docs/machine.md).
# `cis490 doctor` checks what the engines really load.
BLAS_FLAVOUR=openblas-openmp
BLAS_PACKAGE=libopenblas0-openmp

# System packages. Rust crates come from Debian (see .cargo/config.toml): the
# build machines reach only apt and the npm registry.
APT_PACKAGES=(
  pkg-config libzstd-dev
  librust-zstd-dev librust-tar-dev librust-serde-json-dev librust-serde-dev
  librust-serde-derive-dev librust-sha2-dev librust-rayon-dev librust-memchr-dev
  librust-libc-dev librust-proptest-dev librust-quick-error-dev
  libtorch-dev libxgboost-dev  # model engines (engines/, scripts/build-engines.sh); ~920 MB installed
  libgloo-dev                  # headers of c10d's ProcessGroupGloo (engines/src/distributed.cc)
  "$BLAS_PACKAGE"              # optimised BLAS/LAPACK for libtorch (selected below)
  chromium                     # the evaluation report's browser test (playwright-core drives it)
  python3-onnx                 # onnx.checker as a second reader of exported models (tests only)
  python3-xgboost              # benchmark column only (bench/plain_xgb.py); the toolkit never runs Python
  python3-sklearn              # benchmark column only (bench/eif_sklearn.py; fixtures/make_sklearn_*.py)
)
# For the tests only: numpy reads our .npz tensor shards back (tests/npz.test.ts,
# tests/features-run.test.ts). The toolkit itself never runs Python.
TEST_APT_PACKAGES=(python3-numpy)

SUDO=""
need_root() {
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to $1" >&2; exit 1; }
    SUDO="sudo"
  fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}" "${TEST_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  need_root "install: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Select the optimised build through the alternatives system, in manual mode
# so that a later package cannot switch it behind our back (Debian gives
# OpenBLAS's pthread build priority 100, the OpenMP build 95: installing the
# former would otherwise win). Checked on every run: the package being
# installed is not enough, the link must point at it. libopenblas.so.0 as
# well as libblas/liblapack: those two are thin fronts that find the code
# through RUNPATH $ORIGIN, and glibc takes $ORIGIN from the path it opened
# (/usr/lib/<triplet>/libblas.so.3, the alternatives link), so they load
# /usr/lib/<triplet>/libopenblas.so.0, a third alternative. With only the
# first two switched the process ran the pthread build's code behind the
# OpenMP build's fronts (cis490 doctor showed it).
for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  target="$(dpkg-query -L "$BLAS_PACKAGE" | grep -m1 "/$BLAS_FLAVOUR/$lib\$" || true)"
  [ -n "$target" ] || { echo "setup: $BLAS_PACKAGE ships no $lib" >&2; exit 1; }
  triplet="$(basename "$(dirname "$(dirname "$target")")")"  # /usr/lib/<triplet>/<flavour>/<lib>
  name="$lib-$triplet"
  query="$(update-alternatives --query "$name" 2>/dev/null || true)"
  value="$(awk '/^Value:/ {print $2}' <<<"$query")"
  status="$(awk '/^Status:/ {print $2}' <<<"$query")"
  if [ "$value" != "$target" ] || [ "$status" != manual ]; then
    echo "setup: selecting $target for $name (was ${value:-none}, ${status:-unset})"
    need_root "select $target for $name"
    $SUDO update-alternatives --set "$name" "$target"
  fi
  # What the dynamic linker will open: the link chain must end at the chosen library.
  link="/usr/lib/$triplet/$lib"
  if [ "$(readlink -f "$link")" != "$(readlink -f "$target")" ]; then
    echo "setup: $link resolves to $(readlink -f "$link"), not $target" >&2
    exit 1
  fi
done

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
command -v node >/dev/null || { echo "setup: node not found; install Node 20 first" >&2; exit 1; }

# npm dependencies: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: the lockfile the registry lets us write lists
  # only this platform's optional packages (rollup, esbuild), which `npm ci`
  # rejects as out of sync. With the lockfile present, install pins the same versions.
  echo "setup: npm install"
  # onnxruntime-node's installer would fetch GPU extras from an unreachable
  # host; its CPU runtime ships inside the npm package.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
fi
# npm 11 holds back install scripts it has not been told to trust; make sure
# the native dependency really built rather than failing later at import time.
if [ ! -f node_modules/zstd-napi/build/Release/binding.node ]; then
  echo "setup: rebuilding zstd-napi"
  npm rebuild zstd-napi
fi
