// The comparison report as a person sees it: opened in headless Chromium,
// with its charts drawn as inline SVG (no network), untested profiles shown as
// untested, failures listed; and the Markdown twin carrying the same numbers.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderHtml, renderMarkdown } from "../src/eval/report/render.js";
import { sampleComparison } from "./helpers/comparison.js";

import { CHROMIUM, requirePrerequisite, skipWithout } from "./helpers/prerequisites.js";

describe("comparison report", () => {
  it("Markdown lists every model, untested profiles and failures", () => {
    const md = renderMarkdown(sampleComparison());
    expect(md).toMatch(/\| gbt \| realistic \| 0\.710 \[0\.670, 0\.745\] \|/);
    expect(md).toMatch(/Untested profiles .*scan-and-dial/);
    expect(md).toMatch(/\| scan-and-dial \| untested \| untested \| untested \| untested \|/);
    expect(md).toMatch(/\+0\.050 \[0\.010, 0\.090\] \*/);
    expect(md).toContain("lstm_oracle.ckpt.json");
    // No number for the untested profile is averaged into anything: it has no interval anywhere.
    expect(md).not.toMatch(/scan-and-dial \| \d/);
  });

  it("the infected-vs-clean table lists every model, the anomaly detector without a macro F1", () => {
    const md = renderMarkdown(sampleComparison());
    expect(md).toContain("## Infected vs clean");
    expect(md).toMatch(/\| eif \| realistic \| none \(anomaly detector\) \| 0\.870 \[0\.850, 0\.885\] \|/);
    expect(md).toMatch(/\| gbt \| realistic \| 0\.710 \[0\.670, 0\.745\] \| 0\.971 \[/);
    expect(md).toMatch(/\| scan-and-dial \| untested \(no test windows\) \|/);
    expect(md).toContain("## Episode verdicts (alert policy)");
    expect(md).toContain("no negative episode");
    expect(renderHtml(sampleComparison())).toContain('data-chart="roc"');
  });

  it("both formats state the classes macro F1 averages over", () => {
    const c = sampleComparison();
    const trained = /Classes: clean, armed, infecting, infected_running, dormant, failed \(the phases the evaluated models were trained on/;
    expect(renderMarkdown(c)).toMatch(trained);
    expect(renderHtml(c)).toMatch(trained);
    const union = renderMarkdown({ ...c, labels: { mode: "union", phases: null } });
    expect(union).toMatch(/Classes: the phases present in truth or in each model's predictions \(--labels union/);
  });

  it("HTML is self-contained: no script, no external URL", () => {
    const html = renderHtml(sampleComparison());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
  });

  it.skipIf(skipWithout("browser"))("renders in headless Chromium with its charts", async () => {
    requirePrerequisite("browser");
    const { chromium } = await import("playwright-core");
    const dir = mkdtempSync(join(tmpdir(), "cis490-report-"));
    const file = join(dir, "comparison.html");
    writeFileSync(file, renderHtml(sampleComparison()));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1250, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      // The macro-F1 chart: one bar per model and mode, plus the CI whiskers.
      const f1 = page.locator('figure[data-chart="macro-f1"] svg');
      await expect(f1.count()).resolves.toBe(1);
      const box = await f1.boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(100);
      expect(await f1.locator("path").count()).toBeGreaterThanOrEqual(4 + 3 * 4);
      expect(await f1.textContent()).toContain("realistic");
      // One confusion heatmap per model, with the phase names on its axes.
      const heatmaps = page.locator('figure[data-chart="confusion"] svg');
      await expect(heatmaps.count()).resolves.toBe(4);
      expect(await heatmaps.first().textContent()).toContain("infected_running");
      // Untested: scan-and-dial in the macro F1 table (4 models) and in the infected-vs-clean one (4 + the EIF).
      await expect(page.locator("td.untested").count()).resolves.toBe(9);
      // The ROC curves side by side: one line per model (4 classifiers + the EIF), the chance line and the 1% FPR marker.
      const roc = page.locator('figure[data-chart="roc"] svg');
      await expect(roc.count()).resolves.toBe(1);
      const rocText = (await roc.textContent()) ?? "";
      for (const name of ["gbt_realistic", "gru_oracle", "eif_realistic", "chance", "1% FPR"]) expect(rocText).toContain(name);
      expect(await roc.locator("path").count()).toBeGreaterThanOrEqual(5 + 1 + 1);
      expect((await roc.boundingBox())!.height).toBeGreaterThan(200);
      await expect(page.locator("td.sig-pos").count()).resolves.toBe(1);
      expect(await page.locator("body").textContent()).toContain("Checkpoints that could not be evaluated");
      await page.screenshot({ path: join(dir, "report.png"), fullPage: true });
      expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
