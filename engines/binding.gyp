# The model-engines addon: libtorch (neural nets) + libxgboost (GBT) behind
# node-addon-api. Built by scripts/build-engines.sh against Debian's
# libtorch-dev and libxgboost-dev (apt and npm are the only package sources
# the build machines reach); each non-default flag says why below.
{
  "targets": [
    {
      "target_name": "engines",
      "sources": ["src/addon.cc", "src/torch_model.cc", "src/gbt.cc", "src/distributed.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        # Debian's libtorch-dev puts the C++ frontend (torch/torch.h) under
        # /usr/include/torch/csrc/api/include; LIBTORCH=/path picks another
        # libtorch (scripts/torch-flags.sh, docs/scale.md).
        "<!@(bash ../scripts/torch-flags.sh include)"
      ],
      # USE_C10D_GLOO: c10d's ProcessGroupGloo.hpp is empty without it
      # (libtorch_cpu.so exports the class; its Gloo headers: libgloo-dev).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1", "USE_C10D_GLOO"],
      # libtorch needs exceptions and RTTI; node-gyp turns both off by default.
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      # --no-as-needed: libtorch.so registers the CPU operators from static
      # initialisers; without it the linker drops it and every op is missing.
      "ldflags": ["-Wl,--no-as-needed"],
      "libraries": ["<!@(bash ../scripts/torch-flags.sh libs)", "-lgloo", "-lxgboost", "-ldl"]
    }
  ]
}
