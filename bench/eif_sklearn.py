#!/usr/bin/python3
"""scikit-learn column of bench/eif.mjs: IsolationForest (classic splits)
with the same trees, subsample and threads on the same exported data
(float64 .npy, missing values already imputed with the training medians,
since sklearn rejects NaN). Benchmark only; the toolkit never needs Python.

Usage: eif_sklearn.py DIR TREES SUBSAMPLE THREADS REPEAT
  (DIR has train.npy, test.npy, test_y.npy)
Prints one JSON line: fastest fit / score wall seconds, the process CPU
seconds of those runs, and the ROC AUC of -score_samples on the test rows
(mean over the runs, random_state = run index).
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

d, trees, psi, threads, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
train = np.load(f"{d}/train.npy")
test = np.load(f"{d}/test.npy")
y = np.load(f"{d}/test_y.npy")
best = {}
aucs = []
for r in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    f = IsolationForest(n_estimators=trees, max_samples=min(psi, len(train)), random_state=r, n_jobs=threads).fit(train)
    fit = (time.perf_counter() - t0, time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    s = -f.score_samples(test)
    score = (time.perf_counter() - t0, time.process_time() - c0)
    if not best or fit[0] < best["fit_s"]:
        best.update(fit_s=fit[0], fit_cpu_s=fit[1])
    if "score_s" not in best or score[0] < best["score_s"]:
        best.update(score_s=score[0], score_cpu_s=score[1])
    aucs.append(float(roc_auc_score(y, s)))
best.update(roc_auc=sum(aucs) / len(aucs), roc_auc_runs=aucs)
print(json.dumps(best))
