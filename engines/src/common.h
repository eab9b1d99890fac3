// Shared helpers for the engines addon: a Promise-returning AsyncWorker and
// argument readers that turn wrong JS inputs into TypeErrors (never crashes).
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace engines {

// Runs `exec` on a libuv worker thread and settles a Promise on the JS
// thread. `exec` signals failure by throwing; the message becomes the
// rejection's Error message. `done` builds the resolved value (JS thread).
// `keep` holds JS objects (the model, input arrays read in place) alive and
// un-collected until the work has finished.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Exec = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  PromiseWorker(Napi::Env env, Exec exec, Done done)
      : Napi::AsyncWorker(env, "cis490-engines"),
        deferred_(Napi::Promise::Deferred::New(env)),
        exec_(std::move(exec)),
        done_(std::move(done)) {}

  void Keep(const Napi::Object& obj) { keep_.push_back(Napi::Persistent(obj)); }

  // Queues the work and returns its Promise. The worker deletes itself.
  Napi::Promise Run() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  void Execute() override {
    try {
      exec_();
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(done_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Exec exec_;
  Done done_;
  std::vector<Napi::ObjectReference> keep_;
};

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// A typed array argument of exactly the expected element type.
template <typename T>
Napi::TypedArrayOf<T> TypedArg(Napi::Env env, const Napi::Value& v, const char* name, const char* jsType) {
  if (!v.IsTypedArray()) ThrowType(env, std::string(name) + " must be a " + jsType);
  auto ta = v.As<Napi::TypedArray>();
  napi_typedarray_type want;
  if (std::is_same<T, float>::value) want = napi_float32_array;
  else if (std::is_same<T, int32_t>::value) want = napi_int32_array;
  else if (std::is_same<T, int8_t>::value) want = napi_int8_array;
  else if (std::is_same<T, uint8_t>::value) want = napi_uint8_array;
  else want = napi_float64_array;
  if (ta.TypedArrayType() != want) ThrowType(env, std::string(name) + " must be a " + jsType);
  return v.As<Napi::TypedArrayOf<T>>();
}

template <typename T>
std::vector<T> CopyTyped(const Napi::TypedArrayOf<T>& ta) {
  return std::vector<T>(ta.Data(), ta.Data() + ta.ElementLength());
}

// Labels may come as Int32Array or Int8Array (the tensor shards store int8).
inline std::vector<int64_t> LabelsArg(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) ThrowType(env, std::string(name) + " must be an Int32Array or Int8Array");
  auto ta = v.As<Napi::TypedArray>();
  std::vector<int64_t> out(ta.ElementLength());
  if (ta.TypedArrayType() == napi_int32_array) {
    auto a = v.As<Napi::Int32Array>();
    for (size_t i = 0; i < out.size(); i++) out[i] = a[i];
  } else if (ta.TypedArrayType() == napi_int8_array) {
    auto a = v.As<Napi::Int8Array>();
    for (size_t i = 0; i < out.size(); i++) out[i] = a[i];
  } else {
    ThrowType(env, std::string(name) + " must be an Int32Array or Int8Array");
  }
  return out;
}

inline double NumberArg(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowType(env, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// An integer-valued number in [lo, hi].
inline int64_t IntArg(Napi::Env env, const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  double d = NumberArg(env, v, name);
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != static_cast<double>(static_cast<int64_t>(d))) {
    ThrowRange(env, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                        v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

inline Napi::Float32Array NewFloat32(Napi::Env env, const std::vector<float>& v) {
  auto out = Napi::Float32Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(float));
  return out;
}

}  // namespace engines
