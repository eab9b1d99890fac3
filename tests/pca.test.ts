// src/stats/pca.ts against numpy (fixtures/numpy-pca.json, made by
// fixtures/make_numpy_pca.py) and against cases whose answer is known
// exactly; both methods (covariance formed, or iterating on the data) agree.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fitPca, fitPcaWith, projectPca, type Pca, type PcaMethod } from "../src/stats/pca.js";
import { rng } from "./helpers/hostile.js";

interface Case {
  name: string;
  n: number;
  d: number;
  k: number;
  x: number[];
  mean: number[];
  components: number[][];
  explained_variance: number[];
  projection: number[];
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/numpy-pca.json", import.meta.url), "utf8")) as { cases: Case[] };
const METHODS: PcaMethod[] = ["covariance", "iterative"];

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
}

function unitRows(p: Pca): void {
  p.components.forEach((c, i) => {
    expect(Math.abs(c.reduce((s, v) => s + v * v, 0) - 1)).toBeLessThan(1e-9);
    for (let j = 0; j < i; j++) expect(Math.abs(c.reduce((s, v, t) => s + v * p.components[j][t], 0))).toBeLessThan(1e-9);
  });
}

describe("fitPca / projectPca", () => {
  for (const c of fixture.cases) {
    for (const method of METHODS) {
      it(`matches numpy: ${c.name} (${method})`, () => {
        const x = Float32Array.from(c.x);
        const p = fitPcaWith(x, c.n, c.d, c.k, method);
        unitRows(p);
        expectClose(p.mean, c.mean, 1e-9, "mean");
        c.components.forEach((comp, i) => expectClose(p.components[i], comp, 1e-5, `component ${i}`));
        expectClose(p.explained_variance, c.explained_variance, 1e-6 * c.explained_variance[0], "explained_variance");
        expectClose(projectPca(p, x, c.n, c.d), c.projection, 1e-4 * Math.sqrt(c.explained_variance[0]), "projection");
      });
    }
  }

  it("finds known directions exactly, with the sign convention, in a wide rank-2 case (both methods)", () => {
    // Rows a_i u + b_i w + offset, u and w orthonormal, a and b centred and uncorrelated: the components are u and w.
    const d = 3000;
    const n = 40;
    const u = new Float64Array(d);
    const w = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      u[j] = j % 3 === 0 ? -1 : 0;
      w[j] = j % 3 === 1 ? (j % 2 === 0 ? 1 : -1) : 0;
    }
    const nu = Math.sqrt(u.reduce((s, v) => s + v * v, 0));
    const nw = Math.sqrt(w.reduce((s, v) => s + v * v, 0));
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const a = (i % 2 === 0 ? 4 : -4) * nu; // variance 16 * n / (n - 1) along u
      const b = (Math.floor(i / 2) % 2 === 0 ? 1 : -1) * nw; // variance n / (n - 1) along w
      for (let j = 0; j < d; j++) x[i * d + j] = (a * u[j]) / nu + (b * w[j]) / nw + 0.25;
    }
    const results = METHODS.map((m) => fitPcaWith(x, n, d, 2, m));
    expect(fitPca(x, n, d)).toEqual(results[1]); // n * d * d is large: the default does not form the covariance
    for (const p of results) {
      unitRows(p);
      // Sign: u is all -1 where non-zero; the convention flips it to positive.
      expectClose(p.components[0], Array.from(u, (v) => -v / nu), 1e-7, "u");
      const wSign = Math.sign(w[w.findIndex((v) => v !== 0)]);
      expectClose(p.components[1], Array.from(w, (v) => (wSign * v) / nw), 1e-7, "w");
      expectClose(p.explained_variance, [(16 * n * nu * nu) / (n - 1), (n * nw * nw) / (n - 1)], 1e-6 * 16 * nu * nu, "variance");
    }
  });

  it("is deterministic and does not depend on the row order's sign choices", () => {
    const r = rng(9);
    const n = 200;
    const d = 12;
    const x = Float32Array.from({ length: n * d }, (_, i) => r() * (1 + (i % d)));
    const a = fitPca(x, n, d);
    expect(fitPca(x, n, d)).toEqual(a);
    // Reversing the rows changes nothing but rounding.
    const rev = new Float32Array(n * d);
    for (let i = 0; i < n; i++) rev.set(x.subarray(i * d, (i + 1) * d), (n - 1 - i) * d);
    const b = fitPca(rev, n, d);
    a.components.forEach((c, i) => expectClose(b.components[i], c, 1e-6, `component ${i}`));
  });

  it("handles rank below k, one row, and a constant column", () => {
    // All rows on one line: the second component has no variance and is a unit vector orthogonal to the first.
    const x = Float32Array.from([0, 0, 0, 1, 2, 0, 2, 4, 0, 3, 6, 0]);
    const p = fitPca(x, 4, 3, 2);
    unitRows(p);
    expectClose(p.components[0], [1 / Math.sqrt(5), 2 / Math.sqrt(5), 0], 1e-9, "line");
    expect(p.explained_variance[1]).toBe(0);
    const one = fitPca(Float32Array.from([1, 2, 3]), 1, 3, 2);
    expect(one.explained_variance).toEqual([0, 0]);
    expect([...projectPca(one, Float32Array.from([1, 2, 3]), 1, 3)]).toEqual([0, 0]);
  });

  it("refuses bad shapes and non-finite values", () => {
    expect(() => fitPca(new Float32Array(5), 2, 3)).toThrow(/n \* d/);
    expect(() => fitPca(new Float32Array(6), 2, 3, 4)).toThrow(/k must be/);
    expect(() => fitPca(Float32Array.from([1, Number.NaN, 0, 0]), 2, 2)).toThrow(/row 0/);
    const p = fitPca(Float32Array.from([0, 1, 1, 0, 2, 2]), 3, 2);
    expect(() => projectPca(p, new Float32Array(3), 1, 3)).toThrow(/width 2/);
  });
});
