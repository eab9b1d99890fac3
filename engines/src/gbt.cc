// Gradient-boosted trees through libxgboost's C API (Debian's 1.7).
//
// trainGbt: multi:softprob, hist, NaN = missing, sample weights, and our own
// early-stopping loop (the C API has none): one XGBoosterUpdateOneIter per
// round, XGBoosterEvalOneIter on train and validation, keep the round with
// the lowest validation mlogloss, stop after `earlyStoppingRounds` rounds
// without a strict improvement (xgboost-python's rule). The returned model is
// sliced to rounds [0, bestIteration], so every consumer of the JSON (ours,
// xgboost-python, the ONNX exporter) sees the selected model without needing
// an iteration range.
//
// The training matrix is, by default, a QuantileDMatrix built through
// XGBoost's callback iterator (XGQuantileDMatrixCreateFromCallback): batches
// of rows are handed to XGBoost as views into the caller's Float32Array (no
// copy), sketched, and kept only as the quantised histogram index (about one
// byte per value) instead of a full float copy plus XGBoost's CSR copy.
// `matrix: "dense"` keeps the older XGDMatrixCreateFromMat path (a copy).
//
// Or the training rows never exist whole anywhere: `feed` is a GbtFeed, a
// bounded queue of row batches that JavaScript fills on the main thread as it
// reads them (src/engines/xgboost.ts reads the Parquet features file batch by
// batch) while XGBoost's iterator callbacks drain it on the training worker.
// Each XGBoost pass over the data (reset) asks JavaScript for a fresh pass.
#include <malloc.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <sstream>

#include "common.h"
#include "engines.h"

namespace engines {
namespace {

void Check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("xgboost: ") + what + ": " + XGBGetLastError());
}

struct DMatrix {
  DMatrixHandle h = nullptr;
  ~DMatrix() { if (h) XGDMatrixFree(h); }
};
struct Booster {
  BoosterHandle h = nullptr;
  ~Booster() { if (h) XGBoosterFree(h); }
};

struct Split {
  std::vector<float> x, y, w;
  // Quantile mode: the caller's values, read in place (the worker keeps the array alive).
  const float* xp = nullptr;
  int64_t rows = 0;
};

// Feeds a Split to XGBoost's iterator callbacks, `batch` rows at a time.
struct BatchIter {
  const Split* s = nullptr;
  int64_t cols = 0, batch = 0, at = 0;
  DMatrixHandle proxy = nullptr;
  std::string iface;
};

extern "C" void BatchReset(DataIterHandle h) { static_cast<BatchIter*>(h)->at = 0; }

extern "C" int BatchNext(DataIterHandle h) {
  auto* it = static_cast<BatchIter*>(h);
  const Split& s = *it->s;
  if (it->at >= s.rows) return 0;
  const int64_t n = std::min(it->batch, s.rows - it->at);
  std::ostringstream a;
  a << "{\"data\": [" << reinterpret_cast<uintptr_t>(s.xp + it->at * it->cols) << ", true], \"shape\": [" << n << ", "
    << it->cols << "], \"typestr\": \"<f4\", \"version\": 3}";
  it->iface = a.str();
  if (XGProxyDMatrixSetDataDense(it->proxy, it->iface.c_str()) != 0) return -1;
  if (XGDMatrixSetFloatInfo(it->proxy, "label", s.y.data() + it->at, n) != 0) return -1;
  if (!s.w.empty() && XGDMatrixSetFloatInfo(it->proxy, "weight", s.w.data() + it->at, n) != 0) return -1;
  it->at += n;
  return 1;
}

