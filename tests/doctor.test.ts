// `cis490 doctor`: BLAS detection from memory-map text (unit), the findings
// it derives (unit), and the real report of this process and of the CLI
// (integration: both addons load, the BLAS they loaded is reported).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { blasFromMaps, classifyLibrary, mappedPaths } from "../src/system/blas.js";
import { diagnose, runDoctor, type DoctorReport } from "../src/system/doctor.js";
import { runNativeSuites } from "./helpers/native.js";

const LIB = "/usr/lib/x86_64-linux-gnu";
const line = (path: string, addr = "7f0000000000-7f0000001000"): string => `${addr} r-xp 00000000 08:01 123456                     ${path}`;
const maps = (...paths: string[]): string =>
  [
    "55d0c0000000-55d0c0001000 r--p 00000000 08:01 42                         /usr/bin/node",
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]",
    "7f1000000000-7f1000001000 rw-p 00000000 00:00 0 ",
    ...paths.flatMap((p) => [line(p), line(p, "7f0000001000-7f0000002000")]),
    line(`${LIB}/libtorch_cpu.so.1.13`),
  ].join("\n") + "\n";
const identity = (p: string): string => p;

describe("BLAS detection from /proc/self/maps text", () => {
  it("lists each mapped file once, ignoring anonymous and special mappings", () => {
    const paths = mappedPaths(maps(`${LIB}/blas/libblas.so.3.11.0`) + line("/tmp/a file with spaces.so (deleted)") + "\n");
    expect(paths).toEqual(["/usr/bin/node", `${LIB}/blas/libblas.so.3.11.0`, `${LIB}/libtorch_cpu.so.1.13`, "/tmp/a file with spaces.so"]);
  });

  it("reports Debian's reference netlib BLAS and LAPACK as reference", () => {
    const r = blasFromMaps(maps(`${LIB}/lapack/liblapack.so.3.11.0`, `${LIB}/blas/libblas.so.3.11.0`), identity);
    expect(r.blas).toBe("reference");
    expect(r.lapack).toBe("reference");
    expect(r.libraries.map((l) => [l.role, l.flavour])).toEqual([["lapack", "reference"], ["blas", "reference"]]);
  });

  it("tells the OpenBLAS builds apart by their directory", () => {
    for (const v of ["pthread", "openmp", "serial"]) {
      const r = blasFromMaps(maps(`${LIB}/openblas-${v}/libopenblasp-r0.3.21.so`, `${LIB}/openblas-${v}/liblapack.so.3`, `${LIB}/openblas-${v}/libblas.so.3`), identity);
      expect(r.blas).toBe(`openblas-${v}`);
      expect(r.lapack).toBe(`openblas-${v}`);
      expect(r.libraries).toHaveLength(3);
    }
  });

  it("names the build whose code runs when the fronts and libopenblas.so.0 disagree", () => {
    // What a machine with only libblas/liblapack switched to the OpenMP build really mapped.
    const mixed = maps(`${LIB}/openblas-pthread/libopenblasp-r0.3.21.so`, `${LIB}/openblas-openmp/liblapack.so.3`, `${LIB}/openblas-openmp/libblas.so.3`);
    const r = blasFromMaps(mixed, identity);
    expect([r.blas, r.lapack]).toEqual(["openblas-pthread", "openblas-pthread"]);
    const f = diagnose(facts(mixed), LIB);
    expect(f.map((x) => [x.level, x.code])).toEqual([["warning", "mixed-openblas"]]);
    expect(f[0].fix).toContain(`update-alternatives --set libopenblas.so.0-x86_64-linux-gnu ${LIB}/openblas-openmp/libopenblas.so.0`);
  });

  it("classifies by the resolved path, not the alternatives link", () => {
    const real: Record<string, string> = { [`${LIB}/libblas.so.3`]: `${LIB}/blis-openmp/libblas.so.3`, [`${LIB}/liblapack.so.3`]: `${LIB}/lapack/liblapack.so.3.11.0` };
    const r = blasFromMaps(maps(`${LIB}/libblas.so.3`, `${LIB}/liblapack.so.3`), (p) => real[p] ?? p);
    expect(r.blas).toBe("blis");
    expect(r.libraries[0]).toMatchObject({ path: `${LIB}/libblas.so.3`, realPath: `${LIB}/blis-openmp/libblas.so.3`, variant: "openmp" });
    expect(r.lapack).toBe("reference");
  });

  it("recognises MKL and upstream OpenBLAS names, and leaves others unknown", () => {
    expect(blasFromMaps(maps("/opt/intel/oneapi/mkl/lib/libmkl_rt.so.2"), identity).blas).toBe("mkl");
    expect(classifyLibrary("/opt/OpenBLAS/lib/libopenblaso-r0.3.26.so")?.flavour).toBe("openblas-openmp");
    expect(classifyLibrary("/opt/OpenBLAS/lib/libopenblas.so.0")?.flavour).toBe("openblas");
    expect(classifyLibrary("/opt/acme/libblas.so.3")?.flavour).toBe("unknown");
    expect(classifyLibrary(`${LIB}/libtorch_cpu.so.1.13`)).toBeNull();
    expect(blasFromMaps(maps(), identity)).toEqual({ blas: null, lapack: null, libraries: [] });
  });
});

function facts(blasMaps: string, over: Partial<DoctorReport["threads"]> = {}, trainThreads = 2): Omit<DoctorReport, "ok" | "findings"> {
  return {
    addons: [
      { name: "cis490", path: "native/cis490.node", loaded: true, error: null, mtime: null, bytes: null, build: {} },
      { name: "engines", path: "native/engines.node", loaded: true, error: null, mtime: null, bytes: null, build: {} },
    ],
    blas: blasFromMaps(blasMaps, identity),
    torch: { version: "1.13.0", intraOpThreads: 1, interOpThreads: 1, trainThreads, mkl: false, mkldnn: true, parallelInfo: "" },
    xgboost: { version: "1.7.4", buildInfo: null },
    threads: { cores: 2, openblas: 1, blis: null, env: { OMP_NUM_THREADS: null }, ...over },
    cuda: { torchAvailable: false, torchDevices: 0, torchUsed: false, xgboostBuiltWithCuda: false },
  };
}

