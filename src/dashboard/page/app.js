// The dashboard page: one websocket to /ws (token from the URL fragment,
// sent as a websocket subprotocol), state rebuilt from event envelopes, and
// ECharts redrawn at most once per animation frame. No build step, no CDN.
"use strict";

const PHASES = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"];
const PHASE_COLOURS = { clean: "#74b816", armed: "#fab005", infecting: "#f76707", infected_running: "#e03131", dormant: "#7950f2", failed: "#868e96" };
const PROFILES = ["cpu-saturate", "scan-and-dial", "io-walk", "bursty-c2", "low-and-slow", "shell-resident"];
const MAX_POINTS = 20000;
const MAX_EPISODES = 500;
const MAX_LOG = 20000;

const state = {
  instance: null,
  mode: null,
  lastSeq: 0,
  count: 0,
  metrics: new Map(),
  perf: new Map(),
  profiles: new Map(),
  /** episode_id -> { phases: [{t_s, phase}], models: Map(model -> { preds: [], emb: [] }), tMax, updated } */
  episodes: new Map(),
};
const view = { episode: null, model: null, cursor: 0, playing: false, follow: true, speed: 10 };
const dirty = new Set();
let pendingSeqs = [];

// For tests and curious people: what was rendered when (ms since the epoch, sub-ms), and frame times.
const probe = { received: [], rendered: [], frames: [], state, view, charts: {} };
window.__dash = probe;
const now = () => performance.timeOrigin + performance.now();

function chart(id) {
  const c = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  probe.charts[id] = c;
  return c;
}

// ---------- state ----------

function episodeOf(id) {
  let ep = state.episodes.get(id);
  if (!ep) {
    if (state.episodes.size >= MAX_EPISODES) {
      const oldest = [...state.episodes.entries()].sort((a, b) => a[1].updated - b[1].updated)[0][0];
      state.episodes.delete(oldest);
    }
    ep = { phases: [], models: new Map(), tMax: 0, updated: 0 };
    state.episodes.set(id, ep);
    dirty.add("episodes");
  }
  return ep;
}

function modelOf(ep, name) {
  let m = ep.models.get(name);
  if (!m) {
    m = { preds: [], emb: [] };
    ep.models.set(name, m);
    dirty.add("episodes");
  }
  return m;
}

/** Inserts keeping t_s order (events of one stream normally arrive in order, so this is an append). */
function insertByTime(list, item) {
  let i = list.length;
  while (i > 0 && list[i - 1].t_s > item.t_s) i--;
  if (i > 0 && list[i - 1].t_s === item.t_s) list[i - 1] = item;
  else list.splice(i, 0, item);
  if (list.length > MAX_POINTS) list.shift();
}

function apply(env) {
  if (env.seq <= state.lastSeq && state.mode === "live") return;
  state.lastSeq = Math.max(state.lastSeq, env.seq);
  state.count++;
  const e = env.event;
  switch (e.type) {
    case "model_metric":
      state.metrics.set(`${e.model}|${e.mode}|${e.version}`, { ...e, seq: env.seq });
      dirty.add("f1");
      break;
    case "model_perf":
      state.perf.set(`${e.model}|${e.mode}`, e);
      dirty.add("perf");
      break;
    case "attack_profile":
      state.profiles.set(e.name, e);
      dirty.add("profiles");
      break;
    case "phase":
    case "prediction":
    case "embedding": {
      const ep = episodeOf(e.episode_id);
      ep.tMax = Math.max(ep.tMax, e.t_s);
      ep.updated = env.seq;
      if (e.type === "phase") insertByTime(ep.phases, { t_s: e.t_s, phase: e.phase });
      else if (e.type === "prediction") insertByTime(modelOf(ep, e.model).preds, { t_s: e.t_s, probs: e.probs, predicted: e.predicted });
      else insertByTime(modelOf(ep, e.model).emb, { t_s: e.t_s, xy: e.xy });
      dirty.add("replay");
      dirty.add("episodes");
      break;
    }
  }
  pendingSeqs.push(env.seq);
}