void MakeQuantileDMatrix(DMatrix& d, const Split& s, int64_t cols, int nthread, int max_bin, int64_t batch,
                         DMatrixHandle ref = nullptr) {
  DMatrix proxy;
  Check(XGProxyDMatrixCreate(&proxy.h), "creating the proxy DMatrix");
  BatchIter it;
  it.s = &s;
  it.cols = cols;
  it.batch = batch;
  it.proxy = proxy.h;
  std::string cfg = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + ", \"max_bin\": " + std::to_string(max_bin) + "}";
  Check(XGQuantileDMatrixCreateFromCallback(&it, proxy.h, ref, BatchReset, BatchNext, cfg.c_str(), &d.h),
        "creating QuantileDMatrix from batches");
}

// The queue between the JavaScript reader (producer, main thread) and
// XGBoost's iterator (consumer, the training worker). Passes are numbered:
// the consumer starts pass k + 1 on XGBoost's reset; the producer polls
// state(), (re)reads the data from its start for the newest pass, and its
// pushes for an older pass are refused, so a stale reader stops.
struct Feed {
  struct Batch {
    std::vector<float> x, y, w;
    int64_t rows = 0;
  };
  std::mutex m;
  std::condition_variable cv;
  std::deque<Batch> q;
  int64_t cols = 0;
  size_t cap = 2;
  int pass = -1;
  bool pass_end = false;
  bool closed = false;
  std::string error;
  int64_t rows_seen = 0, rows_in_pass = 0;

  void BeginPass() {
    std::lock_guard<std::mutex> l(m);
    pass++;
    q.clear();
    pass_end = false;
    rows_in_pass = 0;
    cv.notify_all();
  }
  // Blocks until a batch of the current pass, its end (false) or a producer
  // error (false; the caller checks `error`).
  bool Next(Batch& out) {
    std::unique_lock<std::mutex> l(m);
    if (pass < 0) {  // XGBoost may start reading without a reset first
      l.unlock();
      BeginPass();
      l.lock();
    }
    cv.wait(l, [&] { return !q.empty() || pass_end || !error.empty(); });
    if (!error.empty() || q.empty()) return false;
    out = std::move(q.front());
    q.pop_front();
    rows_in_pass += out.rows;
    rows_seen = std::max(rows_seen, rows_in_pass);
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> l(m);
    closed = true;
    q.clear();
  }
  std::string Error() {
    std::lock_guard<std::mutex> l(m);
    return error;
  }
};

struct FeedIter {
  Feed* f = nullptr;
  DMatrixHandle proxy = nullptr;
  Feed::Batch cur;  // the proxy points into it until the next call
  std::string iface;
};

extern "C" void FeedReset(DataIterHandle h) {
  // Between XGBoost's passes: hand the heap it freed (the quantile sketch,
  // ~2.5 MB a column) back to the system before the index is built.
  malloc_trim(0);
  static_cast<FeedIter*>(h)->f->BeginPass();
}

extern "C" int FeedNext(DataIterHandle h) {
  auto* it = static_cast<FeedIter*>(h);
  if (!it->f->Next(it->cur)) return 0;
  const Feed::Batch& b = it->cur;
  std::ostringstream a;
  a << "{\"data\": [" << reinterpret_cast<uintptr_t>(b.x.data()) << ", true], \"shape\": [" << b.rows << ", " << it->f->cols
    << "], \"typestr\": \"<f4\", \"version\": 3}";
  it->iface = a.str();
  if (XGProxyDMatrixSetDataDense(it->proxy, it->iface.c_str()) != 0) return -1;
  if (XGDMatrixSetFloatInfo(it->proxy, "label", b.y.data(), b.rows) != 0) return -1;
  if (!b.w.empty() && XGDMatrixSetFloatInfo(it->proxy, "weight", b.w.data(), b.rows) != 0) return -1;
  return 1;
}

