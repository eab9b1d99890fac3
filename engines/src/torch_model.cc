// TorchModel: five small classifiers on libtorch's C++ frontend, driven one
// batch at a time by the TypeScript training loop.
//
// Data layout (matches the tensor shards, docs/features.md):
//   mlp:        x [B, n_features]                      mask: must be null
//   sequences:  x [B, n_channels, seq_len] row-major    mask: same layout, 1 = observed
// A null mask for a sequence model means "everything observed".
//
// Missingness handling per architecture:
//   cnn, gru, lstm: the mask is concatenated to x as n_channels extra input
//                   channels (2*n_channels in), so the net sees which zeros are
//                   real and which are gaps.
//   transformer:    both: mask channels are concatenated before the input
//                   projection (per-channel gaps), and a timestep where no
//                   channel is observed is a key-padding position (never
//                   attended to) and is left out of the mean pooling. A sample
//                   with no observed timestep at all falls back to attending
//                   and pooling over every step (an all-masked softmax is NaN).
#include <dlfcn.h>
#include <sched.h>
#include <torch/torch.h>

#include <atomic>
#include <initializer_list>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <sstream>

#include "common.h"
#include "distributed.h"
#include "engines.h"

namespace engines {
namespace {

namespace F = torch::nn::functional;

// Every RNG draw in libtorch (init, dropout) uses the one global CPU
// generator. Construction and training steps hold this lock and reseed it,
// so models never consume each other's random numbers and a model's results
// depend only on (seed, its own step count), whatever else runs.
std::mutex g_rng_mutex;

int AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

// Called at the start of every job. libgomp keeps the OpenMP thread count per
// calling thread and libuv may run a job on any of its pool threads, so a
// set_num_threads on the JS thread would not reach them. Only when it
// differs: at::set_num_threads also resizes libtorch's pthreadpool.
//
// Measured (2 shared, busy cores): running every job on one dedicated thread
// instead was 2-7x slower at 2 threads, and OMP_WAIT_POLICY=passive removed
// the gap. Likely cause: with a single OpenMP team libgomp spins at barriers
// at full length, wasting time slices while a partner is descheduled; with
// several teams (one per pool thread that ran a job) it throttles spinning.
void SetThreads(int n) {
  if (at::get_num_threads() != n) torch::set_num_threads(n);
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct Config {
  std::string kind;
  int64_t n_features = 0, n_channels = 0, seq_len = 0, n_classes = 0;
  int64_t hidden = 64, layers = 2, heads = 4;
  double dropout = 0.1, weight_decay = 0.01;
  uint64_t seed = 0;
  int threads = 0;
  std::string device = "auto";

  bool sequence() const { return kind != "mlp"; }
  int64_t sample_size() const { return sequence() ? n_channels * seq_len : n_features; }
  // Written into checkpoints and checked on load: a clearer error than a
  // tensor-shape mismatch deep inside libtorch.
  std::string signature() const {
    std::ostringstream s;
    s << "cis490-torch/1 kind=" << kind << " n_features=" << n_features << " n_channels=" << n_channels
      << " seq_len=" << seq_len << " n_classes=" << n_classes << " hidden=" << hidden << " layers=" << layers
      << " heads=" << heads;
    return s.str();
  }
};

// ---------------------------------------------------------------------------
// Architectures. forward(x, m): x as documented above (already on device,
// float), m the mask as float 0/1 in x's layout (undefined for mlp).

struct NetImpl : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& m) = 0;
};

struct MlpImpl : NetImpl {
  torch::nn::Sequential body;
  explicit MlpImpl(const Config& c) {
    // Linear -> LayerNorm -> GELU -> Dropout per hidden layer. No LayerNorm on
    // the input: the summary features are already standardised, and a
    // per-row norm would discard each window's overall level.
    int64_t in = c.n_features;
    for (int64_t l = 0; l < c.layers; l++) {
      body->push_back(torch::nn::Linear(in, c.hidden));
      body->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
      body->push_back(torch::nn::GELU());
      body->push_back(torch::nn::Dropout(c.dropout));
      in = c.hidden;
    }
    body->push_back(torch::nn::Linear(in, c.n_classes));
    register_module("body", body);
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&) override { return body->forward(x); }
};

struct CnnImpl : NetImpl {
  torch::nn::Sequential body;
  torch::nn::Linear head{nullptr};
  explicit CnnImpl(const Config& c) {
    // Kernel 5 with dilation 1, 2, 4, ...: the receptive field grows
    // geometrically at constant cost; global average pooling does the rest.
    int64_t in = 2 * c.n_channels;
    for (int64_t l = 0; l < c.layers; l++) {
      int64_t d = int64_t{1} << std::min<int64_t>(l, 6);
      body->push_back(torch::nn::Conv1d(torch::nn::Conv1dOptions(in, c.hidden, 5).padding(2 * d).dilation(d)));
      body->push_back(torch::nn::GELU());
      body->push_back(torch::nn::Dropout(c.dropout));
      in = c.hidden;
    }
    register_module("body", body);
    head = register_module("head", torch::nn::Linear(c.hidden, c.n_classes));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& m) override {
    auto h = body->forward(torch::cat({x, m}, 1));  // [B, hidden, T]
    return head->forward(h.mean(2));
  }
};

struct RnnImpl : NetImpl {
  bool is_lstm;
  torch::nn::GRU gru{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear head{nullptr};
  RnnImpl(const Config& c, bool lstm_) : is_lstm(lstm_) {
    // Inter-layer dropout only exists with 2+ layers (libtorch warns otherwise).
    double between = c.layers > 1 ? c.dropout : 0.0;
    if (is_lstm) {
      lstm = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(2 * c.n_channels, c.hidden)
                                                        .num_layers(c.layers).batch_first(true).dropout(between)));
    } else {
      gru = register_module("rnn", torch::nn::GRU(torch::nn::GRUOptions(2 * c.n_channels, c.hidden)
                                                      .num_layers(c.layers).batch_first(true).dropout(between)));
    }
    drop = register_module("drop", torch::nn::Dropout(c.dropout));
    head = register_module("head", torch::nn::Linear(c.hidden, c.n_classes));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& m) override {
    auto in = torch::cat({x, m}, 1).transpose(1, 2).contiguous();  // [B, T, 2C]
    torch::Tensor h_n;                                              // [layers, B, hidden]
    if (is_lstm) h_n = std::get<0>(std::get<1>(lstm->forward(in)));
    else h_n = std::get<1>(gru->forward(in));
    return head->forward(drop->forward(h_n[-1]));  // last layer's final hidden state
  }
};

