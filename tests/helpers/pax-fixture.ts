// The episode inside the committed fixtures/pax/*.tar.zst (made by
// fixtures/pax/make.sh with GNU tar and Python's tarfile). Tests rebuild
// the same members with our own ustar writer and compare.

import { episodeEntries, type EpisodeSpec } from "./hostile.js";

/** Every member path is over 100 bytes: GNU format needs 'L' records, pax a `path` record, ustar the prefix field. */
export const PAX_FIXTURE_DIR = "fleet-outbox/elliott-thinkpad/2026-04-02/ep-pax-0001.bundle-with-a-deliberately-long-directory-name";

export const PAX_FIXTURE_SPEC: EpisodeSpec = {
  episodeId: "ep-pax-0001",
  hostId: "elliott-thinkpad",
  prefix: `${PAX_FIXTURE_DIR}/`,
  durationS: 12,
  phases: [
    ["clean", 0],
    ["armed", 2],
    ["infecting", 4],
    ["infected_running", 6],
    ["dormant", 9],
  ],
};

/** The fixture files, and the tool that wrote each. */
export const PAX_FIXTURES = {
  "gnu-ustar.tar.zst": "GNU tar --format=ustar",
  "gnu-posix.tar.zst": "GNU tar --format=posix (pax 'x' header before every entry)",
  "gnu-gnu.tar.zst": "GNU tar --format=gnu ('L' long names)",
  "python-pax.tar.zst": "Python tarfile.add, PAX_FORMAT, with a global 'g' header",
} as const;

/** The member files (path, bytes) of the fixture episode, as make.sh writes them to disk. */
export function paxFixtureFiles(): Array<{ name: string; data: Uint8Array }> {
  return episodeEntries(PAX_FIXTURE_SPEC)
    .filter((e) => e.type === undefined)
    .map((e) => ({ name: e.name, data: typeof e.data === "string" ? Buffer.from(e.data) : (e.data ?? new Uint8Array(0)) }));
}
