// ProcessGroup: a c10d process group for data-parallel training, the one
// PyTorch's torch.distributed builds for backend "gloo": a TCPStore for the
// rendezvous (rank 0 hosts it at --master-addr) and ProcessGroupGloo for the
// collectives. Nothing here is a protocol of our own; the only additions are
// timeouts on everything and errors that say which rank, which collective.
//
// JS: new ProcessGroup({rank, worldSize, host, port, timeoutMs})
//     (+ rendezvousTimeoutMs: the rendezvous and the barrier before training)
//     .connect() -> Promise<void>
//     .allReduce(Float32Array|Float64Array, what) -> Promise<same type>   (SUM)
//     .broadcast(Float32Array|Float64Array, root, what) -> Promise<same type>
//     .close()
// TorchModel.joinProcessGroup (torch_model.cc) uses the same group for its
// gradients.
#include "distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "common.h"
#include "engines.h"

namespace engines {

class DistGroup {
 public:
  int rank = 0, size = 1;
  std::string host;
  int port = 0;
  std::chrono::milliseconds timeout{60000};
  // The rendezvous and the store barrier before training: ranks start (and
  // finish reading their data) minutes apart, while a step should not.
  std::chrono::milliseconds rendezvous_timeout{300000};
  int barriers = 0;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  // One collective at a time, in call order: every rank must issue them in
  // the same order (ProcessGroupGloo's contract).
  std::mutex mu;
  // After a failed collective the group is unusable (peers are out of step).
  std::string failed;

  std::string Who() const {
    std::ostringstream s;
    s << "rank " << rank << " of " << size;
    return s.str();
  }