void MakeQuantileDMatrixFromFeed(DMatrix& d, Feed& f, int nthread, int max_bin) {
  DMatrix proxy;
  Check(XGProxyDMatrixCreate(&proxy.h), "creating the proxy DMatrix");
  FeedIter it;
  it.f = &f;
  it.proxy = proxy.h;
  std::string cfg = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + ", \"max_bin\": " + std::to_string(max_bin) + "}";
  const int rc = XGQuantileDMatrixCreateFromCallback(&it, proxy.h, nullptr, FeedReset, FeedNext, cfg.c_str(), &d.h);
  const std::string err = f.Error();
  f.Close();
  if (!err.empty()) throw std::runtime_error("reading the training batches: " + err);
  Check(rc, "creating QuantileDMatrix from fed batches");
  if (f.rows_seen == 0) throw std::runtime_error("the training feed gave no rows");
}

// Marks GbtFeed objects, so that trainGbt never unwraps another class's.
const napi_type_tag kFeedTag = {0x63697334393066ULL, 0x6762742d66656564ULL};

// JavaScript's handle on a Feed: push(pass, x, y, w?) -> 1 queued, 0 full
// (retry later), -1 refused (an older pass, or training is over);
// end(pass); fail(message); close(); state() -> {pass, closed}.
class GbtFeed : public Napi::ObjectWrap<GbtFeed> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GbtFeed",
                       {InstanceMethod("push", &GbtFeed::Push), InstanceMethod("end", &GbtFeed::End),
                        InstanceMethod("fail", &GbtFeed::Fail), InstanceMethod("close", &GbtFeed::CloseJs),
                        InstanceMethod("state", &GbtFeed::State)});
  }
  static std::shared_ptr<Feed> FeedOf(Napi::Env env, const Napi::Value& v);

  GbtFeed(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GbtFeed>(info), feed_(std::make_shared<Feed>()) {
    info.This().As<Napi::Object>().TypeTag(&kFeedTag);
    feed_->cols = IntArg(info.Env(), info[0], "nCols", 1, int64_t{1} << 24);
    if (info.Length() > 1 && !info[1].IsUndefined()) feed_->cap = static_cast<size_t>(IntArg(info.Env(), info[1], "queueBatches", 1, 64));
  }
  ~GbtFeed() { feed_->Close(); }

 private:
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t pass = IntArg(env, info[0], "pass", 0, 1 << 30);
    auto x = TypedArg<float>(env, info[1], "x", "Float32Array");
    auto y = LabelsArg(env, info[2], "y");
    const int64_t rows = static_cast<int64_t>(y.size());
    if ((int64_t)x.ElementLength() != rows * feed_->cols) {
      ThrowRange(env, "GbtFeed.push: x has " + std::to_string(x.ElementLength()) + " values, expected y.length * nCols = " +
                          std::to_string(rows * feed_->cols));
    }
    Feed::Batch b;
    b.rows = rows;
    if (!info[3].IsUndefined() && !info[3].IsNull()) {
      b.w = CopyTyped(TypedArg<float>(env, info[3], "w", "Float32Array"));
      if ((int64_t)b.w.size() != rows) ThrowRange(env, "GbtFeed.push: w must have y.length values");
      for (float w : b.w) {
        if (!(w >= 0 && std::isfinite(w))) ThrowRange(env, "GbtFeed.push: weights must be finite and >= 0");
      }
    }
    {
      std::lock_guard<std::mutex> l(feed_->m);
      if (feed_->closed || pass != feed_->pass || feed_->pass_end) return Napi::Number::New(env, -1);
      if (feed_->q.size() >= feed_->cap) return Napi::Number::New(env, 0);
    }
    if (rows == 0) return Napi::Number::New(env, 1);
    b.x = CopyTyped(x);
    b.y.assign(y.begin(), y.end());
    std::lock_guard<std::mutex> l(feed_->m);
    if (feed_->closed || pass != feed_->pass || feed_->pass_end) return Napi::Number::New(env, -1);
    feed_->q.push_back(std::move(b));
    feed_->cv.notify_all();
    return Napi::Number::New(env, 1);
  }
  Napi::Value End(const Napi::CallbackInfo& info) {
    const int64_t pass = IntArg(info.Env(), info[0], "pass", 0, 1 << 30);
    std::lock_guard<std::mutex> l(feed_->m);
    if (pass == feed_->pass) feed_->pass_end = true;
    feed_->cv.notify_all();
    return info.Env().Undefined();
  }
  Napi::Value Fail(const Napi::CallbackInfo& info) {
    std::string msg = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "the batch reader failed";
    std::lock_guard<std::mutex> l(feed_->m);
    feed_->error = msg.empty() ? "the batch reader failed" : msg;
    feed_->cv.notify_all();
    return info.Env().Undefined();
  }
  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    feed_->Close();
    return info.Env().Undefined();
  }
  Napi::Value State(const Napi::CallbackInfo& info) {
    auto o = Napi::Object::New(info.Env());
    std::lock_guard<std::mutex> l(feed_->m);
    o.Set("pass", feed_->pass);
    o.Set("closed", feed_->closed);
    return o;
  }

  std::shared_ptr<Feed> feed_;
};

