#!/usr/bin/python3
"""numpy baseline for bench/stats.mjs: the same bootstrap of macro F1
(percentile CI, labels present in each resample), vectorised the way one
would in Python: an rng.integers index matrix per chunk of resamples, unit
multiplicities by bincount, confusion counts as multiplicities @ per-unit
counts, F1 on whole arrays. numpy's RNG differs from cis490's, so the CI
agrees only up to Monte Carlo error. Timed from after loading the data.

Usage: stats_numpy.py DIR RESAMPLES SEED UNIT [REPEAT]  (DIR has t.i32 p.i32 g.u32)
Prints one JSON line: {"seconds" (fastest of REPEAT runs), "lo", "hi", "point"}.
"""
import json
import os
import sys
import time

import numpy as np


def bootstrap(t, p, g, resamples, seed, unit):
    labels = np.union1d(t, p)
    k = len(labels)
    cell = np.searchsorted(labels, t) * k + np.searchsorted(labels, p)
    if unit == "episode":
        _, unit_of = np.unique(g, return_inverse=True)
    else:
        unit_of = np.arange(len(t))
    n_units = int(unit_of.max()) + 1
    # Per-unit confusion counts, dense (units x k*k).
    per_unit = np.zeros((n_units, k * k))
    np.add.at(per_unit, (unit_of, cell), 1)

    def macro(cm):  # cm: (r, k, k) -> (r,)
        tp = np.diagonal(cm, axis1=1, axis2=2)
        denom = cm.sum(axis=2) + cm.sum(axis=1)
        present = denom > 0
        f1 = np.where(present, 2 * tp / np.where(present, denom, 1), 0.0)
        return f1.sum(axis=1) / present.sum(axis=1)

    point = macro(per_unit.sum(axis=0).reshape(1, k, k))[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, 20_000_000 // n_units))
    values = []
    for start in range(0, resamples, chunk):
        r = min(chunk, resamples - start)
        idx = rng.integers(0, n_units, size=(r, n_units))
        mult = np.bincount((idx + (np.arange(r) * n_units)[:, None]).ravel(), minlength=r * n_units).reshape(r, n_units)
        cm = (mult @ per_unit).reshape(r, k, k)
        values.append(macro(cm))
    lo, hi = np.percentile(np.concatenate(values), [2.5, 97.5])
    return {"lo": float(lo), "hi": float(hi), "point": float(point)}


def main():
    d, resamples, seed, unit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    t = np.fromfile(os.path.join(d, "t.i32"), dtype=np.int32)
    p = np.fromfile(os.path.join(d, "p.i32"), dtype=np.int32)
    g = np.fromfile(os.path.join(d, "g.u32"), dtype=np.uint32)
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = bootstrap(t, p, g, resamples, seed, unit)
        seconds = time.perf_counter() - t0
        best = seconds if best is None else min(best, seconds)
    print(json.dumps({"seconds": best, **out}))


if __name__ == "__main__":
    main()