struct TransformerImpl : NetImpl {
  torch::nn::Linear proj{nullptr};
  torch::Tensor pos;  // learned positional embedding [T, 1, D]
  torch::nn::TransformerEncoder enc{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear head{nullptr};
  explicit TransformerImpl(const Config& c) {
    const int64_t D = c.hidden;
    proj = register_module("proj", torch::nn::Linear(2 * c.n_channels, D));
    pos = register_parameter("pos", torch::randn({c.seq_len, 1, D}) * 0.02);
    // libtorch 1.13's encoder layer is post-norm and sequence-first ([T, B, D]).
    auto layer = torch::nn::TransformerEncoderLayerOptions(D, c.heads)
                     .dim_feedforward(2 * D)
                     .dropout(c.dropout)
                     .activation(torch::kGELU);
    enc = register_module("enc", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, c.layers)));
    drop = register_module("drop", torch::nn::Dropout(c.dropout));
    head = register_module("head", torch::nn::Linear(D, c.n_classes));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& m) override {
    auto in = torch::cat({x, m}, 1).permute({2, 0, 1});  // [T, B, 2C]
    auto h = proj->forward(in) + pos;                     // [T, B, D]
    auto valid = m.amax(1) > 0.5;                         // [B, T]: any channel observed
    valid = valid.logical_or(valid.any(1, /*keepdim=*/true).logical_not());
    h = enc->forward(h, /*src_mask=*/{}, /*src_key_padding_mask=*/valid.logical_not());
    auto w = valid.to(h.scalar_type()).transpose(0, 1).unsqueeze(2);  // [T, B, 1]
    auto pooled = (h * w).sum(0) / w.sum(0).clamp_min(1.0);           // [B, D]
    return head->forward(drop->forward(pooled));
  }
};

std::shared_ptr<NetImpl> MakeNet(const Config& c) {
  if (c.kind == "mlp") return std::make_shared<MlpImpl>(c);
  if (c.kind == "cnn") return std::make_shared<CnnImpl>(c);
  if (c.kind == "gru") return std::make_shared<RnnImpl>(c, false);
  if (c.kind == "lstm") return std::make_shared<RnnImpl>(c, true);
  if (c.kind == "transformer") return std::make_shared<TransformerImpl>(c);
  throw std::invalid_argument("unknown model kind " + c.kind);
}

// The penultimate layer: the input of each net's final Linear head, [B, d],
// from the same (x, m) as forward. Kept beside the architectures rather than
// inside them (it repeats each forward up to its head); the engines test
// checks that the head applied to this reproduces predictProba, so the two
// cannot drift apart unnoticed. Dropout before a head is the identity in
// eval mode, which is the only mode this is called in.
torch::Tensor PenultimateOf(NetImpl& net, const torch::Tensor& x, const torch::Tensor& m) {
  if (auto* mlp = dynamic_cast<MlpImpl*>(&net)) {
    // Every module of the body but the last (the head).
    auto h = x;
    auto it = mlp->body->begin();
    for (size_t i = 0; i + 1 < mlp->body->size(); i++, ++it) h = it->forward(h);
    return h;
  }
  if (auto* cnn = dynamic_cast<CnnImpl*>(&net)) return cnn->body->forward(torch::cat({x, m}, 1)).mean(2);
  if (auto* rnn = dynamic_cast<RnnImpl*>(&net)) {
    auto in = torch::cat({x, m}, 1).transpose(1, 2).contiguous();
    torch::Tensor h_n;
    if (rnn->is_lstm) h_n = std::get<0>(std::get<1>(rnn->lstm->forward(in)));
    else h_n = std::get<1>(rnn->gru->forward(in));
    return rnn->drop->forward(h_n[-1]);
  }
  if (auto* tr = dynamic_cast<TransformerImpl*>(&net)) {
    auto in = torch::cat({x, m}, 1).permute({2, 0, 1});
    auto h = tr->proj->forward(in) + tr->pos;
    auto valid = m.amax(1) > 0.5;
    valid = valid.logical_or(valid.any(1, /*keepdim=*/true).logical_not());
    h = tr->enc->forward(h, /*src_mask=*/{}, /*src_key_padding_mask=*/valid.logical_not());
    auto w = valid.to(h.scalar_type()).transpose(0, 1).unsqueeze(2);
    return tr->drop->forward((h * w).sum(0) / w.sum(0).clamp_min(1.0));
  }
  throw std::invalid_argument("embed: this architecture has no penultimate layer defined");
}

// libtorch's c10::Error::what() carries a C++ backtrace; JS users want the message.
template <typename Fn>
void TorchGuard(Fn&& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string("torch: ") + e.what_without_backtrace());
  }
}

// Rejects NaN/Inf: the TS loop zeroes missing values after standardising, so
// a non-finite value here is a bug upstream, and it would poison the weights.
void CheckFinite(const float* x, size_t n, int64_t per_sample) {
  for (size_t i = 0; i < n; i++) {
    if (!std::isfinite(x[i])) {
      std::ostringstream s;
      s << "x contains a non-finite value (" << x[i] << ") at index " << i << " (sample " << (int64_t)i / per_sample
        << "); the engine expects finite inputs (replace missing values and set the mask instead)";
      throw std::invalid_argument(s.str());
    }
  }
}

// ---------------------------------------------------------------------------