std::shared_ptr<Feed> GbtFeed::FeedOf(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kFeedTag)) ThrowType(env, "trainGbt: feed must be a GbtFeed");
  return Napi::ObjectWrap<GbtFeed>::Unwrap(v.As<Napi::Object>())->feed_;
}

void MakeDMatrix(DMatrix& d, const Split& s, int64_t cols, int nthread) {
  const float* x = s.x.empty() ? s.xp : s.x.data();
  Check(XGDMatrixCreateFromMat_omp(x, s.rows, cols, std::numeric_limits<float>::quiet_NaN(), &d.h, nthread),
        "creating DMatrix");
  Check(XGDMatrixSetFloatInfo(d.h, "label", s.y.data(), s.rows), "setting labels");
  if (!s.w.empty()) Check(XGDMatrixSetFloatInfo(d.h, "weight", s.w.data(), s.rows), "setting weights");
}

// "[12]\ttrain-mlogloss:0.51\tval-mlogloss:0.63" -> value for `name`.
double ParseMetric(const std::string& line, const std::string& name) {
  const std::string key = "\t" + name + "-mlogloss:";
  auto p = line.find(key);
  if (p == std::string::npos) throw std::runtime_error("xgboost: cannot find " + name + "-mlogloss in \"" + line + "\"");
  return std::strtod(line.c_str() + p + key.size(), nullptr);
}

std::string ParamString(Napi::Env env, const Napi::Value& v, const std::string& key) {
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "1" : "0";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) ThrowRange(env, "params." + key + " must be finite");
    std::ostringstream s;
    s.precision(17);
    s << d;
    return s.str();
  }
  ThrowType(env, "params." + key + " must be a string, number or boolean");
}

// Reads one split (x, y, optional weights) from the options object.
Split ReadSplit(Napi::Env env, Napi::Object o, const char* xk, const char* nk, const char* yk, const char* wk,
                int64_t cols, int64_t num_class, bool copy_x = true) {
  Split s;
  s.rows = IntArg(env, o.Get(nk), nk, 1, int64_t{1} << 40);
  auto x = TypedArg<float>(env, o.Get(xk), xk, "Float32Array");
  if ((int64_t)x.ElementLength() != s.rows * cols) {
    ThrowRange(env, std::string(xk) + " has " + std::to_string(x.ElementLength()) + " values, expected " + nk + " * nCols = " +
                        std::to_string(s.rows * cols));
  }
  auto y = LabelsArg(env, o.Get(yk), yk);
  if ((int64_t)y.size() != s.rows) ThrowRange(env, std::string(yk) + " must have " + nk + " labels");
  s.y.resize(y.size());
  for (size_t i = 0; i < y.size(); i++) {
    if (y[i] < 0 || y[i] >= num_class) {
      ThrowRange(env, std::string(yk) + "[" + std::to_string(i) + "] = " + std::to_string(y[i]) + " is outside [0, numClass)");
    }
    s.y[i] = static_cast<float>(y[i]);
  }
  Napi::Value wv = o.Get(wk);
  if (!wv.IsUndefined() && !wv.IsNull()) {
    s.w = CopyTyped(TypedArg<float>(env, wv, wk, "Float32Array"));
    if ((int64_t)s.w.size() != s.rows) ThrowRange(env, std::string(wk) + " must have " + nk + " values");
    for (float w : s.w) {
      if (!(w >= 0 && std::isfinite(w))) ThrowRange(env, std::string(wk) + " must be finite and >= 0");
    }
  }
  if (copy_x) s.x = CopyTyped(x);  // copied: training outlives this call; NaN stays NaN (= missing)
  else s.xp = x.Data();
  return s;
}