function reset() {
  state.lastSeq = 0;
  state.count = 0;
  state.metrics.clear();
  state.perf.clear();
  state.profiles.clear();
  state.episodes.clear();
  view.episode = view.model = null;
  for (const k of ["f1", "perf", "profiles", "replay", "episodes"]) dirty.add(k);
}

// ---------- connection ----------

const conn = document.getElementById("conn");
function setConn(s, text) {
  conn.dataset.state = s;
  conn.textContent = text;
}

function readToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("cis490-token", decodeURIComponent(m[1]));
    // Keep the token out of the address bar (and out of screenshots).
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("cis490-token");
}

let backoff = 500;
let socket = null;

function askToken(why) {
  setConn(why, why === "no-token" ? "no token" : "token refused");
  const form = document.getElementById("token-form");
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("cis490-token", document.getElementById("token-input").value.trim());
    form.hidden = true;
    backoff = 500;
    connect();
  };
}

function connect() {
  const token = readToken();
  if (!token) return askToken("no-token");
  setConn("connecting", "connecting…");
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  let opened = false;
  const ws = new WebSocket(url, ["cis490.v1", `token.${token}`]);
  socket = ws;
  ws.onopen = () => {
    opened = true;
    backoff = 500;
  };
  ws.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.kind === "hello") {
      if (data.mode === "replay" || data.instance !== state.instance) reset();
      state.instance = data.instance;
      state.mode = data.mode;
      document.getElementById("mode").textContent = data.mode === "replay" ? `recorded session, ${data.recording_events} events` : "live";
      if (data.mode === "replay") {
        // Start at the end of the episode (the whole recording shown); play restarts from 0, the slider scrubs.
        view.cursor = Infinity;
        view.follow = false;
        document.getElementById("follow").checked = false;
        setConn("replay", "replay");
      } else setConn("live", "live");
    } else if (data.kind === "events") {
      const at = now();
      for (const env of data.envelopes) apply(env);
      if (data.envelopes.length === 1) {
        probe.received.push([data.envelopes[0].seq, at]);
        if (probe.received.length > MAX_LOG) probe.received.splice(0, probe.received.length - MAX_LOG);
      }
    }
  };
  ws.onclose = async () => {
    if (socket !== ws) return;
    if (!opened) {
      // A refused upgrade looks like any other failure to the page: ask the server whether it is up at all.
      const up = await fetch("/healthz", { cache: "no-store" }).then((r) => r.ok, () => false);
      if (up) return askToken("unauthorised");
    }
    const wait = Math.min(15000, backoff) * (0.75 + Math.random() / 2);
    backoff = Math.min(15000, backoff * 2);
    setConn("reconnecting", `disconnected; retrying in ${(wait / 1000).toFixed(1)} s`);
    setTimeout(connect, wait);
  };
}

// ---------- charts ----------

const f1Chart = chart("chart-f1");
const perfChart = chart("chart-perf");
const timelineChart = chart("chart-timeline");
const embeddingChart = chart("chart-embedding");
const profileCharts = new Map();

// Charts are updated by merging (series counts never change): rebuilding every component each frame cost ~20 ms a chart.
function emptyNote(text) {
  return [{ id: "empty", type: "text", left: "center", top: "middle", style: { text, fill: "#999", fontSize: 14 } }];
}

