//! Window features and tensors of one decoded episode, exactly as
//! docs/features.md prescribes (the TypeScript twin src/reference/features.ts
//! follows the same text; parity tests compare the two).
//!
//! Work per episode: one stable sort per source (skipped when already in
//! order), one pass per channel to build finite samples, then per channel a
//! two-pointer sweep over the windows (samples are time-sorted, windows
//! advance) and a forward-moving interpolation pointer. No allocation per
//! window: buffers are sized once per episode.

pub mod baseline;
pub mod channels;
pub mod series;
pub mod summary;
pub mod tensor;
pub mod windows;

use crate::archive::errno_name;
use crate::inspect::decode_reader;
use crate::limits::InspectOptions;
use crate::parse::DecodedEpisode;
use crate::signals::{ns_diff_s, phase_code};
use baseline::{Stat, DEFAULT_STATS};
use channels::{N_CHANNELS, N_STATS};
use std::path::Path;

pub use channels::{feature_names, realistic_channel_mask, realistic_feature_mask, schema_json, CHANNELS, STATS};

/// At most this many tensor values (46 x T per window) per episode; beyond
/// it the episode gets the error `limit:tensor-values` (256 MiB of f32).
pub const MAX_TENSOR_VALUES: usize = 1 << 26;

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureOptions {
    pub window_s: f64,
    pub stride_s: f64,
    pub hz: f64,
    pub tensors: bool,
    /// The summary statistics per channel, in vector order (default: the plain five).
    pub stats: Vec<Stat>,
    /// Length of the episode's baseline period in seconds; 0 = no baseline.
    pub baseline_s: f64,
    /// Tensors minus the channel's baseline median (mask 0 where there is none).
    pub tensor_baseline: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions { window_s: 10.0, stride_s: 5.0, hz: 10.0, tensors: false, stats: DEFAULT_STATS.to_vec(), baseline_s: 0.0, tensor_baseline: false }
    }
}

impl FeatureOptions {
    /// Grid points per window, `round(W * hz)` (f64::round and JS Math.round
    /// agree on positive values).
    pub fn tensor_len(&self) -> usize {
        (self.window_s * self.hz).round() as usize
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("window_s", self.window_s), ("stride_s", self.stride_s), ("hz", self.hz)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("invalid feature options: {name} must be a finite number > 0, got {v}"));
            }
        }
        let t = (self.window_s * self.hz).round();
        if !(1.0..=1e6).contains(&t) {
            return Err(format!("invalid feature options: round(window_s * hz) must be in 1..=1000000, got {t}"));
        }
        if !(self.baseline_s.is_finite() && self.baseline_s >= 0.0) {
            return Err(format!("invalid feature options: baseline_s must be a finite number >= 0, got {}", self.baseline_s));
        }
        if self.stats.is_empty() {
            return Err("invalid feature options: stats must not be empty".into());
        }
        for (i, s) in self.stats.iter().enumerate() {
            if self.stats[..i].contains(s) {
                return Err(format!("invalid feature options: stat `{}` appears twice", s.as_str()));
            }
            if s.needs_baseline() && self.baseline_s == 0.0 {
                return Err(format!("invalid feature options: stat `{}` needs baseline_s > 0", s.as_str()));
            }
        }
        if self.tensor_baseline && self.baseline_s == 0.0 {
            return Err("invalid feature options: tensor_baseline needs baseline_s > 0".into());
        }
        Ok(())
    }

    /// Summary values per window (channels x stats).
    pub fn n_features(&self) -> usize {
        N_CHANNELS * self.stats.len()
    }

    fn uses_baseline(&self) -> bool {
        self.baseline_s > 0.0 && (self.tensor_baseline || self.stats.iter().any(|s| s.needs_baseline()))
    }
}

/// The `featurizeFiles` options JSON: the feature options plus the decoder's limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureRequest {
    pub features: FeatureOptions,
    pub inspect: InspectOptions,
}