class TorchModel : public Napi::ObjectWrap<TorchModel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TorchModel",
                       {
                           InstanceMethod<&TorchModel::TrainStep>("trainStep"),
                           InstanceMethod<&TorchModel::PredictProba>("predictProba"),
                           InstanceMethod<&TorchModel::Embed>("embed"),
                           InstanceMethod<&TorchModel::Save>("save"),
                           InstanceMethod<&TorchModel::Load>("load"),
                           InstanceMethod<&TorchModel::ParameterBytes>("parameterBytes"),
                           InstanceMethod<&TorchModel::NamedTensors>("namedTensors"),
                           InstanceMethod<&TorchModel::Dispose>("dispose"),
                           InstanceMethod<&TorchModel::JoinProcessGroup>("joinProcessGroup"),
                           InstanceAccessor<&TorchModel::NumParameters>("numParameters"),
                           InstanceAccessor<&TorchModel::DeviceName>("device"),
                           InstanceAccessor<&TorchModel::Steps>("steps"),
                       });
  }

  explicit TorchModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TorchModel>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) ThrowType(env, "TorchModel: config must be an object");
    cfg_ = ParseConfig(env, info[0].As<Napi::Object>());
    rng_seed_ = cfg_.seed;

    bool cuda = torch::cuda::is_available();
    if (cfg_.device == "cuda" && !cuda) {
      throw Napi::Error::New(env, "TorchModel: device \"cuda\" requested but this libtorch has no usable CUDA device");
    }
    device_ = (cfg_.device == "cuda" || (cfg_.device == "auto" && cuda)) ? torch::Device(torch::kCUDA)
                                                                           : torch::Device(torch::kCPU);
    try {
      std::lock_guard<std::mutex> rng(g_rng_mutex);
      TorchGuard([&] {
        torch::manual_seed(cfg_.seed);
        net_ = MakeNet(cfg_);
        net_->to(device_);
        BuildOptimizer();
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("TorchModel: ") + e.what());
    }
    for (const auto& p : net_->parameters()) num_params_ += p.numel();
  }

 private:
  static Config ParseConfig(Napi::Env env, Napi::Object o) {
    Config c;
    auto get = [&](const char* k) { return o.Get(k); };
    auto has = [&](const char* k) { return !o.Get(k).IsUndefined() && !o.Get(k).IsNull(); };
    if (!get("kind").IsString()) ThrowType(env, "config.kind must be one of mlp, cnn, gru, lstm, transformer");
    c.kind = get("kind").As<Napi::String>().Utf8Value();
    if (c.kind != "mlp" && c.kind != "cnn" && c.kind != "gru" && c.kind != "lstm" && c.kind != "transformer") {
      ThrowRange(env, "config.kind must be one of mlp, cnn, gru, lstm, transformer, got \"" + c.kind + "\"");
    }
    const int64_t big = int64_t{1} << 24;
    if (c.kind == "mlp") {
      c.n_features = IntArg(env, get("n_features"), "config.n_features", 1, big);
    } else {
      c.n_channels = IntArg(env, get("n_channels"), "config.n_channels", 1, big);
      c.seq_len = IntArg(env, get("seq_len"), "config.seq_len", 1, big);
    }
    c.n_classes = IntArg(env, get("n_classes"), "config.n_classes", 2, 1 << 16);
    if (has("hidden")) c.hidden = IntArg(env, get("hidden"), "config.hidden", 1, 1 << 16);
    if (has("layers")) c.layers = IntArg(env, get("layers"), "config.layers", 1, 64);
    if (has("heads")) c.heads = IntArg(env, get("heads"), "config.heads", 1, 1024);
    if (has("dropout")) {
      c.dropout = NumberArg(env, get("dropout"), "config.dropout");
      if (!(c.dropout >= 0 && c.dropout < 1)) ThrowRange(env, "config.dropout must be in [0, 1)");
    }
    if (has("weight_decay")) {
      c.weight_decay = NumberArg(env, get("weight_decay"), "config.weight_decay");
      if (!(c.weight_decay >= 0 && std::isfinite(c.weight_decay))) ThrowRange(env, "config.weight_decay must be >= 0");
    }
    if (has("seed")) c.seed = static_cast<uint64_t>(IntArg(env, get("seed"), "config.seed", 0, (int64_t{1} << 53)));
    c.threads = has("threads") ? static_cast<int>(IntArg(env, get("threads"), "config.threads", 1, 4096)) : AvailableCores();
    if (has("device")) {
      if (!get("device").IsString()) ThrowType(env, "config.device must be \"auto\", \"cpu\" or \"cuda\"");
      c.device = get("device").As<Napi::String>().Utf8Value();
      if (c.device != "auto" && c.device != "cpu" && c.device != "cuda") {
        ThrowRange(env, "config.device must be \"auto\", \"cpu\" or \"cuda\", got \"" + c.device + "\"");
      }
    }
    if (c.kind == "transformer" && c.hidden % c.heads != 0) {
      ThrowRange(env, "config.hidden (" + std::to_string(c.hidden) + ") must be divisible by config.heads (" +
                          std::to_string(c.heads) + ")");
    }
    return c;
  }

  // AdamW with the usual two groups: weight decay on weight matrices/kernels
  // only, none on biases, norm gains and the positional embedding.
  void BuildOptimizer() {
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& kv : net_->named_parameters()) {
      const std::string& name = kv.key();
      bool is_weight = kv.value().dim() >= 2 && name != "pos";
      (is_weight ? decay : no_decay).push_back(kv.value());
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(1e-3).weight_decay(cfg_.weight_decay)));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(1e-3).weight_decay(0.0)));
    opt_ = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(1e-3));
  }

  void CheckAlive(Napi::Env env) {
    if (!net_) throw Napi::Error::New(env, "TorchModel: model was disposed");
  }

  // Reads (x, mask) for `what`, returning the number of samples. Lengths are
  // checked here (JS thread) so wrong shapes throw before any work is queued.
  int64_t CheckInputs(Napi::Env env, const Napi::Value& xv, const Napi::Value& mv, const char* what) {
    auto x = TypedArg<float>(env, xv, "x", "Float32Array");
    const int64_t per = cfg_.sample_size();
    const int64_t n = static_cast<int64_t>(x.ElementLength());
    if (n == 0 || n % per != 0) {
      std::ostringstream s;
      s << what << ": x has " << n << " values, expected a non-zero multiple of " << per
        << (cfg_.sequence() ? " (n_channels * seq_len, layout [B, C, T])" : " (n_features)");
      ThrowRange(env, s.str());
    }
    if (!mv.IsNull() && !mv.IsUndefined()) {
      if (!cfg_.sequence()) ThrowType(env, std::string(what) + ": mlp takes no mask (pass null)");
      auto m = TypedArg<uint8_t>(env, mv, "mask", "Uint8Array or null");
      if (m.ElementLength() != x.ElementLength()) {
        ThrowRange(env, std::string(what) + ": mask has " + std::to_string(m.ElementLength()) + " values, x has " +
                            std::to_string(x.ElementLength()));
      }
    }
    return n / per;
  }

  // [B, ...] shaped float tensors for x and its mask from raw host memory.
  std::pair<torch::Tensor, torch::Tensor> ToTensors(const float* x, const uint8_t* m, int64_t b) {
    std::vector<int64_t> shape = cfg_.sequence() ? std::vector<int64_t>{b, cfg_.n_channels, cfg_.seq_len}
                                                 : std::vector<int64_t>{b, cfg_.n_features};
    auto xt = torch::from_blob(const_cast<float*>(x), shape, torch::kFloat32).to(device_);
    torch::Tensor mt;
    if (cfg_.sequence()) {
      mt = m ? torch::from_blob(const_cast<uint8_t*>(m), shape, torch::kUInt8).to(device_).to(torch::kFloat32)
             : torch::ones(shape, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
    }
    return {xt, mt};
  }

  // trainStep(x, mask|null, y, classWeights, lr, clipNorm) -> Promise<{loss, gradNorm, skipped}>
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    const int64_t b = CheckInputs(env, info[0], info[1], "trainStep");
    auto y = LabelsArg(env, info[2], "y");
    if ((int64_t)y.size() != b) {
      ThrowRange(env, "trainStep: y has " + std::to_string(y.size()) + " labels for " + std::to_string(b) + " samples");
    }
    for (size_t i = 0; i < y.size(); i++) {
      if (y[i] < 0 || y[i] >= cfg_.n_classes) {
        ThrowRange(env, "trainStep: y[" + std::to_string(i) + "] = " + std::to_string(y[i]) + " is outside [0, " +
                            std::to_string(cfg_.n_classes) + ")");
      }
    }
    auto cw = CopyTyped(TypedArg<float>(env, info[3], "classWeights", "Float32Array"));
    if ((int64_t)cw.size() != cfg_.n_classes) {
      ThrowRange(env, "trainStep: classWeights has " + std::to_string(cw.size()) + " values, expected n_classes = " +
                          std::to_string(cfg_.n_classes));
    }
    for (float w : cw) {
      if (!(w >= 0 && std::isfinite(w))) ThrowRange(env, "trainStep: classWeights must be finite and >= 0");
    }
    const double lr = NumberArg(env, info[4], "lr");
    if (!(lr >= 0 && std::isfinite(lr))) ThrowRange(env, "trainStep: lr must be finite and >= 0");
    const double clip = info[5].IsUndefined() ? 0.0 : NumberArg(env, info[5], "clipNorm");
    if (!(clip >= 0) || std::isnan(clip)) ThrowRange(env, "trainStep: clipNorm must be >= 0 (0 = no clipping)");

    // Copies: the TS loop may refill its batch buffers while this step runs.
    auto x = std::make_shared<std::vector<float>>(CopyTyped(info[0].As<Napi::Float32Array>()));
    auto m = std::make_shared<std::vector<uint8_t>>();
    if (!info[1].IsNull() && !info[1].IsUndefined()) *m = CopyTyped(info[1].As<Napi::Uint8Array>());
    struct Out { double loss = 0, grad_norm = 0; bool skipped = false; };
    auto out = std::make_shared<Out>();

    auto* w = new PromiseWorker(
        env,
        [this, x, m, y = std::move(y), cw = std::move(cw), lr, clip, b, out]() mutable {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          CheckFinite(x->data(), x->size(), cfg_.sample_size());
          std::lock_guard<std::mutex> rng(g_rng_mutex);
          TorchGuard([&] {
            SetThreads(cfg_.threads);  // models may differ in threads
            torch::manual_seed(SplitMix64(rng_seed_ ^ SplitMix64(static_cast<uint64_t>(steps_))));
            net_->train();
            auto [xt, mt] = ToTensors(x->data(), m->empty() ? nullptr : m->data(), b);
            auto yt = torch::from_blob(y.data(), {b}, torch::kInt64).to(device_);
            auto wt = torch::from_blob(cw.data(), {cfg_.n_classes}, torch::kFloat32).to(device_);
            for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
            opt_->zero_grad();
            auto loss = F::cross_entropy(net_->forward(xt, mt), yt, F::CrossEntropyFuncOptions().weight(wt));
            loss.backward();
            if (dist_) loss = AverageGradients(loss, yt, wt);  // data-parallel: the global batch's gradient
            // clip_grad_norm_ returns the norm before clipping; with an
            // infinite bound it only measures.
            double gn = torch::nn::utils::clip_grad_norm_(
                net_->parameters(), clip > 0 ? clip : std::numeric_limits<double>::infinity());
            out->loss = loss.item<double>();
            out->grad_norm = gn;
            // A non-finite loss or gradient would destroy the weights: skip
            // the update (like AMP's GradScaler) and let the caller see it.
            out->skipped = !std::isfinite(out->loss) || !std::isfinite(gn);
            if (!out->skipped) opt_->step();
            steps_++;
          });
        },
        [out](Napi::Env env) -> Napi::Value {
          auto r = Napi::Object::New(env);
          r.Set("loss", out->loss);
          r.Set("gradNorm", out->grad_norm);
          r.Set("skipped", out->skipped);
          return r;
        });
    w->Keep(Value());
    return w->Run();
  }

  // predictProba(x, mask|null) -> Promise<Float32Array [B, n_classes]>
  Napi::Value PredictProba(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    const int64_t b = CheckInputs(env, info[0], info[1], "predictProba");
    // Read in place (inputs can be the whole split, hundreds of MB): the
    // arrays are kept alive by the worker; callers must not mutate them
    // until the Promise settles.
    auto xa = info[0].As<Napi::Float32Array>();
    const float* x = xa.Data();
    const uint8_t* m = (info[1].IsNull() || info[1].IsUndefined()) ? nullptr : info[1].As<Napi::Uint8Array>().Data();
    auto out = std::make_shared<std::vector<float>>();

    auto* w = new PromiseWorker(
        env,
        [this, x, m, b, out]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          const int64_t per = cfg_.sample_size();
          CheckFinite(x, static_cast<size_t>(b * per), per);
          TorchGuard([&] {
            SetThreads(cfg_.threads);
            torch::NoGradGuard no_grad;
            net_->eval();
            out->resize(static_cast<size_t>(b * cfg_.n_classes));
            const int64_t chunk = 512;  // bounds attention/activation memory
            for (int64_t s = 0; s < b; s += chunk) {
              int64_t n = std::min(chunk, b - s);
              auto [xt, mt] = ToTensors(x + s * per, m ? m + s * per : nullptr, n);
              auto p = torch::softmax(net_->forward(xt, mt), 1).to(torch::kCPU).contiguous();
              std::memcpy(out->data() + s * cfg_.n_classes, p.data_ptr<float>(), n * cfg_.n_classes * sizeof(float));
            }
          });
        },
        [out](Napi::Env env) -> Napi::Value { return NewFloat32(env, *out); });
    w->Keep(Value());
    w->Keep(info[0].As<Napi::Object>());
    if (m) w->Keep(info[1].As<Napi::Object>());
    return w->Run();
  }

  // embed(x, mask|null) -> Promise<Float32Array [B, d]>: the penultimate
  // layer (PenultimateOf) in eval mode; same inputs and in-place reading as
  // predictProba. d is the width of the head's input (config.hidden).
  Napi::Value Embed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    const int64_t b = CheckInputs(env, info[0], info[1], "embed");
    const float* x = info[0].As<Napi::Float32Array>().Data();
    const uint8_t* m = (info[1].IsNull() || info[1].IsUndefined()) ? nullptr : info[1].As<Napi::Uint8Array>().Data();
    auto out = std::make_shared<std::vector<float>>();
    auto* w = new PromiseWorker(
        env,
        [this, x, m, b, out]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          const int64_t per = cfg_.sample_size();
          CheckFinite(x, static_cast<size_t>(b * per), per);
          TorchGuard([&] {
            SetThreads(cfg_.threads);
            torch::NoGradGuard no_grad;
            net_->eval();
            const int64_t chunk = 512;
            for (int64_t s = 0; s < b; s += chunk) {
              int64_t n = std::min(chunk, b - s);
              auto [xt, mt] = ToTensors(x + s * per, m ? m + s * per : nullptr, n);
              auto e = PenultimateOf(*net_, xt, mt).to(torch::kCPU).to(torch::kFloat32).contiguous();
              const int64_t d = e.size(1);
              if (s == 0) out->resize(static_cast<size_t>(b * d));
              std::memcpy(out->data() + s * d, e.data_ptr<float>(), n * d * sizeof(float));
            }
          });
        },
        [out](Napi::Env env) -> Napi::Value { return NewFloat32(env, *out); });
    w->Keep(Value());
    w->Keep(info[0].As<Napi::Object>());
    if (m) w->Keep(info[1].As<Napi::Object>());
    return w->Run();
  }

  static std::string PathArg(Napi::Env env, const Napi::Value& v, const char* what) {
    if (!v.IsString() || v.As<Napi::String>().Utf8Value().empty()) ThrowType(env, std::string(what) + ": path must be a non-empty string");
    return v.As<Napi::String>().Utf8Value();
  }

  // save(path) -> Promise<void>: parameters, buffers, optimizer state and the
  // step count in one torch archive. The caller (src/engines/torch.ts) passes
  // a temporary name and makes the file durable and atomic (src/io/atomic.ts).
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::string path = PathArg(env, info[0], "save");
    auto* w = new PromiseWorker(
        env,
        [this, path]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          TorchGuard([&] {
            torch::serialize::OutputArchive root, model, optim;
            net_->save(model);
            opt_->save(optim);
            root.write("signature", c10::IValue(cfg_.signature()));
            root.write("steps", torch::tensor(steps_.load(), torch::kInt64));
            // The dropout stream continues after a load exactly as it would have.
            root.write("rng_seed", torch::tensor(static_cast<int64_t>(rng_seed_), torch::kInt64));
            root.write("model", model);
            root.write("optimizer", optim);
            root.save_to(path);
          });
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  // load(path) -> Promise<void>: into this model, whose config must match.
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::string path = PathArg(env, info[0], "load");
    auto* w = new PromiseWorker(
        env,
        [this, path]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          TorchGuard([&] {
            torch::serialize::InputArchive root, model, optim;
            root.load_from(path, device_);
            c10::IValue sig;
            if (!root.try_read("signature", sig) || !sig.isString()) {
              throw std::runtime_error("load: " + path + " is not a cis490 torch checkpoint");
            }
            if (sig.toStringRef() != cfg_.signature()) {
              throw std::runtime_error("load: checkpoint was saved by a different architecture:\n  file:  " +
                                       sig.toStringRef() + "\n  model: " + cfg_.signature());
            }
            root.read("model", model);
            net_->load(model);
            if (root.try_read("optimizer", optim)) opt_->load(optim);
            torch::Tensor steps;
            if (root.try_read("steps", steps)) steps_ = steps.item<int64_t>();
            torch::Tensor seed;
            if (root.try_read("rng_seed", seed)) rng_seed_ = static_cast<uint64_t>(seed.item<int64_t>());
          });
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  // Every parameter and buffer, in registration order, as raw float bytes:
  // the TS wrapper hashes these (sha256) for determinism checks.
  Napi::Value ParameterBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint8_t> bytes;
    try {
      TorchGuard([&] {
        auto add = [&](const torch::Tensor& t) {
          auto c = t.detach().to(torch::kCPU).contiguous();
          auto* p = static_cast<const uint8_t*>(c.data_ptr());
          bytes.insert(bytes.end(), p, p + c.numel() * c.element_size());
        };
        for (const auto& p : net_->parameters()) add(p);
        for (const auto& bf : net_->buffers()) add(bf);
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
  }

  // namedTensors() -> [{name, shape, data: Float32Array}]: every parameter and
  // buffer under its libtorch name ("rnn.weight_ih_l0", ...), copied to CPU
  // float32. The ONNX exporter (src/deploy/) rebuilds each graph from these.
  Napi::Value NamedTensors(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::lock_guard<std::mutex> lock(mu_);
    struct Entry { std::string name; std::vector<int64_t> shape; std::vector<float> data; };
    std::vector<Entry> entries;
    try {
      TorchGuard([&] {
        auto add = [&](const std::string& name, const torch::Tensor& t) {
          auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
          Entry e{name, c.sizes().vec(), {}};
          e.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
          entries.push_back(std::move(e));
        };
        for (const auto& kv : net_->named_parameters()) add(kv.key(), kv.value());
        for (const auto& kv : net_->named_buffers()) add(kv.key(), kv.value());
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    auto out = Napi::Array::New(env, entries.size());
    for (size_t i = 0; i < entries.size(); i++) {
      auto o = Napi::Object::New(env);
      o.Set("name", entries[i].name);
      auto shape = Napi::Array::New(env, entries[i].shape.size());
      for (size_t k = 0; k < entries[i].shape.size(); k++) shape.Set(k, Napi::Number::New(env, (double)entries[i].shape[k]));
      o.Set("shape", shape);
      o.Set("data", NewFloat32(env, entries[i].data));
      out.Set(i, o);
    }
    return out;
  }

  // Frees the weights now rather than at some later GC.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    opt_.reset();
    net_.reset();
    dist_.reset();
    return info.Env().Undefined();
  }

  Napi::Value NumParameters(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)num_params_); }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), device_.is_cuda() ? "cuda" : "cpu");
  }
  Napi::Value Steps(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)steps_); }

  // ---- data-parallel training (distributed.cc) ----------------------------

  // joinProcessGroup(pg) -> Promise<void>: every rank starts from rank 0's
  // parameters and buffers (a broadcast, as DistributedDataParallel does at
  // construction), and from then on each trainStep all-reduces gradients.
  // Dropout draws a per-rank stream: rank 0 keeps `seed` (a world of one
  // trains exactly as without a group), rank r uses SplitMix64(seed ^ SplitMix64(r)).
  Napi::Value JoinProcessGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    auto g = DistGroupArg(env, info[0], "joinProcessGroup");
    auto* w = new PromiseWorker(
        env,
        [this, g]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("TorchModel: model was disposed");
          TorchGuard([&] {
            torch::NoGradGuard no_grad;
            std::vector<torch::Tensor> all;
            for (const auto& p : net_->parameters()) all.push_back(p);
            for (const auto& b : net_->buffers()) all.push_back(b);
            std::vector<torch::Tensor> flat_parts;
            for (const auto& t : all) flat_parts.push_back(t.detach().to(torch::kCPU, torch::kFloat32).reshape({-1}));
            std::vector<torch::Tensor> flat{torch::cat(flat_parts)};
            // Ranks reach this after reading their data, possibly far apart:
            // wait for all under the rendezvous bound, then broadcast.
            DistStoreBarrier(*g, "ranks ready to train");
            DistBroadcast(*g, flat, 0, "initial parameters from rank 0");
            int64_t at = 0;
            for (auto& t : all) {
              t.copy_(flat[0].narrow(0, at, t.numel()).view(t.sizes()));
              at += t.numel();
            }
          });
          const int rank = DistRank(*g);
          if (rank > 0) rng_seed_ = SplitMix64(cfg_.seed ^ SplitMix64(static_cast<uint64_t>(rank)));
          dist_ = g;
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  // After backward of this rank's class-weighted mean loss L_r = S_r / W_r
  // (W_r: the sum of its rows' class weights): one SUM all-reduce of
  // [W_r * grad_r..., W_r * L_r, W_r] and a division by W = sum W_r. That is
  // the gradient and loss of the whole global batch (S / W), as one process
  // holding every rank's rows computes them, even when the ranks' shares
  // weigh differently (plain DDP averaging assumes equal shares). Every rank
  // then holds the same gradient, clips it the same way and takes the same
  // AdamW step, so the replicas stay equal. Returns the global loss.
  torch::Tensor AverageGradients(const torch::Tensor& local_loss, const torch::Tensor& y, const torch::Tensor& class_weights) {
    torch::NoGradGuard no_grad;
    const double wr = class_weights.index_select(0, y).sum().item<double>();
    std::vector<torch::Tensor> params = net_->parameters();
    std::vector<torch::Tensor> parts;
    for (const auto& p : params) {
      auto g = p.grad().defined() ? p.grad() : torch::zeros_like(p);
      parts.push_back(g.to(torch::kCPU, torch::kFloat32).reshape({-1}) * wr);
    }
    parts.push_back(torch::tensor({local_loss.item<double>() * wr, wr}, torch::kFloat32));
    std::vector<torch::Tensor> flat{torch::cat(parts)};
    DistAllReduceSum(*dist_, flat, "gradients of step " + std::to_string(steps_.load()));
    const int64_t n = flat[0].numel();
    const double w = flat[0][n - 1].item<double>();
    const double loss = flat[0][n - 2].item<double>() / w;
    // float32 like DDP's buckets: the bytes on the wire are the parameter bytes.
    int64_t at = 0;
    for (auto& p : params) {
      auto g = (flat[0].narrow(0, at, p.numel()) / w).view(p.sizes()).to(p.device(), p.scalar_type());
      if (p.grad().defined()) p.mutable_grad().copy_(g);
      else p.mutable_grad() = g;
      at += p.numel();
    }
    return torch::tensor(loss, torch::kFloat64);
  }

  std::shared_ptr<DistGroup> dist_;  // set by joinProcessGroup

  Config cfg_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<NetImpl> net_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  int64_t num_params_ = 0;
  std::atomic<int64_t> steps_{0};
  uint64_t rng_seed_ = 0;  // per-step dropout seeds derive from (rng_seed_, steps_)
  std::mutex mu_;  // one operation at a time per model
};

