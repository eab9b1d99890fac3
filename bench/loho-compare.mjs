// One table from several bench/loho.mjs runs (each DIR holds a loho.json),
// e.g. the same models on features made with different schema options:
// per held-out host and run, every model's macro F1, the plain XGBoost
// baseline on that run's own columns, and the paired difference (bold where
// the 95% interval excludes 0); with several seeds, the difference's mean,
// range and how many seeds are significant each way; for a GBT, the
// boosting rounds its seed-0 checkpoint kept (early stopping or k-fold by
// host), read from DIR/<host>/artifacts/.
//
// node bench/loho-compare.mjs DIR[=label] ...

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const runs = process.argv.slice(2).map((a) => {
  const [dir, label] = a.split("=");
  const doc = JSON.parse(readFileSync(join(dir, "loho.json"), "utf8"));
  return { label: label ?? dir, dir, doc };
});
if (runs.length === 0) {
  process.stderr.write("usage: node bench/loho-compare.mjs DIR[=label] ...\n");
  process.exit(2);
}

const sign = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
const iv = (i) => `${i.point.toFixed(3)} [${i.lo.toFixed(3)}, ${i.hi.toFixed(3)}]`;
const siv = (i, bold) => {
  const s = `${sign(i.point)} [${sign(i.lo)}, ${sign(i.hi)}]`;
  return bold ? `**${s}**` : s;
};

const lines = [
  "| held-out host | run | model | macro F1 (seed 0) | plain XGBoost | model − plain (seed 0) | rounds kept | over seeds: mean (min..max), significant +/− |",
  "|---|---|---|---|---|---|---|---|",
];
const hosts = [...new Set(runs.flatMap((r) => r.doc.results.map((x) => x.host)))].sort();
for (const host of hosts) {
  for (const { label, dir, doc } of runs) {
    const r = doc.results.find((x) => x.host === host);
    if (!r) continue;
    for (const [name, list] of Object.entries(r.seeds ?? {})) {
      const mode = name.slice(name.lastIndexOf("_") + 1);
      const first = list[0];
      let over = "";
      if (list.length > 1) {
        const d = list.map((s) => s.diff.point);
        const up = list.filter((s) => s.excludes_zero && s.diff.point > 0).length;
        const down = list.filter((s) => s.excludes_zero && s.diff.point < 0).length;
        const f1 = list.map((s) => s.macro_f1.point);
        over = `${sign(d.reduce((a, b) => a + b, 0) / d.length)} (${sign(Math.min(...d))}..${sign(Math.max(...d))}), +${up}/−${down} of ${d.length}; F1 ${Math.min(...f1).toFixed(3)}..${Math.max(...f1).toFixed(3)}`;
      }
      const sidecar = ["artifacts", "artifacts-s0"].map((a) => join(dir, host, a, `${name}.ckpt.json`)).find(existsSync);
      const gbt = sidecar ? JSON.parse(readFileSync(sidecar, "utf8")).training?.gbt : undefined;
      lines.push(`| ${host} | ${label} | ${name} | ${iv(first.macro_f1)} | ${r.plain?.[mode] ? iv(r.plain[mode].macro_f1) : "n/a"} | ${siv(first.diff, first.excludes_zero)} | ${gbt ? gbt.best_iteration + 1 : ""} | ${over} |`);
    }
  }
}
process.stdout.write(lines.join("\n") + "\n");