  template <typename Fn>
  void Collective(const char* op, const std::string& what, Fn&& issue) {
    std::lock_guard<std::mutex> lock(mu);
    if (!pg) throw std::runtime_error(Who() + ": " + op + " (" + what + "): the process group is not connected");
    if (!failed.empty()) throw std::runtime_error(Who() + ": " + op + " (" + what + ") refused: an earlier collective failed: " + failed);
    auto t0 = std::chrono::steady_clock::now();
    try {
      c10::intrusive_ptr<c10d::Work> work = issue();
      // Gloo enforces the option's timeout itself; the wait's own bound
      // (1.5x + 1 s) only guards against a collective that never returns.
      auto bound = std::chrono::milliseconds(timeout.count() * 3 / 2 + 1000);
      if (!work->wait(bound)) throw std::runtime_error("no completion within " + std::to_string(bound.count()) + " ms");
    } catch (const std::exception& e) {
      const auto* ce = dynamic_cast<const c10::Error*>(&e);
      std::string msg = ce ? ce->what_without_backtrace() : e.what();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::ostringstream s;
      s << Who() << ": " << op << " (" << what << ") failed after " << secs << " s: " << msg
        << " -- a peer rank exited or stalled (collective timeout " << timeout.count() / 1000.0 << " s, master "
        << host << ":" << port << ")";
      failed = s.str();
      throw std::runtime_error(failed);
    }
  }
};

// torch.distributed's store-based barrier: every rank adds 1 to a counter in
// the TCPStore and polls it until all have arrived (rendezvous timeout).
void DistStoreBarrier(DistGroup& g, const std::string& what) {
  std::lock_guard<std::mutex> lock(g.mu);
  if (!g.pg) throw std::runtime_error(g.Who() + ": barrier (" + what + "): the process group is not connected");
  const std::string key = "cis490/barrier/" + std::to_string(g.barriers++);
  auto t0 = std::chrono::steady_clock::now();
  try {
    int64_t n = g.store->add(key, 1);
    while (n < g.size) {
      if (std::chrono::steady_clock::now() - t0 > g.rendezvous_timeout) {
        throw std::runtime_error(std::to_string(n) + " of " + std::to_string(g.size) + " ranks arrived");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      n = g.store->add(key, 0);
    }
  } catch (const std::exception& e) {
    const auto* ce = dynamic_cast<const c10::Error*>(&e);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ostringstream s;
    s << g.Who() << ": barrier (" << what << ") failed after " << secs << " s: " << (ce ? ce->what_without_backtrace() : e.what())
      << " -- a peer rank exited or is still far behind (rendezvous timeout " << g.rendezvous_timeout.count() / 1000.0 << " s)";
    g.failed = s.str();
    throw std::runtime_error(g.failed);
  }
}

int DistRank(const DistGroup& g) { return g.rank; }
int DistWorldSize(const DistGroup& g) { return g.size; }

void DistAllReduceSum(DistGroup& g, std::vector<at::Tensor>& tensors, const std::string& what) {
  g.Collective("all-reduce", what, [&] {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = g.timeout;
    return g.pg->allreduce(tensors, o);
  });
}

void DistBroadcast(DistGroup& g, std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  g.Collective("broadcast", what, [&] {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.timeout = g.timeout;
    return g.pg->broadcast(tensors, o);
  });
}

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The Gloo transport device: loopback when the master is on loopback (the
// pairs then listen on 127.0.0.1 only); else the interface named by
// GLOO_SOCKET_IFNAME (PyTorch's variable), else this host's resolved address.
std::shared_ptr<::gloo::transport::Device> MakeDevice(const std::string& master) {
  if (IsLoopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static Napi::FunctionReference* ctor;

  static Napi::Function Define(Napi::Env env) {
    auto f = DefineClass(env, "ProcessGroup",
                         {
                             InstanceMethod<&ProcessGroupWrap::Connect>("connect"),
                             InstanceMethod<&ProcessGroupWrap::AllReduce>("allReduce"),
                             InstanceMethod<&ProcessGroupWrap::Broadcast>("broadcast"),
                             InstanceMethod<&ProcessGroupWrap::Close>("close"),
                             InstanceAccessor<&ProcessGroupWrap::Rank>("rank"),
                             InstanceAccessor<&ProcessGroupWrap::WorldSize>("worldSize"),
                             InstanceAccessor<&ProcessGroupWrap::Connected>("connected"),
                         });
    ctor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }

  explicit ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) ThrowType(env, "ProcessGroup: options must be an object");
    auto o = info[0].As<Napi::Object>();
    g_ = std::make_shared<DistGroup>();
    g_->size = static_cast<int>(IntArg(env, o.Get("worldSize"), "worldSize", 1, 1 << 16));
    g_->rank = static_cast<int>(IntArg(env, o.Get("rank"), "rank", 0, g_->size - 1));
    if (!o.Get("host").IsString() || o.Get("host").As<Napi::String>().Utf8Value().empty()) ThrowType(env, "host must be a non-empty string");
    g_->host = o.Get("host").As<Napi::String>().Utf8Value();
    g_->port = static_cast<int>(IntArg(env, o.Get("port"), "port", 1, 65535));
    g_->timeout = std::chrono::milliseconds(IntArg(env, o.Get("timeoutMs"), "timeoutMs", 1, int64_t{1} << 40));
    g_->rendezvous_timeout = std::chrono::milliseconds(IntArg(env, o.Get("rendezvousTimeoutMs"), "rendezvousTimeoutMs", 1, int64_t{1} << 40));
  }

  std::shared_ptr<DistGroup> group() const { return g_; }

 private:
  // The rendezvous blocks (rank 0 waits for every worker to reach its
  // TCPStore, the others retry until it is up), so it runs off the JS thread.
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto g = g_;
    auto* w = new PromiseWorker(
        env,
        [g]() {
          std::lock_guard<std::mutex> lock(g->mu);
          if (g->pg) return;
          auto t0 = std::chrono::steady_clock::now();
          try {
            c10d::TCPStoreOptions so;
            so.port = static_cast<uint16_t>(g->port);
            so.isServer = g->rank == 0;
            so.numWorkers = static_cast<size_t>(g->size);
            so.waitWorkers = true;
            so.timeout = g->rendezvous_timeout;
            g->store = c10::make_intrusive<c10d::TCPStore>(g->host, so);
            auto prefixed = c10::make_intrusive<c10d::PrefixStore>("cis490", g->store);
            auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
            opts->devices.push_back(MakeDevice(g->host));
            opts->threads = 1;  // one collective at a time anyway (DistGroup::mu)
            g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, g->rank, g->size, opts);
          } catch (const std::exception& e) {
            const auto* ce = dynamic_cast<const c10::Error*>(&e);
            double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::ostringstream s;
            s << g->Who() << ": rendezvous at " << g->host << ":" << g->port << " failed after " << secs
              << " s: " << (ce ? ce->what_without_backtrace() : e.what()) << " -- are all " << g->size
              << " ranks started with the same --master-addr (rendezvous timeout " << g->rendezvous_timeout.count() / 1000.0 << " s)?";
            g->store.reset();
            throw std::runtime_error(s.str());
          }
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  // (array, what) or (array, root, what): a copy goes through the collective
  // and comes back as a new array of the same type.
  Napi::Value Collective(const Napi::CallbackInfo& info, bool broadcast) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) ThrowType(env, "data must be a Float32Array or Float64Array");
    auto ta = info[0].As<Napi::TypedArray>();
    bool f64 = ta.TypedArrayType() == napi_float64_array;
    if (!f64 && ta.TypedArrayType() != napi_float32_array) ThrowType(env, "data must be a Float32Array or Float64Array");
    int root = 0;
    size_t whatAt = 1;
    if (broadcast) {
      root = static_cast<int>(IntArg(env, info[1], "root", 0, g_->size - 1));
      whatAt = 2;
    }
    std::string what = info[whatAt].IsString() ? info[whatAt].As<Napi::String>().Utf8Value() : std::string("unnamed");
    const int64_t n = static_cast<int64_t>(ta.ElementLength());
    auto t = torch::empty({n}, f64 ? torch::kFloat64 : torch::kFloat32);
    std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength());
    auto g = g_;
    auto* w = new PromiseWorker(
        env,
        [g, t, root, what, broadcast]() {
          std::vector<at::Tensor> ts{t};
          if (broadcast) DistBroadcast(*g, ts, root, what);
          else DistAllReduceSum(*g, ts, what);
        },
        [t, f64, n](Napi::Env env) -> Napi::Value {
          if (f64) {
            auto out = Napi::Float64Array::New(env, n);
            std::memcpy(out.Data(), t.data_ptr(), n * sizeof(double));
            return out;
          }
          auto out = Napi::Float32Array::New(env, n);
          std::memcpy(out.Data(), t.data_ptr(), n * sizeof(float));
          return out;
        });
    w->Keep(Value());
    return w->Run();
  }
  Napi::Value AllReduce(const Napi::CallbackInfo& info) { return Collective(info, false); }
  Napi::Value Broadcast(const Napi::CallbackInfo& info) { return Collective(info, true); }