function whiskers(offset, colour) {
  return {
    type: "custom",
    name: "95% CI",
    silent: true,
    z: 10,
    renderItem(params, api) {
      const band = api.size([1, 0])[0];
      const x = api.coord([api.value(0), 0])[0] + offset * band;
      const lo = api.coord([0, api.value(1)])[1];
      const hi = api.coord([0, api.value(2)])[1];
      const cap = band * 0.06;
      const style = { stroke: colour, lineWidth: 1.5 };
      return {
        type: "group",
        children: [
          { type: "line", shape: { x1: x, y1: lo, x2: x, y2: hi }, style },
          { type: "line", shape: { x1: x - cap, y1: lo, x2: x + cap, y2: lo }, style },
          { type: "line", shape: { x1: x - cap, y1: hi, x2: x + cap, y2: hi }, style },
        ],
      };
    },
  };
}

function renderF1() {
  const metrics = [...state.metrics.values()];
  // Versions of one (model, mode) are numbered in arrival order, so realistic #k stands beside oracle #k.
  const versions = new Map();
  for (const m of metrics) {
    const k = `${m.model}|${m.mode}`;
    if (!versions.has(k)) versions.set(k, []);
    if (!versions.get(k).includes(m.version)) versions.get(k).push(m.version);
  }
  const multi = new Set(metrics.filter((m) => versions.get(`${m.model}|${m.mode}`).length > 1).map((m) => m.model));
  const label = (m) => (multi.has(m.model) ? `${m.model} #${versions.get(`${m.model}|${m.mode}`).indexOf(m.version) + 1}` : m.model);
  const cats = [...new Set(metrics.map(label))].sort();
  const rowOf = (cat, mode) => metrics.find((m) => label(m) === cat && m.mode === mode) ?? null;
  const series = [];
  ["realistic", "oracle"].forEach((mode, k) => {
    const colour = k === 0 ? "#1c7ed6" : "#ae3ec9";
    const rows = cats.map((c) => rowOf(c, mode));
    series.push({
      type: "bar",
      name: mode,
      barWidth: "30%",
      barGap: "0%",
      itemStyle: { color: colour },
      label: { show: true, position: "insideBottom", formatter: (p) => (p.value == null ? "" : p.value.toFixed(3)), color: "#fff" },
      data: rows.map((m) => (m ? m.macro_f1.point : null)),
    });
    series.push({ ...whiskers(k === 0 ? -0.15 : 0.15, "#222"), data: rows.flatMap((m, i) => (m && m.macro_f1.lo !== null ? [[i, m.macro_f1.lo, m.macro_f1.hi]] : [])) });
  });
  f1Chart.setOption(
    {
      animation: false,
      legend: { data: ["realistic", "oracle"], top: 0, right: 10 },
      // Which version each bar is (a registry id or a weights digest), with its interval.
      tooltip: {
        trigger: "axis",
        formatter: (params) => {
          const cat = cats[params[0]?.dataIndex];
          const lines = ["realistic", "oracle"].flatMap((mode) => {
            const m = rowOf(cat, mode);
            if (!m) return [];
            const ci = m.macro_f1.lo === null ? "no CI" : `[${m.macro_f1.lo.toFixed(3)}, ${m.macro_f1.hi.toFixed(3)}]`;
            return [`${mode} ${m.version}: ${m.macro_f1.point.toFixed(3)} ${ci}`];
          });
          return [cat, ...lines].join("<br>");
        },
      },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: cats },
      // Fixed 0-1: an honest low score still shows as a bar, not a zoomed sliver.
      yAxis: { type: "value", min: 0, max: 1, name: "macro F1" },
      series,
      graphic: emptyNote(cats.length ? "" : "no model_metric event yet"),
    },
  );
}