struct HistoryRow { int round; double train, val; };

// trainGbt(options) -> Promise<{modelJson, bestIteration, bestScore, roundsTrained, history}>
Napi::Value TrainGbt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowType(env, "trainGbt: options must be an object");
  auto o = info[0].As<Napi::Object>();
  const int64_t cols = IntArg(env, o.Get("nCols"), "nCols", 1, int64_t{1} << 24);
  const int64_t num_class = IntArg(env, o.Get("numClass"), "numClass", 2, 1 << 16);
  const int64_t rounds = IntArg(env, o.Get("rounds"), "rounds", 1, 1 << 20);
  Napi::Value esv = o.Get("earlyStoppingRounds");
  const int64_t es = (esv.IsUndefined() || esv.IsNull()) ? 0 : IntArg(env, esv, "earlyStoppingRounds", 0, 1 << 20);

  bool quantile = true;
  Napi::Value mv = o.Get("matrix");
  if (!mv.IsUndefined() && !mv.IsNull()) {
    std::string m = mv.IsString() ? mv.As<Napi::String>().Utf8Value() : "";
    if (m != "quantile" && m != "dense") ThrowType(env, "trainGbt: matrix must be \"quantile\" or \"dense\"");
    quantile = m == "quantile";
  }
  // Cross-host selection predicts each fold's model at a round chosen from
  // every fold's curve, possibly past that fold's own best: keep all rounds.
  Napi::Value sv = o.Get("sliceToBest");
  const bool slice_to_best = sv.IsUndefined() || sv.IsNull() || sv.ToBoolean().Value();
  Napi::Value bv = o.Get("batchRows");
  const int64_t batch_rows = (bv.IsUndefined() || bv.IsNull()) ? 65536 : IntArg(env, bv, "batchRows", 1, int64_t{1} << 40);
  std::shared_ptr<Feed> feed;
  Napi::Value fv = o.Get("feed");
  if (!fv.IsUndefined() && !fv.IsNull()) {
    feed = GbtFeed::FeedOf(env, fv);
    if (!quantile) ThrowType(env, "trainGbt: feed needs matrix \"quantile\"");
    if (feed->cols != cols) ThrowRange(env, "trainGbt: the feed's nCols differs from nCols");
  }
  auto train = feed ? std::make_shared<Split>() : std::make_shared<Split>(ReadSplit(env, o, "x", "nRows", "y", "weights", cols, num_class, !quantile));
  auto val = std::make_shared<Split>();
  const bool has_val = !o.Get("xVal").IsUndefined() && !o.Get("xVal").IsNull();
  // Validation rows are read in place too (the worker keeps xVal alive).
  if (has_val) *val = ReadSplit(env, o, "xVal", "nValRows", "yVal", "wVal", cols, num_class, false);
  if (es > 0 && !has_val) ThrowType(env, "trainGbt: earlyStoppingRounds needs a validation set (xVal, nValRows, yVal)");

  // Engine-owned parameters first; the caller's may not override them
  // (early stopping parses mlogloss, prediction assumes softprob).
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", "multi:softprob"}, {"num_class", std::to_string(num_class)}, {"eval_metric", "mlogloss"},
      {"tree_method", "hist"}};
  int nthread = 0;
  int max_bin = 256;
  Napi::Value pv = o.Get("params");
  if (!pv.IsUndefined() && !pv.IsNull()) {
    if (!pv.IsObject()) ThrowType(env, "trainGbt: params must be an object");
    auto po = pv.As<Napi::Object>();
    auto keys = po.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string k = keys.Get(i).ToString().Utf8Value();
      if (k == "objective" || k == "num_class" || k == "eval_metric") {
        ThrowRange(env, "trainGbt: params." + k + " is set by the engine (multi:softprob, numClass, mlogloss)");
      }
      std::string v = ParamString(env, po.Get(k), k);
      if (k == "nthread") nthread = std::atoi(v.c_str());
      if (k == "max_bin") max_bin = std::atoi(v.c_str());
      if (k == "tree_method") params[3].second = v;
      else params.emplace_back(k, v);
    }
  }

  struct Out {
    std::string json;
    int best = -1, trained = 0;
    double best_score = std::numeric_limits<double>::infinity();
    std::vector<HistoryRow> history;
  };
  auto out = std::make_shared<Out>();

  auto* w = new PromiseWorker(
      env,
      [train, val, has_val, cols, rounds, es, params, nthread, max_bin, quantile, batch_rows, feed, out, slice_to_best]() {
        // However this ends, the feed is closed so that its reader stops.
        struct CloseFeed {
          Feed* f;
          ~CloseFeed() { if (f) f->Close(); }
        } close_feed{feed.get()};
        DMatrix dtrain, dval;
        if (feed) MakeQuantileDMatrixFromFeed(dtrain, *feed, nthread, max_bin);
        else if (quantile) MakeQuantileDMatrix(dtrain, *train, cols, nthread, max_bin, batch_rows);
        else MakeDMatrix(dtrain, *train, cols, nthread);
        // Quantile training: the validation rows are quantised on the
        // training matrix's cuts (ref), about 2 bytes a value instead of a
        // CSR copy at 8; the evaluation history is the same as from a
        // DMatrix (a hist split is a cut value, so the bin decides it).
        if (has_val && quantile) MakeQuantileDMatrix(dval, *val, cols, nthread, max_bin, batch_rows, dtrain.h);
        else if (has_val) MakeDMatrix(dval, *val, cols, nthread);
        // The raw copies are no longer needed once the DMatrices exist.
        std::vector<float>().swap(train->x);
        std::vector<float>().swap(val->x);

        DMatrixHandle mats[2] = {dtrain.h, dval.h};
        const char* names[2] = {"train", "val"};
        const int n_mats = has_val ? 2 : 1;
        Booster b;
        // Passing both matrices at creation puts them in the booster's
        // prediction cache, so evaluating each round is cheap.
        Check(XGBoosterCreate(mats, n_mats, &b.h), "creating booster");
        for (const auto& kv : params) Check(XGBoosterSetParam(b.h, kv.first.c_str(), kv.second.c_str()), ("setting " + kv.first).c_str());

        if (quantile && params[3].second != "hist") throw std::runtime_error("xgboost: the quantile matrix needs tree_method hist");
        for (int it = 0; it < rounds; it++) {
          Check(XGBoosterUpdateOneIter(b.h, it, dtrain.h), "training a round");
          const char* evs = nullptr;
          Check(XGBoosterEvalOneIter(b.h, it, mats, names, n_mats, &evs), "evaluating");
          std::string line(evs);
          HistoryRow row{it, ParseMetric(line, "train"), has_val ? ParseMetric(line, "val") : std::nan("")};
          out->history.push_back(row);
          out->trained = it + 1;
          if (!has_val || es == 0) continue;
          if (row.val < out->best_score) {
            out->best_score = row.val;
            out->best = it;
          } else if (it - out->best >= es) {
            break;
          }
        }
        if (!has_val || es == 0) {  // no early stopping: the model is every round
          out->best = out->trained - 1;
          out->best_score = has_val ? out->history.back().val : out->history.back().train;
        }

        Booster sliced;
        BoosterHandle final_h = b.h;
        if (slice_to_best && out->best + 1 < out->trained) {
          Check(XGBoosterSlice(b.h, 0, out->best + 1, 1, &sliced.h), "slicing to the best iteration");
          final_h = sliced.h;
        }
        // Provenance, readable by xgboost-python as booster.attributes().
        Check(XGBoosterSetAttr(final_h, "best_iteration", std::to_string(out->best).c_str()), "setting attribute");
        std::ostringstream bs;
        bs.precision(17);
        bs << out->best_score;
        Check(XGBoosterSetAttr(final_h, "best_score", bs.str().c_str()), "setting attribute");
        bst_ulong len = 0;
        const char* buf = nullptr;
        Check(XGBoosterSaveModelToBuffer(final_h, "{\"format\": \"json\"}", &len, &buf), "saving model");
        out->json.assign(buf, len);
      },
      [out](Napi::Env env) -> Napi::Value {
        auto r = Napi::Object::New(env);
        r.Set("modelJson", out->json);
        r.Set("bestIteration", out->best);
        r.Set("bestScore", out->best_score);
        r.Set("roundsTrained", out->trained);
        auto h = Napi::Array::New(env, out->history.size());
        for (size_t i = 0; i < out->history.size(); i++) {
          auto row = Napi::Object::New(env);
          row.Set("round", out->history[i].round);
          row.Set("train_mlogloss", out->history[i].train);
          row.Set("val_mlogloss", std::isnan(out->history[i].val) ? env.Null() : Napi::Number::New(env, out->history[i].val));
          h.Set(static_cast<uint32_t>(i), row);
        }
        r.Set("history", h);
        return r;
      });
  if (quantile && !feed) w->Keep(o.Get("x").As<Napi::Object>());
  if (has_val) w->Keep(o.Get("xVal").As<Napi::Object>());
  return w->Run();
}

