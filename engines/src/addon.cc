// Module entry of native/engines.node: TorchModel (libtorch), the GBT
// functions (libxgboost C API) and ProcessGroup (c10d, distributed.cc).
// The TypeScript side is src/engines/.
#include <malloc.h>
#include <napi.h>

#include <cstdlib>

#include "engines.h"

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torch", engines::TorchInfo(env));
  o.Set("xgboost", engines::GbtInfo(env));
  auto build = Napi::Object::New(env);
  build.Set("compiler", __VERSION__);
  build.Set("compiled", __DATE__ " " __TIME__);
  // node-gyp's Release configuration optimises (-O2 here) but does not
  // define NDEBUG, so say both.
#ifdef __OPTIMIZE__
  build.Set("profile", "release");
#else
  build.Set("profile", "debug");
#endif
#ifdef NDEBUG
  build.Set("assertions", false);
#else
  build.Set("assertions", true);
#endif
  build.Set("napiVersion", NAPI_VERSION);
  o.Set("build", build);
  return o;
}

// Engine calls run on libuv's pool threads, a different one each time, and
// glibc gives each thread its own malloc arena: libtorch's per-step buffers
// then sit cached in up to 8 x cores arenas (a GRU step of batch 256 held
// ~890 MiB of RSS, ~450 MiB with two arenas; bench in docs/scale.md). Two
// arenas, unless the user chose with MALLOC_ARENA_MAX.
void LimitMallocArenas() {
#ifdef M_ARENA_MAX
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LimitMallocArenas();
  // Before any BLAS call: see LimitOpenBlasThreads.
  engines::LimitOpenBlasThreads();
  engines::InitTorch(env, exports);
  engines::InitAutoencoder(env, exports);
  engines::InitGbt(env, exports);
  engines::InitDistributed(env, exports);
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  return exports;
}

}  // namespace

NODE_API_MODULE(engines, Init)
