// Which BLAS / LAPACK a process really runs on, read from its own memory
// maps (/proc/self/maps) rather than from the alternatives links: libtorch
// links plain libblas.so.3 / liblapack.so.3, and whatever the dynamic linker
// resolved those to (the alternatives system, LD_LIBRARY_PATH, a vendor
// library) is what every GEMM runs on.

import { realpathSync } from "node:fs";
import { basename, dirname } from "node:path";

export type BlasFlavour =
  | "reference"
  | "openblas-pthread"
  | "openblas-openmp"
  | "openblas-serial"
  | "openblas"
  | "blis"
  | "mkl"
  | "unknown";

/** A mapped library that provides BLAS or LAPACK. */
export interface BlasLibrary {
  /** The path the kernel shows in the maps. */
  path: string;
  /** Its fully resolved path (symlinks followed; the maps path when it cannot be resolved). */
  realPath: string;
  /** What the file provides under its own name. */
  role: "blas" | "lapack" | "implementation";
  flavour: BlasFlavour;
  /** blis-openmp / blis-pthread / blis-serial, when the file tells. */
  variant: string | null;
}

export interface BlasReport {
  /** The flavour behind the BLAS symbols (libblas.so.3, else the implementation library). */
  blas: BlasFlavour | null;
  /** The flavour behind the LAPACK symbols (liblapack.so.3), null when none is mapped. */
  lapack: BlasFlavour | null;
  libraries: BlasLibrary[];
}

/** Unique file paths mapped in a /proc/<pid>/maps text, in first-seen order. */
export function mappedPaths(mapsText: string): string[] {
  const seen = new Set<string>();
  for (const line of mapsText.split("\n")) {
    // address perms offset dev inode pathname (the pathname may contain spaces)
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    seen.add(m[1].replace(/ \(deleted\)$/, ""));
  }
  return [...seen];
}

const BLAS_FILE = /^(libblas|liblapack|libopenblas|libblis|libmkl|libcblas)[^/]*\.so/;

/** The flavour a library file belongs to, from its (real) path. Pure: unit-tested on sample paths. */
export function classifyLibrary(realPath: string): { role: BlasLibrary["role"]; flavour: BlasFlavour; variant: string | null } | null {
  const file = basename(realPath);
  if (!BLAS_FILE.test(file)) return null;
  const dir = basename(dirname(realPath));
  const role: BlasLibrary["role"] = file.startsWith("libblas") || file.startsWith("libcblas") ? "blas" : file.startsWith("liblapack") ? "lapack" : "implementation";
  if (file.startsWith("libmkl") || /mkl/i.test(dir)) return { role, flavour: "mkl", variant: null };
  const openblasDir = /^openblas-(pthread|openmp|serial)$/.exec(dir);
  if (openblasDir) return { role, flavour: `openblas-${openblasDir[1]}` as BlasFlavour, variant: openblasDir[1] };
  const blisDir = /^blis-(pthread|openmp|serial)$/.exec(dir);
  if (blisDir) return { role, flavour: "blis", variant: blisDir[1] };
  if (file.startsWith("libblis")) return { role, flavour: "blis", variant: null };
  if (file.startsWith("libopenblas")) {
    // Upstream names: libopenblasp (pthreads), libopenblaso (OpenMP), libopenblas (serial or unknown).
    if (file.startsWith("libopenblasp")) return { role, flavour: "openblas-pthread", variant: "pthread" };
    if (file.startsWith("libopenblaso")) return { role, flavour: "openblas-openmp", variant: "openmp" };
    return { role, flavour: "openblas", variant: null };
  }
  // Debian's netlib reference: /usr/lib/<triplet>/blas/libblas.so.3.x.y and lapack/liblapack.so.3.x.y.
  if ((role === "blas" && dir === "blas") || (role === "lapack" && dir === "lapack")) return { role, flavour: "reference", variant: null };
  return { role, flavour: "unknown", variant: null };
}

function resolveReal(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The BLAS/LAPACK libraries in a maps text and the flavour behind each interface. */
export function blasFromMaps(mapsText: string, realpath: (p: string) => string = resolveReal): BlasReport {
  const libraries: BlasLibrary[] = [];
  for (const path of mappedPaths(mapsText)) {
    const realPath = realpath(path);
    const c = classifyLibrary(realPath) ?? classifyLibrary(path);
    if (c) libraries.push({ path, realPath, ...c });
  }
  const first = (role: BlasLibrary["role"]): BlasFlavour | null => libraries.find((l) => l.role === role)?.flavour ?? null;
  // OpenBLAS's libblas.so.3 / liblapack.so.3 are thin fronts over
  // libopenblas.so.0, found through the libopenblas.so.0 alternative (a
  // separate link, which may name another build): the code runs there.
  const impl = first("implementation");
  const viaImpl = (f: BlasFlavour | null): BlasFlavour | null => (f !== null && f.startsWith("openblas") && impl !== null ? impl : f);
  return { blas: viaImpl(first("blas")) ?? impl, lapack: viaImpl(first("lapack")), libraries };
}