void LoadBooster(Booster& b, const std::string& json, int nthread) {
  Check(XGBoosterCreate(nullptr, 0, &b.h), "creating booster");
  Check(XGBoosterLoadModelFromBuffer(b.h, json.data(), json.size()), "loading model JSON");
  if (nthread > 0) Check(XGBoosterSetParam(b.h, "nthread", std::to_string(nthread).c_str()), "setting nthread");
}

std::string ModelArg(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) ThrowType(env, std::string(what) + ": modelJson must be a string (the XGBoost JSON model)");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s[0] != '{') ThrowType(env, std::string(what) + ": modelJson is not an XGBoost JSON model");
  return s;
}

// predictGbt(modelJson, x, nRows, nCols, {nthread?, iterationEnd?, outputMargin?}) -> Promise<Float32Array [nRows, numClass]>
Napi::Value PredictGbt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto json = std::make_shared<std::string>(ModelArg(env, info[0], "predictGbt"));
  auto xa = TypedArg<float>(env, info[1], "x", "Float32Array");
  const int64_t rows = IntArg(env, info[2], "nRows", 1, int64_t{1} << 40);
  const int64_t cols = IntArg(env, info[3], "nCols", 1, int64_t{1} << 24);
  if ((int64_t)xa.ElementLength() != rows * cols) {
    ThrowRange(env, "predictGbt: x has " + std::to_string(xa.ElementLength()) + " values, expected nRows * nCols = " +
                        std::to_string(rows * cols));
  }
  int nthread = 0;
  int64_t iter_end = 0;  // 0 = every round in the model
  bool margin = false;   // true: the raw per-class scores before softmax (XGBoost's output_margin)
  if (info[4].IsObject()) {
    auto opts = info[4].As<Napi::Object>();
    if (!opts.Get("nthread").IsUndefined()) nthread = (int)IntArg(env, opts.Get("nthread"), "nthread", 0, 4096);
    if (!opts.Get("iterationEnd").IsUndefined()) iter_end = IntArg(env, opts.Get("iterationEnd"), "iterationEnd", 0, 1 << 20);
    if (!opts.Get("outputMargin").IsUndefined()) {
      if (!opts.Get("outputMargin").IsBoolean()) ThrowType(env, "predictGbt: outputMargin must be a boolean");
      margin = opts.Get("outputMargin").As<Napi::Boolean>().Value();
    }
  }
  const float* x = xa.Data();  // read in place; the worker keeps the array alive
  auto out = std::make_shared<std::vector<float>>();
  auto* w = new PromiseWorker(
      env,
      [json, x, rows, cols, nthread, iter_end, margin, out]() {
        Booster b;
        LoadBooster(b, *json, nthread);
        bst_ulong nf = 0;
        Check(XGBoosterGetNumFeature(b.h, &nf), "reading the feature count");
        if ((int64_t)nf != cols) {
          throw std::runtime_error("predictGbt: model expects " + std::to_string(nf) + " columns, got nCols = " +
                                   std::to_string(cols));
        }
        DMatrix d;
        Check(XGDMatrixCreateFromMat_omp(x, rows, cols, std::numeric_limits<float>::quiet_NaN(), &d.h, nthread),
              "creating DMatrix");
        std::string cfg = "{\"type\": " + std::string(margin ? "1" : "0") + ", \"training\": false, \"iteration_begin\": 0, \"iteration_end\": " +
                          std::to_string(iter_end) + ", \"strict_shape\": true}";
        const bst_ulong* shape = nullptr;
        bst_ulong dim = 0;
        const float* res = nullptr;
        Check(XGBoosterPredictFromDMatrix(b.h, d.h, cfg.c_str(), &shape, &dim, &res), "predicting");
        size_t n = 1;
        for (bst_ulong i = 0; i < dim; i++) n *= shape[i];
        out->assign(res, res + n);
      },
      [out](Napi::Env env) -> Napi::Value { return NewFloat32(env, *out); });
  w->Keep(info[1].As<Napi::Object>());
  return w->Run();
}