impl FeatureRequest {
    /// Missing fields take defaults; unknown fields, wrong types and invalid
    /// values are errors.
    pub fn from_json(text: &str) -> Result<Self, String> {
        // Parsed by hand: unknown top-level keys are errors, and `stats` names map onto `Stat`.
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid feature options: {e}"))?;
        let obj = v.as_object().ok_or("invalid feature options: not a JSON object")?;
        let mut req = FeatureRequest::default();
        for (k, val) in obj {
            let num = || val.as_f64().ok_or_else(|| format!("invalid feature options: {k} must be a number"));
            match k.as_str() {
                "window_s" => req.features.window_s = num()?,
                "stride_s" => req.features.stride_s = num()?,
                "hz" => req.features.hz = num()?,
                "tensors" => req.features.tensors = val.as_bool().ok_or("invalid feature options: tensors must be a boolean")?,
                "baseline_s" => req.features.baseline_s = num()?,
                "tensor_baseline" => req.features.tensor_baseline = val.as_bool().ok_or("invalid feature options: tensor_baseline must be a boolean")?,
                "stats" => {
                    let list = val.as_array().ok_or("invalid feature options: stats must be an array of names")?;
                    req.features.stats = list
                        .iter()
                        .map(|s| s.as_str().and_then(Stat::from_name).ok_or_else(|| format!("invalid feature options: unknown stat {s}")))
                        .collect::<Result<_, _>>()?;
                }
                "inspect" => req.inspect = InspectOptions::from_json(&val.to_string())?,
                _ => return Err(format!("invalid feature options: unknown field `{k}`")),
            }
        }
        req.features.validate()?;
        Ok(req)
    }
}

/// clean, armed, infecting, infected_running, dormant, failed.
pub const N_PHASES: usize = 6;

/// Features of one episode (mirrors `EpisodeWindows` in src/features/types.ts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeWindows {
    /// io errno name or the decoder's fatal code, or `limit:windows` /
    /// `limit:tensor-values`; then there are no windows.
    pub error: Option<String>,
    pub n_windows: usize,
    pub t0_wall_ns: Option<i64>,
    pub duration_s: Option<f64>,
    pub tensor_len: usize,
    pub phase: Vec<i8>,
    pub t_start_s: Vec<f64>,
    /// Per phase code 0..5, the episode-relative time of the first label row
    /// with that phase (file order); NaN when the phase never occurs. Lets
    /// evaluation measure detection delay from the start of `infecting`.
    pub phase_start_s: Vec<f64>,
    /// `[n_windows][46 * stats]` (230 with the default statistics).
    pub summary: Vec<f64>,
    /// `[n_windows][46][tensor_len]`; Some (possibly empty) iff options.tensors.
    pub x: Option<Vec<f32>>,
    pub mask: Option<Vec<u8>>,
}

impl EpisodeWindows {
    fn empty(opts: &FeatureOptions) -> Self {
        EpisodeWindows {
            tensor_len: opts.tensor_len(),
            phase_start_s: vec![f64::NAN; N_PHASES],
            x: opts.tensors.then(Vec::new),
            mask: opts.tensors.then(Vec::new),
            ..Default::default()
        }
    }

    fn failed(opts: &FeatureOptions, error: String) -> Self {
        EpisodeWindows { error: Some(error), ..Self::empty(opts) }
    }
}

/// Buffers reused across the channels and windows of one episode.
#[derive(Default)]
struct Scratch {
    samples: series::Samples,
    series: series::SeriesScratch,
    sorted: Vec<f64>,
    /// `[46][n_windows]` baseline medians (empty without a baseline).
    base: Vec<Vec<f64>>,
    raw: [f64; N_STATS],
}

/// Duration `D` (docs/features.md): meta's observed duration when finite
/// and > 0, else the last proc/guest/qmp/netflow row relative to t0.
fn duration(ep: &DecodedEpisode, t0: i64) -> Option<f64> {
    let observed = ep.meta.as_ref().and_then(|m| m.duration_observed_s).filter(|d| d.is_finite() && *d > 0.0);
    observed.or_else(|| {
        [&ep.proc, &ep.guest, &ep.qmp, &ep.netflow]
            .iter()
            .flat_map(|t| t.t_wall_ns.iter().copied())
            .max()
            .map(|tmax| ns_diff_s(tmax, t0))
    })
}

