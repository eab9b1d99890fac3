#!/usr/bin/env python3
"""The feature algorithm of docs/features.md written the way a researcher
would with numpy: tarfile + json.loads to read an episode, numpy arrays per
source, per-window slices with searchsorted, np.percentile, np.interp for the
tensors. A third column for bench/features.mjs (not used by the CLI).

Usage: features_numpy.py --list PATHS.txt [--dump DIR --dump-n N]
PATHS.txt holds one .tar.zst per line (read with the `zstandard` module) or,
when that module is missing, .tar files that bench/features.mjs decompressed
beforehand. Prints one JSON line with timings.
"""
import argparse
import io
import json
import math
import os
import sys
import tarfile
import time

import numpy as np

try:
    import zstandard
except ImportError:  # the bench hands us pre-decompressed .tar files then
    zstandard = None

W, S, HZ = 10.0, 5.0, 10.0
T = int(round(W * HZ))
PHASES = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"]
NAN = float("nan")


def num(x):
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else NAN


def sub(row, *keys):
    for k in keys:
        row = row.get(k) if isinstance(row, dict) else None
    return num(row)


def first(xs):
    return num(xs[0]) if isinstance(xs, list) and xs else NAN


def length(xs):
    return float(len(xs)) if isinstance(xs, list) else NAN


# (channel, kind, getter) per source, in schema order.
C, L = "counter", "level"
PROC = [(f, C if f not in ("rss_bytes", "vsize_bytes") else L, (lambda f: lambda r: num(r.get(f)))(f)) for f in
        ["cpu_user_jiffies", "cpu_sys_jiffies", "rss_bytes", "vsize_bytes", "io_read_bytes", "io_write_bytes",
         "voluntary_ctxsw", "involuntary_ctxsw", "minor_faults", "major_faults"]]
GUEST = [
    ("cpu_user", C, lambda r: sub(r, "cpu_total_jiffies", "user")),
    ("cpu_sys", C, lambda r: sub(r, "cpu_total_jiffies", "system")),
    ("cpu_idle", C, lambda r: sub(r, "cpu_total_jiffies", "idle")),
    ("cpu_iowait", C, lambda r: sub(r, "cpu_total_jiffies", "iowait")),
    ("cpu_softirq", C, lambda r: sub(r, "cpu_total_jiffies", "softirq")),
    ("load_1m", L, lambda r: first(r.get("load_1m_5m_15m"))),
    ("mem_available", L, lambda r: num(r.get("mem_available_bytes"))),
    ("mem_buffers", L, lambda r: num(r.get("mem_buffers_bytes"))),
    ("mem_cached", L, lambda r: num(r.get("mem_cached_bytes"))),
    ("swap_used", L, lambda r: num(r.get("swap_used_bytes"))),
    ("eth0_rx_bytes", C, lambda r: sub(r, "net", "eth0", "rx_bytes")),
    ("eth0_tx_bytes", C, lambda r: sub(r, "net", "eth0", "tx_bytes")),
    ("eth0_rx_pkts", C, lambda r: sub(r, "net", "eth0", "rx_pkts")),
    ("eth0_tx_pkts", C, lambda r: sub(r, "net", "eth0", "tx_pkts")),
    ("n_listen_ports", L, lambda r: length(r.get("listen_ports"))),
    ("n_top_procs", L, lambda r: length(r.get("top_procs"))),
]
QMP = [
    ("virtio0_rd_ops", C, lambda r: sub(r, "blockstats", "virtio0", "rd_ops")),
    ("virtio0_wr_ops", C, lambda r: sub(r, "blockstats", "virtio0", "wr_ops")),
    ("virtio0_rd_bytes", C, lambda r: sub(r, "blockstats", "virtio0", "rd_bytes")),
    ("virtio0_wr_bytes", C, lambda r: sub(r, "blockstats", "virtio0", "wr_bytes")),
    ("kvm_tlb_flush", C, lambda r: sub(r, "kvm_stats", "remote_tlb_flush")),
    ("kvm_pages_4k", L, lambda r: sub(r, "kvm_stats", "pages_4k")),
    ("kvm_pages_2m", L, lambda r: sub(r, "kvm_stats", "pages_2m")),
]
NETFLOW = [(f, L, (lambda f: lambda r: num(r.get(f)))(f)) for f in
           ["pkts_in", "pkts_out", "bytes_in", "bytes_out", "syn_count", "fin_count", "rst_count", "udp_count",
            "tcp_count", "dns_query_count", "unique_dst_ips", "unique_dst_ports", "tcp_new_flows"]]
SOURCES = [("telemetry-proc.jsonl", PROC), ("telemetry-guest.jsonl", GUEST), ("telemetry-qmp.jsonl", QMP),
           ("netflow.jsonl", NETFLOW)]


def read_members(path):
    """{base name: bytes} of the episode's members."""
    if path.endswith(".zst"):
        with open(path, "rb") as f:
            raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    else:
        with open(path, "rb") as f:
            raw = f.read()
    out = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        for m in tf.getmembers():
            base = m.name.rsplit("/", 1)[-1]
            if m.isfile() and base not in out:
                out[base] = tf.extractfile(m).read()
    return out


def rows(text):
    out = []
    for line in text.decode("utf-8").splitlines():
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("t_wall_ns"), int) and not isinstance(r.get("t_wall_ns"), bool):
            out.append(r)
    return out