// gbtModelInfo(modelJson) -> {numFeatures, rounds, bestIteration|null}; also
// validates a model read from disk.
Napi::Value GbtModelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string json = ModelArg(env, info[0], "gbtModelInfo");
  try {
    Booster b;
    LoadBooster(b, json, 1);
    bst_ulong nf = 0;
    int rounds = 0, ok = 0;
    Check(XGBoosterGetNumFeature(b.h, &nf), "reading the feature count");
    Check(XGBoosterBoostedRounds(b.h, &rounds), "reading the round count");
    const char* best = nullptr;
    Check(XGBoosterGetAttr(b.h, "best_iteration", &best, &ok), "reading attributes");
    auto r = Napi::Object::New(env);
    r.Set("numFeatures", (double)nf);
    r.Set("rounds", rounds);
    r.Set("bestIteration", ok ? Napi::Number::New(env, std::atof(best)) : env.Null());
    return r;
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace

Napi::Object GbtInfo(Napi::Env env) {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  auto o = Napi::Object::New(env);
  o.Set("version", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
  const char* build = nullptr;
  if (XGBuildInfo(&build) == 0 && build) o.Set("buildInfo", build);
  return o;
}

void InitGbt(Napi::Env env, Napi::Object exports) {
  exports.Set("trainGbt", Napi::Function::New(env, TrainGbt, "trainGbt"));
  exports.Set("GbtFeed", GbtFeed::Define(env));
  exports.Set("predictGbt", Napi::Function::New(env, PredictGbt, "predictGbt"));
  exports.Set("gbtModelInfo", Napi::Function::New(env, GbtModelInfo, "gbtModelInfo"));
}

}  // namespace engines
