#!/usr/bin/env python3
"""Plain-XGBoost baseline for bench/loho.mjs (benchmark column only; the
toolkit never runs Python). Reads the raw float32/int32 arrays that
loho.mjs exported from the project's own features (same windows, same
realistic/oracle feature columns), fits Debian's python3-xgboost with its
defaults plus early stopping on the val side (no class weights, nothing
tuned), and writes the test predictions as int32 and the class
probabilities as float32 [windows, classes] (for the infected-vs-clean
TPR at 1% FPR).

usage: plain_xgb.py DIR   (DIR holds meta.json, {train,val,test}_{x,y}.bin)
"""
import json
import sys

import numpy as np
import xgboost as xgb

d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
w = meta["width"]


def load(side):
    x = np.fromfile(f"{d}/{side}_x.bin", dtype=np.float32).reshape(-1, w)
    y = np.fromfile(f"{d}/{side}_y.bin", dtype=np.int32)
    return x, y


xt, yt = load("train")
xv, yv = load("val")
xs, _ = load("test")
clf = xgb.XGBClassifier(
    n_estimators=400,
    tree_method="hist",
    early_stopping_rounds=20,
    eval_metric="mlogloss",
    random_state=int(meta.get("seed", 0)),
    n_jobs=int(meta.get("threads", 2)),
)
# Classes absent from training would shift XGBoost's label encoding: keep all 6 through a tiny weight.
present = sorted(set(yt.tolist()))
missing = [k for k in range(meta["classes"]) if k not in present]
if missing:
    xt = np.concatenate([xt, np.full((len(missing), w), np.nan, dtype=np.float32)])
    yt = np.concatenate([yt, np.array(missing, dtype=np.int32)])
sw = np.ones(len(yt), dtype=np.float32)
if missing:
    sw[-len(missing):] = 1e-6
clf.fit(xt, yt, sample_weight=sw, eval_set=[(xv, yv)], verbose=False)
pred = clf.predict(xs).astype(np.int32)
pred.tofile(f"{d}/plain_pred.bin")
clf.predict_proba(xs).astype(np.float32).tofile(f"{d}/plain_proba.bin")
json.dump({"best_iteration": int(clf.best_iteration), "xgboost": xgb.__version__}, open(f"{d}/plain_info.json", "w"))