  // Drops this handle's references; models that joined keep the group alive
  // until they are disposed.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    auto fresh = std::make_shared<DistGroup>();
    fresh->rank = g_->rank;
    fresh->size = g_->size;
    fresh->host = g_->host;
    fresh->port = g_->port;
    fresh->timeout = g_->timeout;
    fresh->rendezvous_timeout = g_->rendezvous_timeout;
    g_ = fresh;
    return info.Env().Undefined();
  }

  Napi::Value Rank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), g_->rank); }
  Napi::Value WorldSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), g_->size); }
  Napi::Value Connected(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), static_cast<bool>(g_->pg)); }

  std::shared_ptr<DistGroup> g_;
};

Napi::FunctionReference* ProcessGroupWrap::ctor = nullptr;

}  // namespace

std::shared_ptr<DistGroup> DistGroupArg(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsObject() || !ProcessGroupWrap::ctor || !v.As<Napi::Object>().InstanceOf(ProcessGroupWrap::ctor->Value())) {
    ThrowType(env, std::string(what) + ": expected a ProcessGroup");
  }
  auto g = ProcessGroupWrap::Unwrap(v.As<Napi::Object>())->group();
  if (!g->pg) throw Napi::Error::New(env, std::string(what) + ": the ProcessGroup is not connected (await connect() first)");
  return g;
}

void InitDistributed(Napi::Env env, Napi::Object exports) { exports.Set("ProcessGroup", ProcessGroupWrap::Define(env)); }

}  // namespace engines
