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
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

void MakeQuantileDMatrix(DMatrix& d, const Split& s, int64_t cols, int nthread, int max_bin, int64_t batch) {
  DMatrix proxy;
  Check(XGProxyDMatrixCreate(&proxy.h), "creating the proxy DMatrix");
  BatchIter it;
  it.s = &s;
  it.cols = cols;
  it.batch = batch;
  it.proxy = proxy.h;
  std::string cfg = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + ", \"max_bin\": " + std::to_string(max_bin) + "}";
  Check(XGQuantileDMatrixCreateFromCallback(&it, proxy.h, nullptr, BatchReset, BatchNext, cfg.c_str(), &d.h),
        "creating QuantileDMatrix from batches");
}

void MakeDMatrix(DMatrix& d, const Split& s, int64_t cols, int nthread) {
  Check(XGDMatrixCreateFromMat_omp(s.x.data(), s.rows, cols, std::numeric_limits<float>::quiet_NaN(), &d.h, nthread),
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
  Napi::Value bv = o.Get("batchRows");
  const int64_t batch_rows = (bv.IsUndefined() || bv.IsNull()) ? 65536 : IntArg(env, bv, "batchRows", 1, int64_t{1} << 40);
  auto train = std::make_shared<Split>(ReadSplit(env, o, "x", "nRows", "y", "weights", cols, num_class, !quantile));
  auto val = std::make_shared<Split>();
  const bool has_val = !o.Get("xVal").IsUndefined() && !o.Get("xVal").IsNull();
  if (has_val) *val = ReadSplit(env, o, "xVal", "nValRows", "yVal", "wVal", cols, num_class);
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
      [train, val, has_val, cols, rounds, es, params, nthread, max_bin, quantile, batch_rows, out]() {
        DMatrix dtrain, dval;
        if (quantile) MakeQuantileDMatrix(dtrain, *train, cols, nthread, max_bin, batch_rows);
        else MakeDMatrix(dtrain, *train, cols, nthread);
        if (has_val) MakeDMatrix(dval, *val, cols, nthread);
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
        if (out->best + 1 < out->trained) {
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
  if (quantile) w->Keep(o.Get("x").As<Napi::Object>());
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
  exports.Set("predictGbt", Napi::Function::New(env, PredictGbt, "predictGbt"));
  exports.Set("gbtModelInfo", Napi::Function::New(env, GbtModelInfo, "gbtModelInfo"));
}

}  // namespace engines