function renderPerf() {
  const rows = [...state.perf.values()].sort((a, b) => `${a.model}_${a.mode}`.localeCompare(`${b.model}_${b.mode}`));
  const cats = rows.map((r) => `${r.model}_${r.mode}`);
  perfChart.setOption(
    {
      animation: false,
      legend: { data: ["windows/s", "p50 ms", "p99 ms"], top: 0, right: 10 },
      tooltip: { trigger: "axis" },
      grid: [
        { left: 60, right: "53%", top: 40, bottom: 30 },
        { left: "55%", right: 20, top: 40, bottom: 30 },
      ],
      xAxis: [
        { type: "category", data: cats, gridIndex: 0 },
        { type: "category", data: cats, gridIndex: 1 },
      ],
      yAxis: [
        { type: "value", name: "windows/s", gridIndex: 0 },
        { type: "value", name: "latency ms", gridIndex: 1 },
      ],
      series: [
        { type: "bar", name: "windows/s", data: rows.map((r) => r.windows_per_s), xAxisIndex: 0, yAxisIndex: 0, itemStyle: { color: "#2b8a3e" } },
        { type: "bar", name: "p50 ms", data: rows.map((r) => r.latency_ms.p50), xAxisIndex: 1, yAxisIndex: 1, itemStyle: { color: "#1c7ed6" } },
        { type: "bar", name: "p99 ms", data: rows.map((r) => r.latency_ms.p99), xAxisIndex: 1, yAxisIndex: 1, itemStyle: { color: "#f08c00" } },
      ],
      graphic: emptyNote(cats.length ? "" : "no model_perf event yet"),
    },
  );
}

function renderEpisodeSelectors() {
  const sel = document.getElementById("episode");
  const ids = [...state.episodes.keys()];
  if (!view.episode || !state.episodes.has(view.episode) || view.follow) {
    // Follow the episode updated last.
    let best = null;
    for (const [id, ep] of state.episodes) if (!best || ep.updated > state.episodes.get(best).updated) best = id;
    if (!view.episode || !state.episodes.has(view.episode) || (view.follow && best)) view.episode = best;
  }
  if (sel.options.length !== ids.length || [...sel.options].some((o, i) => o.value !== ids[i])) {
    sel.replaceChildren(...ids.map((id) => new Option(id, id)));
  }
  sel.value = view.episode ?? "";
  const ep = view.episode ? state.episodes.get(view.episode) : null;
  const models = ep ? [...ep.models.keys()] : [];
  const msel = document.getElementById("model");
  if (msel.options.length !== models.length || [...msel.options].some((o, i) => o.value !== models[i])) msel.replaceChildren(...models.map((m) => new Option(m, m)));
  if (!view.model || !models.includes(view.model)) view.model = models[0] ?? null;
  msel.value = view.model ?? "";
}

function upTo(list, t) {
  // Entries with t_s <= t (lists are sorted by t_s).
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t_s <= t) lo = mid + 1;
    else hi = mid;
  }
  return list.slice(0, lo);
}

let lastEmbKey = null;

/** The true phase at time t (the last phase event at or before it). */
function phaseAt(phases, t) {
  const before = upTo(phases, t);
  return before.length ? before[before.length - 1].phase : null;
}