// ---------------------------------------------------------------------------
// AutoencoderModel: the reconstruction autoencoder of `cis490 train --model ae`
// (issue 13), n -> 64 -> 32 -> 16 -> 32 -> 64 -> n, Linear + BatchNorm1d +
// ReLU between layers, sigmoid output. Inputs are min-max scaled and imputed
// by the TS side (src/anomaly/autoencoder.ts), so the targets are the inputs.
// Its own class (not a TorchModel kind): it has no classes, no mask, and
// three read-out entry points (score, reconstruct, latent).

struct AeConfig {
  int64_t n_features = 0;
  double weight_decay = 0.0;
  uint64_t seed = 0;
  int threads = 0;
  std::string device = "auto";
  std::string signature() const {
    std::ostringstream s;
    s << "cis490-torch-ae/1 n_features=" << n_features << " widths=64,32,16";
    return s.str();
  }
};

constexpr int64_t kAeLatent = 16;

struct AeNetImpl : torch::nn::Module {
  torch::nn::Sequential encoder, decoder;
  explicit AeNetImpl(int64_t n) {
    auto block = [](torch::nn::Sequential& s, int64_t in, int64_t out) {
      s->push_back(torch::nn::Linear(in, out));
      s->push_back(torch::nn::BatchNorm1d(out));
      s->push_back(torch::nn::ReLU());
    };
    block(encoder, n, 64);
    block(encoder, 64, 32);
    block(encoder, 32, kAeLatent);
    block(decoder, kAeLatent, 32);
    block(decoder, 32, 64);
    decoder->push_back(torch::nn::Linear(64, n));
    decoder->push_back(torch::nn::Sigmoid());
    register_module("encoder", encoder);
    register_module("decoder", decoder);
  }
};

