// `cis490 doctor`: the libraries and thread settings this machine trains
// with (src/system/doctor.ts). This file prints the report and picks the
// exit code.

import { Command } from "clipanion";
import { BaseCommand, EXIT_FAILURE, EXIT_OK } from "../command.js";
import { formatTable } from "../text-table.js";
import { runDoctor, type DoctorReport } from "../../system/doctor.js";

export class DoctorCommand extends BaseCommand<DoctorReport> {
  static paths = [["doctor"]];

  static usage = Command.Usage({
    description: "Which BLAS, libtorch, XGBoost and threads this machine really trains with; warns with the fix.",
    details: `
      Loads both addons (\`native/cis490.node\`, \`native/engines.node\`) in this process, then reads the process's own memory maps (\`/proc/self/maps\`) to list the BLAS/LAPACK libraries the engines really loaded, with their resolved paths: reference (netlib), OpenBLAS (pthread, openmp, serial), BLIS, MKL or unknown. It also reports the libtorch and XGBoost versions, libtorch's intra-op threads, the OpenBLAS/BLIS thread counts, the thread environment variables, whether CUDA is available (neural models use it whenever it is), and each addon's build (version, profile, path, time).

      Errors: an addon that does not load; libtorch running on the reference BLAS (several times slower training). Warnings: reference LAPACK; OpenBLAS or BLIS running more than one thread beside libtorch's OpenMP threads; several BLAS implementations loaded with OMP_NUM_THREADS unset. Each comes with the command that fixes it.

      Exit codes: 0 when both addons load and an optimised BLAS is in use (warnings may be printed); 1 when an addon fails to load or the reference BLAS is loaded.
    `,
    examples: [
      ["Check the machine", "$0 doctor"],
      ["Machine-readable", "$0 doctor --json"],
    ],
  });

  protected async run(): Promise<DoctorReport> {
    return runDoctor();
  }

  protected render(report: DoctorReport): string {
    return render(report);
  }

  protected exitCodeOf(report: DoctorReport): number {
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  }
}

const show = (v: unknown): string => (v === null || v === undefined ? "-" : String(v));

function render(r: DoctorReport): string {
  const out: string[] = [];
  out.push("Addons:\n");
  out.push(
    formatTable(
      ["addon", "loads", "build", "built", "path"],
      r.addons.map((a) => [
        a.name,
        a.loaded ? "yes" : "NO",
        a.build ? Object.entries(a.build).filter(([k]) => k !== "compiled").map(([k, v]) => `${k} ${v}`).join(", ") : show(a.error),
        show(a.mtime),
        a.path,
      ]),
    ),
  );
  if (r.blas) {
    out.push(`\nBLAS in use: ${show(r.blas.blas)}; LAPACK in use: ${show(r.blas.lapack)}\n`);
    if (r.blas.libraries.length) {
      out.push(formatTable(["library (mapped)", "role", "flavour", "real path"], r.blas.libraries.map((l) => [l.path, l.role, l.flavour, l.realPath])));
    } else {
      out.push("  no BLAS/LAPACK library mapped\n");
    }
  }
  if (r.torch && r.xgboost) {
    out.push(`\nlibtorch ${r.torch.version} (intra-op threads ${r.torch.intraOpThreads} on this thread, ${r.torch.trainThreads} per training job; inter-op ${r.torch.interOpThreads}; MKL ${r.torch.mkl ? "yes" : "no"}, oneDNN ${r.torch.mkldnn ? "yes" : "no"})\n`);
    out.push(`XGBoost ${r.xgboost.version}${r.xgboost.buildInfo ? ` (OpenMP ${show(r.xgboost.buildInfo.USE_OPENMP)}, CUDA ${show(r.xgboost.buildInfo.USE_CUDA)}, debug build ${show(r.xgboost.buildInfo.DEBUG)})` : ""}\n`);
  }
  out.push(`Threads: ${r.threads.cores} cores; OpenBLAS ${show(r.threads.openblas)}; BLIS ${show(r.threads.blis)}\n`);
  out.push(`  env: ${Object.entries(r.threads.env).map(([k, v]) => `${k}=${v ?? "(unset)"}`).join(" ")}\n`);
  if (r.cuda) {
    out.push(`CUDA: libtorch ${r.cuda.torchAvailable ? `available (${r.cuda.torchDevices} device(s)); neural models use it` : "not available; neural models run on the CPU"}; XGBoost built with CUDA: ${show(r.cuda.xgboostBuiltWithCuda)}\n`);
  }
  out.push("\n");
  if (r.findings.length === 0) out.push("OK: both addons load, optimised BLAS, no thread contention found.\n");
  for (const f of r.findings) out.push(`${f.level.toUpperCase()}: ${f.message}\n  fix: ${f.fix}\n`);
  return out.join("");
}
