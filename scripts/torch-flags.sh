#!/usr/bin/env bash
# Compiler/linker flags for libtorch, for engines/binding.gyp: Debian's
# libtorch-dev (CPU only) by default, or LIBTORCH=/path for an unpacked
# libtorch distribution from pytorch.org (e.g. a CUDA build: docs/scale.md).
# Usage: torch-flags.sh include|libs
set -euo pipefail
case "${1:-}" in
  include)
    if [ -n "${LIBTORCH:-}" ]; then
      echo "$LIBTORCH/include $LIBTORCH/include/torch/csrc/api/include"
    else
      echo "/usr/include/torch/csrc/api/include"
    fi
    ;;
  libs)
    # --no-as-needed: libtorch registers its operators (CPU and, in a CUDA
    # build, libtorch_cuda's) from static initialisers; without it the linker
    # drops the libraries no symbol refers to and every op is missing.
    if [ -n "${LIBTORCH:-}" ]; then
      extra=""
      for l in torch_cuda c10_cuda; do
        if [ -f "$LIBTORCH/lib/lib$l.so" ]; then extra="$extra -l$l"; fi
      done
      echo "-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10$extra"
    else
      echo "-Wl,--no-as-needed -ltorch -ltorch_cpu -lc10"
    fi
    ;;
  *)
    echo "usage: torch-flags.sh include|libs" >&2
    exit 2
    ;;
esac