class AutoencoderModel : public Napi::ObjectWrap<AutoencoderModel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AutoencoderModel",
                       {
                           InstanceMethod<&AutoencoderModel::TrainStep>("trainStep"),
                           InstanceMethod<&AutoencoderModel::Score>("score"),
                           InstanceMethod<&AutoencoderModel::Reconstruct>("reconstruct"),
                           InstanceMethod<&AutoencoderModel::Latent>("latent"),
                           InstanceMethod<&AutoencoderModel::Save>("save"),
                           InstanceMethod<&AutoencoderModel::Load>("load"),
                           InstanceMethod<&AutoencoderModel::ParameterBytes>("parameterBytes"),
                           InstanceMethod<&AutoencoderModel::NamedTensors>("namedTensors"),
                           InstanceMethod<&AutoencoderModel::Dispose>("dispose"),
                           InstanceAccessor<&AutoencoderModel::NumParameters>("numParameters"),
                           InstanceAccessor<&AutoencoderModel::DeviceName>("device"),
                           InstanceAccessor<&AutoencoderModel::Steps>("steps"),
                       });
  }

  explicit AutoencoderModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AutoencoderModel>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) ThrowType(env, "AutoencoderModel: config must be an object");
    auto o = info[0].As<Napi::Object>();
    auto has = [&](const char* k) { return !o.Get(k).IsUndefined() && !o.Get(k).IsNull(); };
    cfg_.n_features = IntArg(env, o.Get("n_features"), "config.n_features", 1, int64_t{1} << 20);
    if (has("weight_decay")) {
      cfg_.weight_decay = NumberArg(env, o.Get("weight_decay"), "config.weight_decay");
      if (!(cfg_.weight_decay >= 0 && std::isfinite(cfg_.weight_decay))) ThrowRange(env, "config.weight_decay must be >= 0");
    }
    if (has("seed")) cfg_.seed = static_cast<uint64_t>(IntArg(env, o.Get("seed"), "config.seed", 0, (int64_t{1} << 53)));
    cfg_.threads = has("threads") ? static_cast<int>(IntArg(env, o.Get("threads"), "config.threads", 1, 4096)) : AvailableCores();
    if (has("device")) {
      if (!o.Get("device").IsString()) ThrowType(env, "config.device must be \"auto\", \"cpu\" or \"cuda\"");
      cfg_.device = o.Get("device").As<Napi::String>().Utf8Value();
      if (cfg_.device != "auto" && cfg_.device != "cpu" && cfg_.device != "cuda") {
        ThrowRange(env, "config.device must be \"auto\", \"cpu\" or \"cuda\", got \"" + cfg_.device + "\"");
      }
    }
    bool cuda = torch::cuda::is_available();
    if (cfg_.device == "cuda" && !cuda) throw Napi::Error::New(env, "AutoencoderModel: device \"cuda\" requested but this libtorch has no usable CUDA device");
    device_ = (cfg_.device == "cuda" || (cfg_.device == "auto" && cuda)) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    try {
      std::lock_guard<std::mutex> rng(g_rng_mutex);
      TorchGuard([&] {
        torch::manual_seed(cfg_.seed);
        net_ = std::make_shared<AeNetImpl>(cfg_.n_features);
        net_->to(device_);
        std::vector<torch::Tensor> decay, no_decay;
        for (const auto& p : net_->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).weight_decay(cfg_.weight_decay)));
        groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).weight_decay(0.0)));
        opt_ = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(1e-3));
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("AutoencoderModel: ") + e.what());
    }
    for (const auto& p : net_->parameters()) num_params_ += p.numel();
  }

 private:
  void CheckAlive(Napi::Env env) {
    if (!net_) throw Napi::Error::New(env, "AutoencoderModel: model was disposed");
  }

  int64_t Rows(Napi::Env env, const Napi::Value& v, const char* what, int64_t min_rows) {
    auto x = TypedArg<float>(env, v, "x", "Float32Array");
    const int64_t n = static_cast<int64_t>(x.ElementLength());
    if (n == 0 || n % cfg_.n_features != 0 || n / cfg_.n_features < min_rows) {
      std::ostringstream s;
      s << what << ": x has " << n << " values, expected a multiple of n_features = " << cfg_.n_features << " covering at least "
        << min_rows << " row(s)";
      ThrowRange(env, s.str());
    }
    return n / cfg_.n_features;
  }

  // trainStep(x, lr, clipNorm) -> Promise<{loss, gradNorm, skipped}>: one
  // AdamW step on the batch's mean squared reconstruction error. BatchNorm
  // needs 2+ rows in training mode. x is copied.
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    const int64_t b = Rows(env, info[0], "trainStep", 2);
    const double lr = NumberArg(env, info[1], "lr");
    if (!(lr >= 0 && std::isfinite(lr))) ThrowRange(env, "trainStep: lr must be finite and >= 0");
    const double clip = info[2].IsUndefined() ? 0.0 : NumberArg(env, info[2], "clipNorm");
    if (!(clip >= 0) || std::isnan(clip)) ThrowRange(env, "trainStep: clipNorm must be >= 0 (0 = no clipping)");
    auto x = std::make_shared<std::vector<float>>(CopyTyped(info[0].As<Napi::Float32Array>()));
    struct Out { double loss = 0, grad_norm = 0; bool skipped = false; };
    auto out = std::make_shared<Out>();
    auto* w = new PromiseWorker(
        env,
        [this, x, lr, clip, b, out]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("AutoencoderModel: model was disposed");
          CheckFinite(x->data(), x->size(), cfg_.n_features);
          std::lock_guard<std::mutex> rng(g_rng_mutex);
          TorchGuard([&] {
            SetThreads(cfg_.threads);
            torch::manual_seed(SplitMix64(cfg_.seed ^ SplitMix64(static_cast<uint64_t>(steps_))));
            net_->train();
            auto xt = torch::from_blob(x->data(), {b, cfg_.n_features}, torch::kFloat32).to(device_);
            for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
            opt_->zero_grad();
            auto loss = F::mse_loss(net_->decoder->forward(net_->encoder->forward(xt)), xt);
            loss.backward();
            double gn = torch::nn::utils::clip_grad_norm_(net_->parameters(), clip > 0 ? clip : std::numeric_limits<double>::infinity());
            out->loss = loss.item<double>();
            out->grad_norm = gn;
            out->skipped = !std::isfinite(out->loss) || !std::isfinite(gn);
            if (!out->skipped) opt_->step();
            steps_++;
          });
        },
        [out](Napi::Env env) -> Napi::Value {
          auto r = Napi::Object::New(env);
          r.Set("loss", out->loss);
          r.Set("gradNorm", out->grad_norm);
          r.Set("skipped", out->skipped);
          return r;
        });
    w->Keep(Value());
    return w->Run();
  }

  // Eval-mode pass over x (read in place, in chunks); `what` picks the
  // per-row output: 0 = reconstruction MSE [B], 1 = reconstruction [B, n],
  // 2 = bottleneck [B, 16].
  Napi::Value Forward(const Napi::CallbackInfo& info, int what, const char* name) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    const int64_t b = Rows(env, info[0], name, 1);
    auto xa = info[0].As<Napi::Float32Array>();
    const float* x = xa.Data();
    const int64_t width = what == 0 ? 1 : what == 1 ? cfg_.n_features : kAeLatent;
    auto out = std::make_shared<std::vector<float>>();
    auto* w = new PromiseWorker(
        env,
        [this, x, b, what, width, out]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("AutoencoderModel: model was disposed");
          CheckFinite(x, static_cast<size_t>(b * cfg_.n_features), cfg_.n_features);
          TorchGuard([&] {
            SetThreads(cfg_.threads);
            torch::NoGradGuard no_grad;
            net_->eval();
            out->resize(static_cast<size_t>(b * width));
            const int64_t chunk = 4096;
            for (int64_t s = 0; s < b; s += chunk) {
              int64_t n = std::min(chunk, b - s);
              auto xt = torch::from_blob(const_cast<float*>(x + s * cfg_.n_features), {n, cfg_.n_features}, torch::kFloat32).to(device_);
              auto z = net_->encoder->forward(xt);
              torch::Tensor r;
              if (what == 2) r = z;
              else {
                auto rec = net_->decoder->forward(z);
                r = what == 1 ? rec : (rec - xt).pow(2).mean(1);
              }
              r = r.to(torch::kCPU).contiguous();
              std::memcpy(out->data() + s * width, r.data_ptr<float>(), n * width * sizeof(float));
            }
          });
        },
        [out](Napi::Env env) -> Napi::Value { return NewFloat32(env, *out); });
    w->Keep(Value());
    w->Keep(info[0].As<Napi::Object>());
    return w->Run();
  }

  // score(x) -> Promise<Float32Array [B]>: per-row reconstruction MSE.
  Napi::Value Score(const Napi::CallbackInfo& info) { return Forward(info, 0, "score"); }
  // reconstruct(x) -> Promise<Float32Array [B, n_features]>.
  Napi::Value Reconstruct(const Napi::CallbackInfo& info) { return Forward(info, 1, "reconstruct"); }
  // latent(x) -> Promise<Float32Array [B, 16]>: the bottleneck after its BatchNorm + ReLU.
  Napi::Value Latent(const Napi::CallbackInfo& info) { return Forward(info, 2, "latent"); }

  static std::string PathOf(Napi::Env env, const Napi::Value& v, const char* what) {
    if (!v.IsString() || v.As<Napi::String>().Utf8Value().empty()) ThrowType(env, std::string(what) + ": path must be a non-empty string");
    return v.As<Napi::String>().Utf8Value();
  }

  // save(path) / load(path): weights, BatchNorm statistics, optimizer state
  // and step count; the caller makes the file atomic (src/engines/autoencoder.ts).
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::string path = PathOf(env, info[0], "save");
    auto* w = new PromiseWorker(
        env,
        [this, path]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("AutoencoderModel: model was disposed");
          TorchGuard([&] {
            torch::serialize::OutputArchive root, model, optim;
            net_->save(model);
            opt_->save(optim);
            root.write("signature", c10::IValue(cfg_.signature()));
            root.write("steps", torch::tensor(steps_.load(), torch::kInt64));
            root.write("model", model);
            root.write("optimizer", optim);
            root.save_to(path);
          });
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::string path = PathOf(env, info[0], "load");
    auto* w = new PromiseWorker(
        env,
        [this, path]() {
          std::lock_guard<std::mutex> lock(mu_);
          if (!net_) throw std::runtime_error("AutoencoderModel: model was disposed");
          TorchGuard([&] {
            torch::serialize::InputArchive root, model, optim;
            root.load_from(path, device_);
            c10::IValue sig;
            if (!root.try_read("signature", sig) || !sig.isString()) throw std::runtime_error("load: " + path + " is not a cis490 autoencoder checkpoint");
            if (sig.toStringRef() != cfg_.signature()) {
              throw std::runtime_error("load: checkpoint was saved by a different autoencoder:\n  file:  " + sig.toStringRef() + "\n  model: " + cfg_.signature());
            }
            root.read("model", model);
            net_->load(model);
            if (root.try_read("optimizer", optim)) opt_->load(optim);
            torch::Tensor steps;
            if (root.try_read("steps", steps)) steps_ = steps.item<int64_t>();
          });
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    w->Keep(Value());
    return w->Run();
  }

  Napi::Value ParameterBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint8_t> bytes;
    try {
      TorchGuard([&] {
        auto add = [&](const torch::Tensor& t) {
          auto c = t.detach().to(torch::kCPU).contiguous();
          auto* p = static_cast<const uint8_t*>(c.data_ptr());
          bytes.insert(bytes.end(), p, p + c.numel() * c.element_size());
        };
        for (const auto& p : net_->parameters()) add(p);
        for (const auto& bf : net_->buffers()) add(bf);
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
  }

  // namedTensors() -> [{name, shape, data}] ("encoder.0.weight",
  // "encoder.1.running_mean", ...) as float32 copies, for the ONNX exporter.
  Napi::Value NamedTensors(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAlive(env);
    std::lock_guard<std::mutex> lock(mu_);
    auto out = Napi::Array::New(env);
    uint32_t k = 0;
    try {
      TorchGuard([&] {
        auto add = [&](const std::string& name, const torch::Tensor& t) {
          auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
          std::vector<float> data(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
          auto o = Napi::Object::New(env);
          o.Set("name", name);
          auto shape = Napi::Array::New(env, c.dim());
          for (int64_t d = 0; d < c.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, (double)c.size(d)));
          o.Set("shape", shape);
          o.Set("data", NewFloat32(env, data));
          out.Set(k++, o);
        };
        for (const auto& kv : net_->named_parameters()) add(kv.key(), kv.value());
        for (const auto& kv : net_->named_buffers()) add(kv.key(), kv.value());
      });
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return out;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    opt_.reset();
    net_.reset();
    return info.Env().Undefined();
  }

  Napi::Value NumParameters(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)num_params_); }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), device_.is_cuda() ? "cuda" : "cpu"); }
  Napi::Value Steps(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)steps_); }

  AeConfig cfg_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<AeNetImpl> net_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  int64_t num_params_ = 0;
  std::atomic<int64_t> steps_{0};
  std::mutex mu_;
};