function renderReplay() {
  const ep = view.episode ? state.episodes.get(view.episode) : null;
  const scrub = document.getElementById("scrub");
  const tMax = ep ? ep.tMax : 0;
  if (view.follow) view.cursor = tMax;
  view.cursor = Math.min(Math.max(0, view.cursor), tMax);
  scrub.max = String(tMax);
  scrub.value = String(view.cursor);
  document.getElementById("cursor").textContent = `t = ${view.cursor.toFixed(1)} s of ${tMax.toFixed(1)} s`;
  const m = ep && view.model ? ep.models.get(view.model) : null;
  const phases = ep ? upTo(ep.phases, view.cursor) : [];
  const preds = m ? upTo(m.preds, view.cursor) : [];
  const emb = m ? m.emb : [];
  const shownEmb = upTo(emb, view.cursor);
  const bands = phases.map((p, i) => [p.t_s, i + 1 < phases.length ? phases[i + 1].t_s : view.cursor, PHASES.indexOf(p.phase), p.phase]);
  const series = [
    {
      type: "custom",
      name: "phase",
      xAxisIndex: 0,
      yAxisIndex: 0,
      renderItem(params, api) {
        const a = api.coord([api.value(0), 0]);
        const b = api.coord([api.value(1), 0]);
        const h = api.size([0, 1])[1];
        const phase = bands[params.dataIndex][3];
        return { type: "rect", shape: { x: a[0], y: a[1] - h / 2, width: Math.max(1, b[0] - a[0]), height: h }, style: { fill: PHASE_COLOURS[phase] ?? "#adb5bd" } };
      },
      encode: { x: [0, 1], y: 2 },
      data: bands.map((b) => [b[0], b[1], 0, b[3]]),
    },
    ...PHASES.map((p) => ({
      type: "line",
      name: p,
      stack: "probs",
      areaStyle: { opacity: 0.85 },
      lineStyle: { width: 0 },
      showSymbol: false,
      color: PHASE_COLOURS[p],
      xAxisIndex: 1,
      yAxisIndex: 1,
      data: preds.map((r) => [r.t_s, r.probs[p] ?? 0]),
      markLine: p === PHASES[0] ? { silent: true, symbol: "none", lineStyle: { color: "#000", type: "solid" }, label: { show: false }, data: [{ xAxis: view.cursor }] } : undefined,
    })),
  ];
  timelineChart.setOption(
    {
      animation: false,
      legend: { data: PHASES, top: 0 },
      tooltip: { trigger: "axis" },
      grid: [
        { left: 60, right: 20, top: 30, height: 30 },
        { left: 60, right: 20, top: 80, bottom: 30 },
      ],
      xAxis: [
        { type: "value", min: 0, max: Math.max(tMax, 1), gridIndex: 0, axisLabel: { show: false } },
        { type: "value", min: 0, max: Math.max(tMax, 1), gridIndex: 1, name: "t (s)" },
      ],
      yAxis: [
        { type: "category", data: ["truth"], gridIndex: 0 },
        { type: "value", min: 0, max: 1, gridIndex: 1, name: "P(phase)" },
      ],
      series,
      graphic: emptyNote(ep ? "" : "no replay yet (cis490 publish replay)"),
    },
  );
  const current = shownEmb.length ? shownEmb[shownEmb.length - 1] : null;
  // The scatter changes only with its own points, the highlighted one or the truth: skip it otherwise (predictions stream far more often).
  const allPhases = ep ? ep.phases : [];
  const embKey = `${view.episode}|${view.model}|${emb.length}|${shownEmb.length}|${allPhases.length}`;
  if (embKey !== lastEmbKey) {
    lastEmbKey = embKey;
    // Every window of the episode, coloured by its true phase; windows after the cursor are faded.
    const points = emb.map((r, i) => ({
      value: r.xy,
      itemStyle: { color: PHASE_COLOURS[phaseAt(allPhases, r.t_s)] ?? "#adb5bd", opacity: i < shownEmb.length ? 0.9 : 0.25 },
    }));
    embeddingChart.setOption({
      animation: false,
      title: { text: "embedding (PCA of training windows)", textStyle: { fontSize: 12 } },
      tooltip: { trigger: "item" },
      grid: { left: 50, right: 15, top: 35, bottom: 40 },
      xAxis: { type: "value", scale: true, name: "PC1", nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "value", scale: true, name: "PC2", nameLocation: "middle", nameGap: 34 },
      series: [
        { type: "scatter", name: "windows", symbolSize: 7, data: points },
        { type: "scatter", name: "current", symbolSize: 14, z: 3, itemStyle: { color: "#fff", borderColor: "#000", borderWidth: 2.5 }, data: current ? [current.xy] : [] },
      ],
    });
  }
  document.getElementById("embedding-note").textContent =
    m && emb.length === 0 ? `no embedding events for ${view.model}: its checkpoint stores no embedding PCA (trained before embeddings were kept; retrain it, see docs/embedding.md)` : "";
}

