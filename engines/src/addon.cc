// Module entry of native/engines.node: TorchModel (libtorch) and the GBT
// functions (libxgboost C API). The TypeScript side is src/engines/.
#include <napi.h>

#include "engines.h"

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torch", engines::TorchInfo(env));
  o.Set("xgboost", engines::GbtInfo(env));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Before any BLAS call: see LimitOpenBlasThreads.
  engines::LimitOpenBlasThreads();
  engines::InitTorch(env, exports);
  engines::InitGbt(env, exports);
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  return exports;
}

}  // namespace

NODE_API_MODULE(engines, Init)