// OpenBLAS (pulled in by libtorch) runs its own pthread pool, which fights
// libtorch's OpenMP threads. Limit it to one thread. Node dlopens addons
// without RTLD_GLOBAL, so look the library up by name (RTLD_NOLOAD: only if
// it is already loaded) rather than via RTLD_DEFAULT.
int BlasCall(std::initializer_list<const char*> libs, const char* fn, int arg, bool set) {
  for (const char* lib : libs) {
    void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
    if (!h) continue;
    void* sym = dlsym(h, fn);
    int r = -1;
    if (sym && set) { reinterpret_cast<void (*)(int)>(sym)(arg); r = arg; }
    if (sym && !set) r = reinterpret_cast<int (*)()>(sym)();
    dlclose(h);
    if (sym) return r;
  }
  return -1;
}

int OpenBlasCall(const char* fn, int arg, bool set) {
  return BlasCall({"libopenblas.so.0", "libblas.so.3", "libopenblas.so"}, fn, arg, set);
}

}  // namespace

void LimitOpenBlasThreads() { OpenBlasCall("openblas_set_num_threads", 1, true); }
int OpenBlasThreads() { return OpenBlasCall("openblas_get_num_threads", 0, false); }
// BLIS threads only when BLIS_NUM_THREADS (or a call) asks; -1: BLIS not loaded.
int BlisThreads() { return BlasCall({"libblis.so.4", "libblas.so.3"}, "bli_thread_get_num_threads", 0, false); }

Napi::Object TorchInfo(Napi::Env env) {
  auto o = Napi::Object::New(env);
  o.Set("torchVersion", TORCH_VERSION);
  o.Set("cudaAvailable", torch::cuda::is_available());
  o.Set("cudaDeviceCount", static_cast<double>(torch::cuda::device_count()));
  o.Set("openblasThreads", OpenBlasThreads());
  o.Set("blisThreads", BlisThreads());
  // On this (the JS) thread; jobs set their own count (SetThreads).
  o.Set("intraOpThreads", at::get_num_threads());
  o.Set("interOpThreads", at::get_num_interop_threads());
  o.Set("mkl", at::hasMKL());
  o.Set("mkldnn", at::hasMKLDNN());
  o.Set("availableCores", AvailableCores());
  o.Set("parallelInfo", at::get_parallel_info());
  return o;
}

void InitTorch(Napi::Env env, Napi::Object exports) { exports.Set("TorchModel", TorchModel::Define(env)); }
void InitAutoencoder(Napi::Env env, Napi::Object exports) { exports.Set("AutoencoderModel", AutoencoderModel::Define(env)); }

}  // namespace engines