def load(path):
    """meta, labels (t_wall_ns, phases), and per source (t_wall_ns int64, values [n, k])."""
    m = read_members(path)
    try:
        meta = json.loads(m["meta.json"]) if "meta.json" in m else {}
    except ValueError:
        meta = {}
    labels = [r for r in rows(m.get("labels.jsonl", b"")) if isinstance(r.get("phase"), str)]
    sources = []
    for name, chans in SOURCES:
        rs = rows(m.get(name, b""))
        tw = np.array([r["t_wall_ns"] for r in rs], dtype=np.int64)
        vals = np.array([[g(r) for _, _, g in chans] for r in rs], dtype=np.float64).reshape(len(rs), len(chans))
        sources.append((tw, vals))
    return meta, labels, sources


def featurize(meta, labels, sources, tensors=True):
    if not labels:
        return None
    t0 = labels[0]["t_wall_ns"]
    res = meta.get("result") if isinstance(meta, dict) else None
    d = num(res.get("duration_observed_s")) if isinstance(res, dict) else NAN
    if not (math.isfinite(d) and d > 0):
        tmax = [tw.max() for tw, _ in sources if tw.size]
        if not tmax:
            return None
        d = float(int(max(tmax)) - t0) / 1e9
    starts = []
    while len(starts) * S + W <= d:
        starts.append(len(starts) * S)
    starts = np.array(starts, dtype=np.float64)
    nw = len(starts)

    rel = np.array([(r["t_wall_ns"] - t0) / 1e9 for r in labels])
    codes = np.array([PHASES.index(r["phase"]) if r["phase"] in PHASES else -1 for r in labels])
    phase = np.zeros(nw, dtype=np.int8)
    for k, c in enumerate(starts + W / 2):
        hit = np.nonzero(rel <= c)[0]
        phase[k] = codes[hit[-1]] if hit.size else 0

    # Finite samples per channel, time-sorted.
    series = []
    for (tw, vals), (_, chans) in zip(sources, SOURCES):
        order = np.argsort(tw, kind="stable")
        tw, vals = tw[order], vals[order]
        t = (tw - t0).astype(np.float64) / 1e9
        dt = np.diff(tw).astype(np.float64) / 1e9
        for j, (_, kind, _) in enumerate(chans):
            v = vals[:, j]
            if kind == C:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dv = np.diff(v)
                    x = dv / dt
                x[(dt == 0) | ~np.isfinite(v[1:]) | ~np.isfinite(v[:-1]) | (dv < 0)] = np.nan
                ts = t[1:]
            else:
                x, ts = v, t
            keep = np.isfinite(x)
            series.append((ts[keep], x[keep]))

    summary = np.full((nw, len(series), 5), np.nan)
    for c, (t, v) in enumerate(series):
        lo = np.searchsorted(t, starts, "left")
        hi = np.searchsorted(t, starts + W, "left")
        for k in range(nw):
            seg, ts = v[lo[k]:hi[k]], t[lo[k]:hi[k]]
            if seg.size == 0:
                continue
            mean = seg.mean()
            tc = ts - ts.mean()
            den = np.dot(tc, tc)
            p50, p95 = np.percentile(seg, [50, 95])
            summary[k, c] = (mean, seg.std(), p50, p95, np.dot(tc, seg - mean) / den if den > 0 else 0.0)

    x = mask = None
    if tensors:
        grid = (starts[:, None] + np.arange(T) / HZ).ravel()
        x = np.zeros((nw, len(series), T), dtype=np.float32)
        mask = np.zeros((nw, len(series), T), dtype=bool)
        for c, (t, v) in enumerate(series):
            if t.size == 0:
                continue
            vals = np.interp(grid, t, v, left=np.nan, right=np.nan).reshape(nw, T)
            ok = ~np.isnan(vals)
            x[:, c] = np.where(ok, vals, 0)
            mask[:, c] = ok
    return phase, summary.reshape(nw, -1), x, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--dump")
    ap.add_argument("--dump-n", type=int, default=50)
    a = ap.parse_args()
    paths = [p for p in open(a.list).read().splitlines() if p]
    if any(p.endswith(".zst") for p in paths) and zstandard is None:
        sys.exit("features_numpy.py: the zstandard module is missing; pass pre-decompressed .tar files")
    t_load = t_feat = 0.0
    windows = 0
    dumps = {"summary": [], "x": [], "mask": [], "windows": []}
    for i, p in enumerate(paths):
        s = time.perf_counter()
        ep = load(p)
        t_load += time.perf_counter() - s
        s = time.perf_counter()
        out = featurize(*ep)
        t_feat += time.perf_counter() - s
        nw = 0 if out is None else len(out[0])
        windows += nw
        if a.dump and i < a.dump_n:
            dumps["windows"].append(nw)
            if nw:
                dumps["summary"].append(out[1].astype("<f8").tobytes())
                dumps["x"].append(out[2].astype("<f4").tobytes())
                dumps["mask"].append(out[3].astype("u1").tobytes())
    if a.dump:
        os.makedirs(a.dump, exist_ok=True)
        for k in ("summary", "x", "mask"):
            with open(os.path.join(a.dump, k + ".bin"), "wb") as f:
                f.write(b"".join(dumps[k]))
        with open(os.path.join(a.dump, "windows.json"), "w") as f:
            json.dump(dumps["windows"], f)
    n = len(paths)
    print(json.dumps({
        "episodes": n, "windows": windows, "numpy": np.__version__,
        "input": "tar.zst (zstandard)" if paths and paths[0].endswith(".zst") else "pre-decompressed .tar",
        "read_parse_ms_per_episode": t_load * 1e3 / n, "features_ms_per_episode": t_feat * 1e3 / n,
        "total_ms_per_episode": (t_load + t_feat) * 1e3 / n,
    }))


if __name__ == "__main__":
    main()
