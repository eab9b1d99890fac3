// The malware samples and exploit modules of the synthetic fleet. Two samples
// per behaviour profile, deliberately of different strength, so that a
// detector has to learn the behaviour rather than one sample's magnitude.

import type { Profile } from "../episode/report.js";

export interface SampleSpec {
  name: string;
  kind: string;
  profile: Profile;
  /** Share among the profile's two samples. */
  weight: number;
  /** Process name the in-guest agent sees. */
  comm: string;
  /** Strength of the profile's behaviour (its meaning depends on the profile, see simulate.ts). */
  intensity: number;
  /** Second behaviour knob (scan ports, burst period, churn period ...). */
  shape: number;
  /** Payload size fetched during infecting, bytes [lo, hi]. */
  payloadBytes: [number, number];
  /** Port the workload listens on while resident, if any. */
  listenPort: number | null;
}

const KB = 1024;
const MB = 1024 * 1024;

export const SAMPLES: SampleSpec[] = [
  // cpu-saturate: intensity = share of one vCPU pegged.
  { name: "xmrig-6.21", kind: "miner", profile: "cpu-saturate", weight: 60, comm: "xmrig", intensity: 0.96, shape: 0, payloadBytes: [2.4 * MB, 3.3 * MB], listenPort: null },
  { name: "cpuminer-opt-3.23", kind: "miner", profile: "cpu-saturate", weight: 40, comm: "cpuminer", intensity: 0.5, shape: 0, payloadBytes: [0.9 * MB, 1.4 * MB], listenPort: null },
  // scan-and-dial: intensity = SYN/s, shape = distinct destination ports.
  { name: "mirai-okiru", kind: "botnet", profile: "scan-and-dial", weight: 55, comm: "dvrHelper", intensity: 240, shape: 2, payloadBytes: [70 * KB, 140 * KB], listenPort: 48101 },
  { name: "kaiten-irc-2.1", kind: "botnet", profile: "scan-and-dial", weight: 45, comm: "kaiten", intensity: 32, shape: 24, payloadBytes: [40 * KB, 90 * KB], listenPort: null },
  // io-walk: intensity = 4 KiB write ops/s, shape = read ops/s.
  { name: "lockbit3-sim", kind: "ransomware", profile: "io-walk", weight: 55, comm: "lb3", intensity: 1700, shape: 600, payloadBytes: [160 * KB, 260 * KB], listenPort: null },
  { name: "fscrawl-stealer-1.4", kind: "stealer", profile: "io-walk", weight: 45, comm: "fscrawl", intensity: 190, shape: 950, payloadBytes: [300 * KB, 520 * KB], listenPort: null },
  // bursty-c2: intensity = bytes per burst, shape = seconds between bursts.
  { name: "cobalt-beacon-4.9", kind: "beacon", profile: "bursty-c2", weight: 55, comm: "rundll-helper", intensity: 260 * KB, shape: 7, payloadBytes: [280 * KB, 350 * KB], listenPort: null },
  { name: "sliver-implant-1.5", kind: "implant", profile: "bursty-c2", weight: 45, comm: "sliver", intensity: 620 * KB, shape: 11, payloadBytes: [9 * MB, 12 * MB], listenPort: null },
  // low-and-slow: intensity = bytes churned per cycle, shape = cycle seconds.
  { name: "bpfdoor-2022", kind: "backdoor", profile: "low-and-slow", weight: 50, comm: "haldrund", intensity: 90 * MB, shape: 5, payloadBytes: [30 * KB, 45 * KB], listenPort: null },
  { name: "memlurk-0.3", kind: "stealer", profile: "low-and-slow", weight: 50, comm: "kworker/u8:3", intensity: 210 * MB, shape: 8, payloadBytes: [110 * KB, 180 * KB], listenPort: null },
  // shell-resident: intensity = persistent connections, shape = ticks/s per connection.
  { name: "bindshell-nc", kind: "shell", profile: "shell-resident", weight: 50, comm: "nc", intensity: 1, shape: 2, payloadBytes: [30 * KB, 40 * KB], listenPort: 4444 },
  { name: "tsh-0.6", kind: "backdoor", profile: "shell-resident", weight: 50, comm: "tshd", intensity: 2, shape: 3, payloadBytes: [50 * KB, 70 * KB], listenPort: 1234 },
];

export interface ExploitSpec {
  module: string;
  /** The vulnerable service the guest image exposes for this module. */
  servicePorts: number[];
  /** Inbound flows per second while the exploit runs, and their bytes. */
  flowsPerS: number;
  bytesPerS: number;
  /** Share of one vCPU burnt by the exploited service. */
  serviceCpu: number;
  /** Seconds the exploit takes. */
  seconds: [number, number];
}

export const EXPLOITS: ExploitSpec[] = [
  { module: "ssh-weak-cred", servicePorts: [], flowsPerS: 4, bytesPerS: 9 * KB, serviceCpu: 0.12, seconds: [2.5, 4.5] },
  { module: "redis-unauth-rce", servicePorts: [6379], flowsPerS: 1, bytesPerS: 3 * KB, serviceCpu: 0.05, seconds: [0.8, 1.6] },
  { module: "log4shell-jndi", servicePorts: [8080], flowsPerS: 2, bytesPerS: 6 * KB, serviceCpu: 0.55, seconds: [1.5, 3] },
  { module: "drupalgeddon2", servicePorts: [80], flowsPerS: 2, bytesPerS: 5 * KB, serviceCpu: 0.25, seconds: [1, 2.2] },
  { module: "tomcat-mgr-upload", servicePorts: [8080, 8009], flowsPerS: 2, bytesPerS: 28 * KB, serviceCpu: 0.4, seconds: [1.5, 3] },
];

/** Which exploit modules tend to deliver which profiles (campaigns reuse their access vector). */
export const EXPLOIT_WEIGHTS: Record<Profile, number[]> = {
  "cpu-saturate": [35, 30, 15, 5, 15],
  "scan-and-dial": [60, 10, 5, 15, 10],
  "io-walk": [20, 10, 25, 20, 25],
  "bursty-c2": [10, 10, 45, 15, 20],
  "low-and-slow": [30, 25, 15, 15, 15],
  "shell-resident": [25, 15, 20, 25, 15],
};

export function samplesOf(profile: Profile): number[] {
  const out: number[] = [];
  SAMPLES.forEach((s, i) => {
    if (s.profile === profile) out.push(i);
  });
  return out;
}

export const WORKLOAD_ERRORS = [
  "exec format error",
  "killed by signal 11 (SIGSEGV)",
  "payload download timed out",
  "missing shared library: libcurl.so.4",
  "killed by signal 9 (OOM killer)",
];