pub fn featurize(ep: &DecodedEpisode, opts: &FeatureOptions) -> EpisodeWindows {
    let mut out = EpisodeWindows::empty(opts);
    let Some(&t0) = ep.labels.t_wall_ns.first() else {
        return out; // no labels: no windows, not an error
    };
    out.t0_wall_ns = Some(t0);
    out.duration_s = duration(ep, t0);
    let Some(d) = out.duration_s else {
        return out;
    };
    let (w, s) = (opts.window_s, opts.stride_s);
    if let Err(code) = windows::window_starts(d, w, s, &mut out.t_start_s) {
        return EpisodeWindows { t0_wall_ns: out.t0_wall_ns, duration_s: out.duration_s, ..EpisodeWindows::failed(opts, code.into()) };
    }
    let nw = out.t_start_s.len();
    let tl = opts.tensor_len();
    if opts.tensors && nw.saturating_mul(N_CHANNELS * tl) > MAX_TENSOR_VALUES {
        return EpisodeWindows { t0_wall_ns: out.t0_wall_ns, duration_s: out.duration_s, ..EpisodeWindows::failed(opts, "limit:tensor-values".into()) };
    }
    out.n_windows = nw;

    let rel: Vec<f64> = ep.labels.t_wall_ns.iter().map(|&tw| ns_diff_s(tw, t0)).collect();
    let codes: Vec<i8> = ep.labels.phase.iter().map(phase_code).collect();
    for (&code, &r) in codes.iter().zip(&rel) {
        if code >= 0 && out.phase_start_s[code as usize].is_nan() {
            out.phase_start_s[code as usize] = r;
        }
    }
    out.phase = out.t_start_s.iter().map(|&a| windows::phase_at(&rel, &codes, a + w / 2.0)).collect();

    let mut sc = Scratch::default();
    series::build(ep, t0, &mut sc.samples, &mut sc.series);

    if opts.uses_baseline() {
        sc.base = (0..N_CHANNELS)
            .map(|c| {
                let (t, v) = sc.samples.channel(c);
                let mut m = Vec::with_capacity(nw);
                baseline::medians(t, v, &out.t_start_s, opts.baseline_s, &mut sc.sorted, &mut m);
                m
            })
            .collect();
    }

    let nf = opts.n_features();
    let ns = opts.stats.len();
    let plain = opts.stats == DEFAULT_STATS;
    out.summary = vec![0.0; nw * nf];
    for c in 0..N_CHANNELS {
        let (t, v) = sc.samples.channel(c);
        // Two pointers: samples are time-sorted and both window edges only advance.
        let (mut lo, mut hi) = (0usize, 0usize);
        for (k, &a) in out.t_start_s.iter().enumerate() {
            let b = a + w;
            while lo < t.len() && t[lo] < a {
                lo += 1;
            }
            hi = hi.max(lo);
            while hi < t.len() && t[hi] < b {
                hi += 1;
            }
            let at = k * nf + c * ns;
            if plain {
                summary::window_stats(&t[lo..hi], &v[lo..hi], &mut sc.sorted, &mut out.summary[at..at + N_STATS]);
            } else {
                summary::window_stats(&t[lo..hi], &v[lo..hi], &mut sc.sorted, &mut sc.raw);
                let m = sc.base.get(c).map_or(f64::NAN, |b| b[k]);
                for (j, s) in opts.stats.iter().enumerate() {
                    out.summary[at + j] = s.value(&sc.raw, hi - lo, m);
                }
            }
        }
    }

    if opts.tensors {
        let grid: Vec<f64> = (0..tl).map(|j| j as f64 / opts.hz).collect();
        let mut x = vec![0f32; nw * N_CHANNELS * tl];
        let mut mask = vec![0u8; nw * N_CHANNELS * tl];
        for c in 0..N_CHANNELS {
            let (t, v) = sc.samples.channel(c);
            let offsets = if opts.tensor_baseline { Some(sc.base[c].as_slice()) } else { None };
            tensor::fill_channel(t, v, &out.t_start_s, &grid, c, offsets, &mut x, &mut mask);
        }
        out.x = Some(x);
        out.mask = Some(mask);
    }
    out
}

/// Decodes and featurises one `.tar.zst`. An unreadable file or a fatal
/// decode error gives `error` and no windows; bad rows are simply absent.
pub fn featurize_path(path: &Path, inspect: &InspectOptions, opts: &FeatureOptions) -> EpisodeWindows {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return EpisodeWindows::failed(opts, errno_name(&e)),
    };
    featurize_reader(f, inspect, opts)
}

pub fn featurize_reader<R: std::io::Read>(r: R, inspect: &InspectOptions, opts: &FeatureOptions) -> EpisodeWindows {
    let (report, ep) = decode_reader(r, inspect);
    if let Some(code) = report.io_error {
        return EpisodeWindows::failed(opts, code);
    }
    if let Some(code) = report.fatal {
        return EpisodeWindows::failed(opts, code.to_string());
    }
    featurize(&ep, opts)
}