function renderProfiles() {
  const box = document.getElementById("profiles");
  const names = [...new Set([...PROFILES, ...state.profiles.keys()])];
  for (const name of names) {
    let c = profileCharts.get(name);
    if (!c) {
      const div = document.createElement("div");
      div.className = "profile";
      div.id = `profile-${name}`;
      div.dataset.profile = name;
      box.appendChild(div);
      c = chart(div.id);
      profileCharts.set(name, c);
    }
    const p = state.profiles.get(name);
    c.setOption(
      {
        animation: false,
        title: { text: name, subtext: p ? `${p.channel} · ${p.shape}` : "no attack_profile event", textStyle: { fontSize: 12 }, subtextStyle: { fontSize: 10 } },
        grid: { left: 30, right: 10, top: 45, bottom: 20 },
        xAxis: { type: "value", min: 0, max: 1, axisLabel: { show: false } },
        yAxis: { type: "value", min: 0, max: 1 },
        series: [{ type: "line", showSymbol: false, data: p ? p.curve.map((v, i) => [i / (p.curve.length - 1), v]) : [], lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.15 } }],
      },
    );
  }
}

// ---------- controls and the frame loop ----------

document.getElementById("episode").onchange = (ev) => {
  view.episode = ev.target.value;
  view.follow = false;
  document.getElementById("follow").checked = false;
  dirty.add("episodes").add("replay");
};
document.getElementById("model").onchange = (ev) => {
  view.model = ev.target.value;
  dirty.add("replay");
};
document.getElementById("speed").onchange = (ev) => (view.speed = Number(ev.target.value));
document.getElementById("follow").onchange = (ev) => {
  view.follow = ev.target.checked;
  if (view.follow) view.playing = false;
  dirty.add("episodes").add("replay");
};
document.getElementById("scrub").oninput = (ev) => {
  view.cursor = Number(ev.target.value);
  view.follow = false;
  view.playing = false;
  document.getElementById("follow").checked = false;
  dirty.add("replay");
};
const playButton = document.getElementById("play");
playButton.onclick = () => {
  view.playing = !view.playing;
  if (view.playing) {
    view.follow = false;
    document.getElementById("follow").checked = false;
    const ep = view.episode ? state.episodes.get(view.episode) : null;
    if (ep && view.cursor >= ep.tMax) view.cursor = 0;
  }
  dirty.add("replay");
};

let lastFrame = performance.now();
function frame(t) {
  const dt = t - lastFrame;
  lastFrame = t;
  if (view.playing) {
    const ep = view.episode ? state.episodes.get(view.episode) : null;
    view.cursor += (dt / 1000) * view.speed;
    if (!ep || view.cursor >= ep.tMax) view.playing = false;
    dirty.add("replay");
  }
  playButton.textContent = view.playing ? "pause" : "play";
  const start = performance.now();
  if (dirty.size) {
    if (dirty.delete("episodes")) renderEpisodeSelectors();
    if (dirty.delete("f1")) renderF1();
    if (dirty.delete("perf")) renderPerf();
    if (dirty.delete("replay")) renderReplay();
    if (dirty.delete("profiles")) renderProfiles();
    document.getElementById("counts").textContent = `${state.count} events`;
  }
  if (pendingSeqs.length) {
    const at = now();
    for (const seq of pendingSeqs) probe.rendered.push([seq, at]);
    if (probe.rendered.length > MAX_LOG) probe.rendered.splice(0, probe.rendered.length - MAX_LOG);
    pendingSeqs = [];
  }
  probe.frames.push([dt, performance.now() - start]);
  if (probe.frames.length > MAX_LOG) probe.frames.splice(0, probe.frames.length - MAX_LOG);
  requestAnimationFrame(frame);
}

window.addEventListener("resize", () => Object.values(probe.charts).forEach((c) => c.resize()));
for (const k of ["f1", "perf", "profiles", "replay", "episodes"]) dirty.add(k);
requestAnimationFrame(frame);
connect();
