// `cis490 doctor`: what this machine really runs the toolkit on. Loads both
// addons in this process, then reads the process's own memory maps to see
// which BLAS/LAPACK the engines pulled in, and checks the thread settings
// that decide training speed. Returns a result object; the command prints it.

import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { blasFromMaps, type BlasFlavour, type BlasReport } from "./blas.js";
import { addonPath, loadCis490Addon, loadEnginesAddon as loadEngines } from "../native/addon.js";
import type { EnginesInfo } from "../engines/types.js";

/** The BLAS scripts/setup.sh installs and selects (keep the two in step). */
export const CHOSEN_BLAS = "openblas-openmp";

export const THREAD_ENV = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_WAIT_POLICY"] as const;

export interface AddonStatus {
  name: "cis490" | "engines";
  path: string;
  loaded: boolean;
  error: string | null;
  /** ISO time the file was last written (its build), null when missing. */
  mtime: string | null;
  bytes: number | null;
  build: Record<string, unknown> | null;
}

export interface Finding {
  level: "error" | "warning";
  code: "addon-missing" | "reference-blas" | "reference-lapack" | "threads-fight" | "several-blas" | "mixed-openblas" | "maps-unreadable";
  message: string;
  /** The exact command that fixes it. */
  fix: string;
}

export interface DoctorReport {
  ok: boolean;
  addons: AddonStatus[];
  blas: BlasReport | null;
  torch: { version: string; intraOpThreads: number; interOpThreads: number; trainThreads: number; mkl: boolean; mkldnn: boolean; parallelInfo: string } | null;
  xgboost: { version: string; buildInfo: Record<string, unknown> | null } | null;
  threads: { cores: number; openblas: number | null; blis: number | null; env: Record<string, string | null> };
  cuda: { torchAvailable: boolean; torchDevices: number; torchUsed: boolean; xgboostBuiltWithCuda: boolean | null } | null;
  findings: Finding[];
}

export interface DoctorOptions {
  /** The environment as the user set it (before loading the engines, which defaults OPENBLAS_NUM_THREADS). */
  env?: NodeJS.ProcessEnv;
  /** Reads /proc/self/maps (injectable for tests). */
  readMaps?: () => string;
  /** Multiarch triplet directory of the system libraries. */
  libDir?: string;
}

function multiarchLibDir(): string {
  const triplet = process.arch === "arm64" ? "aarch64-linux-gnu" : process.arch === "x64" ? "x86_64-linux-gnu" : `${process.arch}-linux-gnu`;
  return `/usr/lib/${triplet}`;
}

/** The command that installs and selects the chosen BLAS (what scripts/setup.sh does). */
export function blasFixCommand(libDir = multiarchLibDir()): string {
  const triplet = libDir.split("/").pop();
  const dir = `${libDir}/${CHOSEN_BLAS}`;
  return (
    `sudo apt-get install -y lib${CHOSEN_BLAS.replace("-", "0-")} && ` +
    `sudo update-alternatives --set libblas.so.3-${triplet} ${dir}/libblas.so.3 && ` +
    `sudo update-alternatives --set liblapack.so.3-${triplet} ${dir}/liblapack.so.3 && ` +
    `sudo update-alternatives --set libopenblas.so.0-${triplet} ${dir}/libopenblas.so.0` +
    ` (or: bash scripts/setup.sh)`
  );
}

function fileStat(path: string): { mtime: string | null; bytes: number | null } {
  try {
    const st = statSync(path);
    return { mtime: st.mtime.toISOString(), bytes: st.size };
  } catch {
    return { mtime: null, bytes: null };
  }
}

