// The alert policy and its evaluation on hand-made traces with known answers.

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDetectHtml, renderDetectMarkdown } from "../src/deploy/report.js";
import { AlertState, checkPolicy, DEFAULT_POLICY } from "../src/deploy/alert.js";
import { evaluatePolicy, type EpisodeTrace } from "../src/deploy/evaluate.js";

const CLASSES = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"];

/** One episode: per window the infected probability (split over infecting) and the true phase. */
function trace(id: string, infected: number[], phase: number[], start: number | null): EpisodeTrace {
  const probs = new Float32Array(infected.length * 6);
  infected.forEach((p, w) => {
    probs[w * 6 + 2] = p;
    probs[w * 6] = 1 - p;
  });
  return { episode_id: id, infecting_start_s: start, t_s: Float64Array.from(infected, (_, w) => 10 + 5 * w), probs, phase: Int8Array.from(phase) };
}

describe("alert policy", () => {
  it("needs `consecutive` windows in a row at or above the threshold; a dip resets the run", () => {
    const s = new AlertState({ ...DEFAULT_POLICY, threshold: 0.5, consecutive: 2 }, CLASSES);
    const p = (v: number) => [1 - v, 0, v / 2, v / 2, 0, 0];
    expect([0.6, 0.4, 0.6, 0.5, 0.9, 0.1].map((v, w) => s.push(w, p(v)))).toEqual([false, false, false, true, true, false]);
    expect(s.firstAlertWindow).toBe(3);
    expect(() => checkPolicy({ ...DEFAULT_POLICY, infectedPhases: ["nope"] }, CLASSES)).toThrow(/infected phases/);
    expect(() => checkPolicy({ ...DEFAULT_POLICY, threshold: 2 }, CLASSES)).toThrow(/threshold/);
  });

  it("detection rate, delays, false alarms per clean hour, sweep", () => {
    const traces = [
      // infected at 20 s; alert at windows 3,4 (t 25, 30): delay 30 - 20 = 10.
      trace("a", [0.1, 0.1, 0.2, 0.9, 0.9, 0.9], [0, 0, 2, 2, 3, 3], 20),
      // never alerts.
      trace("b", [0.1, 0.1, 0.1, 0.1], [0, 0, 2, 2], 15),
      // clean episode with one false alarm run (windows 1-2) and 4 clean windows.
      trace("c", [0.1, 0.8, 0.8, 0.1], [0, 0, 0, 0], null),
    ];
    const e = evaluatePolicy(traces, CLASSES, { ...DEFAULT_POLICY, threshold: 0.5, consecutive: 2 }, 5, { resamples: 200, seed: 1, thresholds: [0.05, 0.5, 0.95] });
    expect(e.point.infected_episodes).toBe(2);
    expect(e.point.detected).toBe(1);
    expect(e.point.detection_rate).toBe(0.5);
    expect(e.point.median_delay_s).toBe(10);
    expect(e.point.false_alarms).toBe(1);
    expect(e.point.clean_hours).toBeCloseTo((8 * 5) / 3600, 12);
    expect(e.point.false_alarms_per_clean_hour).toBeCloseTo(90, 9);
    expect(e.detection_rate.lo!).toBeLessThanOrEqual(0.5);
    expect(e.detection_rate.hi!).toBeGreaterThanOrEqual(0.5);
    expect(e.sweep.map((s) => s.detected)).toEqual([2, 1, 0]);
    expect(e.sweep[0].false_alarms).toBeGreaterThanOrEqual(1);
    expect(renderDetectMarkdown(e, "toy")).toContain("| 0.50 | 1/2 | 0.500 |");
  });

  it.skipIf(!existsSync("/usr/bin/chromium"))("the report renders in headless Chromium with its sweep chart, offline", async () => {
    const traces = [trace("a", [0.1, 0.3, 0.6, 0.9, 0.9], [0, 0, 2, 2, 3], 12), trace("c", [0.2, 0.7, 0.7, 0.1], [0, 0, 0, 0], null)];
    const e = evaluatePolicy(traces, CLASSES, DEFAULT_POLICY, 5, { resamples: 50, seed: 0 });
    const file = join(mkdtempSync(join(tmpdir(), "cis490-detect-report-")), "detect_eval.html");
    const html = renderDetectHtml(e, "toy");
    expect(html).not.toMatch(/<script/i);
    writeFileSync(file, html);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      const chart = page.locator('figure[data-chart="threshold-sweep"] svg');
      await expect(chart.count()).resolves.toBe(1);
      const box = await chart.boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(await chart.textContent()).toContain("false alarms / clean h");
      await expect(page.locator("table").nth(1).locator("tbody tr").count()).resolves.toBe(19);
      expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
