// Entry points of the engines addon's parts (see addon.cc).
#pragma once

#include <napi.h>

namespace engines {

// torch_model.cc
void InitTorch(Napi::Env env, Napi::Object exports);
void InitAutoencoder(Napi::Env env, Napi::Object exports);
Napi::Object TorchInfo(Napi::Env env);
void LimitOpenBlasThreads();
int OpenBlasThreads();

// distributed.cc
void InitDistributed(Napi::Env env, Napi::Object exports);

// gbt.cc
void InitGbt(Napi::Env env, Napi::Object exports);
Napi::Object GbtInfo(Napi::Env env);

}  // namespace engines
