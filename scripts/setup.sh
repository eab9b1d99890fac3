#!/usr/bin/env bash
# Installs everything cis490 needs on a fresh Debian machine with Node 20 and Rust.
# Idempotent: every step checks before it acts, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages. Rust crates come from Debian (see .cargo/config.toml): the
# build machines reach only apt and the npm registry.
APT_PACKAGES=(
  pkg-config libzstd-dev
  librust-zstd-dev librust-tar-dev librust-serde-json-dev librust-serde-dev
  librust-serde-derive-dev librust-sha2-dev librust-rayon-dev librust-memchr-dev
  librust-libc-dev librust-proptest-dev librust-quick-error-dev
  libtorch-dev libxgboost-dev  # model engines (engines/, scripts/build-engines.sh); ~920 MB installed
  chromium                     # the evaluation report's browser test (playwright-core drives it)
  python3-xgboost              # benchmark column only (bench/plain_xgb.py); the toolkit never runs Python
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
command -v node >/dev/null || { echo "setup: node not found; install Node 20 first" >&2; exit 1; }

# npm dependencies: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: the lockfile the registry lets us write lists
  # only this platform's optional packages (rollup, esbuild), which `npm ci`
  # rejects as out of sync. With the lockfile present, install pins the same versions.
  echo "setup: npm install"
  npm install --no-audit --no-fund
fi
# npm 11 holds back install scripts it has not been told to trust; make sure
# the native dependency really built rather than failing later at import time.
if [ ! -f node_modules/zstd-napi/build/Release/binding.node ]; then
  echo "setup: rebuilding zstd-napi"
  npm rebuild zstd-napi
fi