function loadAddon<T>(name: AddonStatus["name"], load: () => T, build: (a: T) => Record<string, unknown>): { status: AddonStatus; addon: T | null } {
  const path = addonPath(name);
  const base = { name, path, ...fileStat(path) };
  try {
    const addon = load();
    return { status: { ...base, loaded: true, error: null, build: build(addon) }, addon };
  } catch (e) {
    return { status: { ...base, loaded: false, error: (e as Error).message, build: null }, addon: null };
  }
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const family = (f: BlasFlavour): string => (f.startsWith("openblas") ? "openblas" : f);

/** Findings from the collected facts (pure: unit-tested). */
export function diagnose(r: Omit<DoctorReport, "ok" | "findings">, libDir = multiarchLibDir()): Finding[] {
  const findings: Finding[] = [];
  for (const a of r.addons) {
    if (!a.loaded) findings.push({ level: "error", code: "addon-missing", message: `native/${a.name}.node does not load: ${a.error}`, fix: "make build" });
  }
  const fix = blasFixCommand(libDir);
  if (r.blas) {
    if (r.blas.blas === "reference") {
      findings.push({
        level: "error",
        code: "reference-blas",
        message: "libtorch runs on the reference (netlib) BLAS: every GEMM is unoptimised and the GRU trains about 6x slower",
        fix,
      });
    }
    if (r.blas.lapack === "reference" && r.blas.blas !== "reference") {
      findings.push({ level: "warning", code: "reference-lapack", message: "LAPACK is the reference (netlib) build", fix });
    }
    // Two builds of one library (OpenBLAS pthread + openmp) mean the
    // alternatives disagree: the fronts come from one, the code from another.
    const builds = [...new Set(r.blas.libraries.map((l) => l.flavour))].filter((f) => f !== "reference");
    if (builds.filter((f) => f.startsWith("openblas")).length > 1) {
      findings.push({ level: "warning", code: "mixed-openblas", message: `two OpenBLAS builds are mapped (${builds.join(", ")}): libblas/liblapack/libopenblas alternatives point at different builds`, fix });
    }
    // The reference build runs no threads of its own: only optimised builds' pools can compete.
    const families = [...new Set(builds.map(family))];
    if (families.length > 1 && r.threads.env.OMP_NUM_THREADS === null) {
      findings.push({
        level: "warning",
        code: "several-blas",
        message: `several BLAS implementations are loaded (${families.join(", ")}), each with its own thread pool, and OMP_NUM_THREADS is unset`,
        fix,
      });
    }
  }
  const trainThreads = r.torch?.trainThreads ?? 1;
  for (const [name, n, env] of [["OpenBLAS", r.threads.openblas, "OPENBLAS_NUM_THREADS"], ["BLIS", r.threads.blis, "BLIS_NUM_THREADS"]] as const) {
    if (n !== null && n > 1 && trainThreads > 1) {
      findings.push({
        level: "warning",
        code: "threads-fight",
        message: `${name} runs ${n} threads of its own beside libtorch's ${trainThreads} OpenMP threads on ${r.threads.cores} cores (they preempt each other)`,
        fix: `export ${env}=1`,
      });
    }
  }
  return findings;
}

/** Loads both addons in this process and reports what they run on. */
export function runDoctor(o: DoctorOptions = {}): DoctorReport {
  const env = o.env ?? { ...process.env };
  const libDir = o.libDir ?? multiarchLibDir();
  const native = loadAddon(
    "cis490",
    () => loadCis490Addon(),
    (a) => parseJson(a.buildInfo()) ?? { version: a.version() },
  );
  const engines = loadAddon("engines", () => loadEngines(), (e) => {
    const i = e.info();
    return { torch: i.torch.torchVersion, xgboost: i.xgboost.version, ...i.build };
  });
  const info: EnginesInfo | null = engines.addon?.info() ?? null;

  let blas: BlasReport | null = null;
  let mapsError: string | null = null;
  if (engines.addon) {
    try {
      blas = blasFromMaps((o.readMaps ?? (() => readFileSync("/proc/self/maps", "utf8")))());
    } catch (e) {
      mapsError = (e as Error).message;
    }
  }
  const xgbBuild = parseJson(info?.xgboost.buildInfo);
  const facts: Omit<DoctorReport, "ok" | "findings"> = {
    addons: [native.status, engines.status],
    blas,
    torch: info && {
      version: info.torch.torchVersion,
      intraOpThreads: info.torch.intraOpThreads,
      interOpThreads: info.torch.interOpThreads,
      // What `cis490 train` passes to every job unless --threads says otherwise.
      trainThreads: availableParallelism(),
      mkl: info.torch.mkl,
      mkldnn: info.torch.mkldnn,
      parallelInfo: info.torch.parallelInfo,
    },
    xgboost: info && { version: info.xgboost.version, buildInfo: xgbBuild },
    threads: {
      cores: info?.torch.availableCores ?? availableParallelism(),
      openblas: info && info.torch.openblasThreads >= 0 ? info.torch.openblasThreads : null,
      blis: info && info.torch.blisThreads >= 0 ? info.torch.blisThreads : null,
      env: Object.fromEntries(THREAD_ENV.map((k) => [k, env[k] ?? null])),
    },
    cuda: info && {
      torchAvailable: info.torch.cudaAvailable,
      torchDevices: info.torch.cudaDeviceCount,
      // Neural models use device "auto": CUDA whenever libtorch has a device.
      torchUsed: info.torch.cudaAvailable,
      xgboostBuiltWithCuda: typeof xgbBuild?.USE_CUDA === "boolean" ? xgbBuild.USE_CUDA : null,
    },
  };
  const findings = diagnose(facts, libDir);
  if (mapsError !== null) {
    findings.push({ level: "warning", code: "maps-unreadable", message: `cannot read /proc/self/maps (${mapsError}); the loaded BLAS is unknown`, fix: "run cis490 doctor on Linux" });
  }
  return { ok: !findings.some((f) => f.level === "error"), ...facts, findings };
}
