// The one declaration of the addons' surfaces (src/native/addon.ts) must
// match what the compiled addons really export: a function added or
// renamed on one side only fails here.

import { describe, expect, it } from "vitest";
import { CIS490_EXPORTS, ENGINES_EXPORTS, TORCH_MODEL_METHODS, addonPath, loadCis490Addon, loadEnginesAddon } from "../src/native/addon.js";
import { runNativeSuites } from "./helpers/native.js";

const exportNames = (addon: object): string[] => Object.keys(addon).sort();

describe.skipIf(!runNativeSuites)("native addon surfaces", () => {
  it("cis490.node exports exactly the declared functions", () => {
    const addon = loadCis490Addon() as unknown as Record<string, unknown>;
    expect(exportNames(addon)).toEqual([...CIS490_EXPORTS].sort());
    for (const name of CIS490_EXPORTS) expect(typeof addon[name], name).toBe("function");
  });

  it("engines.node exports exactly the declared functions", () => {
    const addon = loadEnginesAddon() as unknown as Record<string, unknown>;
    expect(exportNames(addon)).toEqual([...ENGINES_EXPORTS].sort());
    for (const name of ENGINES_EXPORTS) expect(typeof addon[name], name).toBe("function");
  });

  it("engines.node's TorchModel has every declared method", () => {
    const proto = loadEnginesAddon().TorchModel.prototype as unknown as Record<string, unknown>;
    for (const name of TORCH_MODEL_METHODS) expect(typeof proto[name], name).toBe("function");
  });

  it("addons live under native/ at the package root", () => {
    expect(addonPath("cis490")).toMatch(/native\/cis490\.node$/);
    expect(addonPath("engines")).toMatch(/native\/engines\.node$/);
  });
});