describe("doctor findings", () => {
  it("the reference BLAS is an error whose fix selects the optimised one", () => {
    const f = diagnose(facts(maps(`${LIB}/blas/libblas.so.3.11.0`, `${LIB}/lapack/liblapack.so.3.11.0`), { openblas: null }), LIB);
    expect(f.map((x) => [x.level, x.code])).toEqual([["error", "reference-blas"]]);
    expect(f[0].fix).toContain(`update-alternatives --set libblas.so.3-x86_64-linux-gnu ${LIB}/openblas-openmp/libblas.so.3`);
    expect(f[0].fix).toContain("apt-get install -y libopenblas0-openmp");
  });

  it("an optimised BLAS limited to one thread is healthy", () => {
    expect(diagnose(facts(maps(`${LIB}/openblas-pthread/libblas.so.3`, `${LIB}/openblas-pthread/liblapack.so.3`)), LIB)).toEqual([]);
  });

  it("OpenBLAS threads beside libtorch's threads fight", () => {
    const f = diagnose(facts(maps(`${LIB}/openblas-pthread/libblas.so.3`), { openblas: 2 }), LIB);
    expect(f.map((x) => [x.level, x.code, x.fix])).toEqual([["warning", "threads-fight", "export OPENBLAS_NUM_THREADS=1"]]);
    // One training thread: nothing to fight with.
    expect(diagnose(facts(maps(`${LIB}/openblas-pthread/libblas.so.3`), { openblas: 2 }, 1), LIB)).toEqual([]);
  });

  it("several BLAS pools with OMP_NUM_THREADS unset warn; an unloadable addon is an error", () => {
    const two = facts(maps(`${LIB}/blis-openmp/libblas.so.3`, `${LIB}/openblas-pthread/liblapack.so.3`, `${LIB}/openblas-pthread/libopenblasp-r0.3.21.so`));
    expect(diagnose(two, LIB).map((x) => x.code)).toEqual(["several-blas"]);
    expect(diagnose({ ...two, threads: { ...two.threads, env: { OMP_NUM_THREADS: "2" } } }, LIB)).toEqual([]);
    // BLIS with the reference LAPACK: one pool only, but the LAPACK is unoptimised.
    expect(diagnose(facts(maps(`${LIB}/blis-openmp/libblas.so.3`, `${LIB}/lapack/liblapack.so.3.11.0`)), LIB).map((x) => x.code)).toEqual(["reference-lapack"]);
    const broken = facts(maps(`${LIB}/openblas-pthread/libblas.so.3`));
    broken.addons[1] = { ...broken.addons[1], loaded: false, error: "libtorch_cpu.so: cannot open shared object file" };
    expect(diagnose(broken, LIB).map((x) => [x.level, x.code, x.fix])).toEqual([["error", "addon-missing", "make build"]]);
  });
});

describe.runIf(runNativeSuites)("doctor on this machine", () => {
  it("loads both addons and reports the BLAS this process mapped", () => {
    const r = runDoctor();
    expect(r.addons.map((a) => [a.name, a.loaded, a.error])).toEqual([["cis490", true, null], ["engines", true, null]]);
    expect(r.addons[0].build).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), profile: "release" });
    expect(r.addons[1].build).toMatchObject({ torch: r.torch?.version, xgboost: r.xgboost?.version, profile: expect.stringMatching(/^(release|debug)$/) });
    expect(r.torch?.version).toMatch(/^\d+\.\d+/);
    expect(r.xgboost?.version).toMatch(/^\d+\.\d+\.\d+$/);
    // libtorch links libblas.so.3: some BLAS is always mapped, with a real path on disk.
    expect(r.blas?.blas).not.toBeNull();
    expect(r.blas!.libraries.length).toBeGreaterThan(0);
    for (const l of r.blas!.libraries) expect(existsSync(l.realPath)).toBe(true);
    expect(r.ok).toBe(!r.findings.some((f) => f.level === "error"));
    expect(r.ok).toBe(r.blas?.blas !== "reference");
  });

  it.runIf(existsSync("dist/cli/main.js"))("the CLI's exit code follows the BLAS the engines load", () => {
    const run = (env: NodeJS.ProcessEnv) => spawnSync("node", ["bin/cis490", "doctor", "--json"], { encoding: "utf8", env: { ...process.env, ...env } });
    const normal = run({});
    const report = JSON.parse(normal.stdout) as DoctorReport;
    expect(normal.status).toBe(report.ok ? 0 : 1);
    // Force the reference netlib build in front of whatever is selected: the
    // doctor must see it in the maps, fail, and name the fix.
    if (existsSync(`${LIB}/blas/libblas.so.3`)) {
      const ref = spawnSync("node", ["bin/cis490", "doctor"], { encoding: "utf8", env: { ...process.env, LD_LIBRARY_PATH: `${LIB}/blas:${LIB}/lapack` } });
      expect(ref.status).toBe(1);
      expect(ref.stdout).toContain("BLAS in use: reference; LAPACK in use: reference");
      expect(ref.stdout).toContain(`${LIB}/blas/libblas.so.3`);
      expect(ref.stdout).toMatch(/ERROR: libtorch runs on the reference \(netlib\) BLAS[^\n]*\n  fix: sudo apt-get install -y \S+ && sudo update-alternatives --set /);
    }
  });
});
