// The ground truth of one episode: what the guest, the qemu process, the disk
// and the wire really did, second by second (CPU at 10 Hz). The members are
// then *measurements* of this truth (sources.ts), each with its own clock,
// rate and quirks, so that sources agree with each other the way real sensors
// do: netflow bytes match eth0 counters, guest CPU shows up (scaled by
// contention) in the qemu process, disk writes show up in both qmp and proc.

import type { Profile } from "../episode/report.js";
import type { HostSpec } from "./hosts.js";
import type { ExploitSpec, SampleSpec } from "./profiles.js";
import type { Rng } from "./rng.js";
import type { Timeline } from "./timeline.js";

const KB = 1024;
const MB = 1024 * 1024;

/** Cumulative series: value at whole step k is cum[k]; in between, linear. */
export class Counter {
  readonly cum: Float64Array;
  constructor(
    increments: Float64Array,
    start: number,
    readonly perSecond: number,
  ) {
    this.cum = new Float64Array(increments.length + 1);
    let acc = start;
    this.cum[0] = acc;
    for (let i = 0; i < increments.length; i++) {
      acc += increments[i];
      this.cum[i + 1] = acc;
    }
  }
  /** Value at t seconds from the grid origin. */
  at(t: number): number {
    const x = t * this.perSecond;
    const n = this.cum.length - 1;
    if (x <= 0) return this.cum[0];
    if (x >= n) return this.cum[n];
    const k = Math.floor(x);
    return this.cum[k] + (x - k) * (this.cum[k + 1] - this.cum[k]);
  }
}

/** Level series sampled per second: value of the second containing t. */
export function levelAt(levels: Float64Array, t: number): number {
  const k = Math.min(levels.length - 1, Math.max(0, Math.floor(t)));
  return levels[k];
}

export interface Sim {
  seconds: number;
  // Guest CPU jiffies (all vCPUs), 10 Hz increments turned into counters.
  gUser: Counter;
  gSys: Counter;
  gIdle: Counter;
  gIowait: Counter;
  gSoftirq: Counter;
  // qemu process.
  pUser: Counter;
  pSys: Counter;
  pIoRead: Counter;
  pIoWrite: Counter;
  pVol: Counter;
  pInvol: Counter;
  pMinor: Counter;
  pMajor: Counter;
  rss: Float64Array;
  vsize: Float64Array;
  // Wire, per second (netflow rows are these, guest eth0 counters their sums).
  net: {
    pktsIn: Float64Array;
    pktsOut: Float64Array;
    bytesIn: Float64Array;
    bytesOut: Float64Array;
    syn: Float64Array;
    fin: Float64Array;
    rst: Float64Array;
    udp: Float64Array;
    tcp: Float64Array;
    dns: Float64Array;
    uips: Float64Array;
    uports: Float64Array;
    newFlows: Float64Array;
  };
  rxBytes: Counter;
  txBytes: Counter;
  rxPkts: Counter;
  txPkts: Counter;
  // Disk (virtio0) counters.
  rdOps: Counter;
  wrOps: Counter;
  rdBytes: Counter;
  wrBytes: Counter;
  tlb: Counter;
  pages4k: Float64Array;
  pages2m: Float64Array;
  // Guest levels, per second.
  memAvail: Float64Array;
  memBuffers: Float64Array;
  memCached: Float64Array;
  swap: Float64Array;
  load1: Float64Array;
  load5: Float64Array;
  load15: Float64Array;
  /** Share of one vCPU used by the workload / by the exploited service, per second (top_procs). */
  workloadCpu: Float64Array;
  serviceCpu: Float64Array;
  ioKworker: Float64Array;
  /** The workload's listening port is open during this second. */
  workloadListening: Uint8Array;
}

export interface SimInput {
  rng: Rng;
  host: HostSpec;
  sample: SampleSpec;
  exploit: ExploitSpec;
  profile: Profile;
  timeline: Timeline;
  /** Episode-level strength multiplier (weak episodes exist). */
  strength: number;
  payloadBytes: number;
  /** A dud: no workload, quiet surroundings (the flat/silent faults). */
  dud: boolean;
}

/** How much of the behaviour survives into `dormant` (the workload is asleep, not gone). */
const DORMANT_RESIDUAL: Record<Profile, number> = {
  "cpu-saturate": 0.04,
  "scan-and-dial": 0.03,
  "io-walk": 0.05,
  "bursty-c2": 0,
  "low-and-slow": 0.3,
  "shell-resident": 0.85,
};

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export function simulate(input: SimInput): Sim {
  const { rng, host, sample, exploit, profile, timeline: tl, strength, dud } = input;
  const S = tl.seconds;
  const G = S * 10;
  const f64 = () => new Float64Array(S);
  const quiet = dud ? 0.15 : 1; // duds: the bridge and the guest were unusually still

  const activity = (t: number): number => {
    if (!(t >= tl.onset) || t >= tl.stop || t >= tl.killAt) return 0;
    let a = Math.min(1, (t - tl.onset) / tl.ramp);
    if (t >= tl.dormantStart) a *= DORMANT_RESIDUAL[profile];
    return a;
  };
  const resident = (t: number) => t >= tl.exec && t < tl.stop && !(t >= tl.killAt);

  // ---- per-second truth ---------------------------------------------------
  const net = {
    pktsIn: f64(), pktsOut: f64(), bytesIn: f64(), bytesOut: f64(), syn: f64(), fin: f64(), rst: f64(),
    udp: f64(), tcp: f64(), dns: f64(), uips: f64(), uports: f64(), newFlows: f64(),
  };
  const cpuUser = f64(); // shares of one vCPU
  const cpuSys = f64();
  const cpuIowait = f64();
  const cpuSoftirq = f64();
  const runnable = f64();
  const workloadCpu = f64();
  const serviceCpu = f64();
  const ioKworker = f64();
  const workloadListening = new Uint8Array(S);
  const rdOps = f64(), wrOps = f64(), rdBytes = f64(), wrBytes = f64();
  const memAvail = f64(), memBuffers = f64(), memCached = f64(), swap = f64();
  const tlb = f64(), pages4k = f64(), pages2m = f64();
  const pIoRead = f64(), pIoWrite = f64(), pVol = f64(), pInvol = f64(), pMinor = f64(), pMajor = f64();
  const rss = f64(), vsize = f64();

  // Episode-level draws.
  const memTotal = host.memBytes;
  let avail = memTotal * rng.uniform(0.55, 0.75);
  let cached = memTotal * rng.uniform(0.12, 0.25);
  let buffers = memTotal * rng.uniform(0.015, 0.035);
  const swapLevel = host.swapBase * rng.spread(0.3);
  const rssBase = memTotal * rng.uniform(0.42, 0.6) + 180 * MB;
  const vsizeBase = memTotal + rng.uniform(1.25, 1.6) * 1024 * MB;
  const pages2mBase = Math.round((memTotal * rng.uniform(0.15, 0.3)) / (2 * MB));
  let netLevel = rng.spread(0.2);
  let spikeLeft = 0;
  let spikeShare = 0;
  let burstLeft = 0;
  let burstBytes = 0;
  let cachedGrowth = 0;
  let maxTouched = 0;
  const extraPages = profile === "cpu-saturate" && sample.intensity > 0.8 ? 128 : 0;

  // Profile schedule draws.
  const churnPeriod = sample.shape * rng.uniform(0.8, 1.2);
  const churnBytes = sample.intensity * strength * rng.spread(0.15);
  const c2Bursts: Array<[number, number, number]> = []; // start, seconds, bytes
  if (profile === "bursty-c2" && Number.isFinite(tl.onset)) {
    const runEnd = Math.min(tl.stop, Number.isFinite(tl.dormantStart) ? tl.dormantStart : Infinity, tl.killAt || Infinity);
    c2Bursts.push([tl.exec + 0.3, 1, rng.uniform(3, 8) * KB]); // check-in
    let t = tl.onset + rng.uniform(0.5, 2.5);
    while (t < runEnd) {
      const len = sample.intensity > 400 * KB ? 2 : 1;
      c2Bursts.push([t, len, sample.intensity * strength * rng.spread(0.3)]);
      t += sample.shape * rng.uniform(0.75, 1.3);
    }
    if (Number.isFinite(tl.dormantStart) && rng.chance(0.6)) {
      // One small sleep-mode beacon after a long idle stretch.
      c2Bursts.push([tl.dormantStart + rng.uniform(2, 6), 1, rng.uniform(4, 12) * KB]);
    }
  }
  const exfilAt = sample.name.startsWith("fscrawl") && Number.isFinite(tl.exec) && Number.isFinite(tl.dormantStart) ? tl.dormantStart + rng.uniform(0.5, 2) : NaN;
  const exfilBytes = rng.uniform(300, 700) * KB * strength;
  const coreDump = Number.isFinite(tl.failAt) && Number.isFinite(tl.exec) && rng.chance(0.5) ? rng.uniform(2, 30) * MB : 0;

  for (let s = 0; s < S; s++) {
    const t = s + 0.5;
    const a = activity(t);
    let user = host.idleUser * Math.max(0.2, 1 + 0.3 * rng.normal()) * (dud ? 0.4 : 1);
    let sys = host.idleSys * Math.max(0.2, 1 + 0.3 * rng.normal()) * (dud ? 0.4 : 1);
    let iowait = 0.002 * Math.abs(rng.normal());
    let run = host.loadBase * (dud ? 1 : rng.spread(0.25));

    // Background housekeeping in the guest (cron, package timers).
    if (spikeLeft <= 0 && rng.chance(0.012 * (dud ? 0.1 : 1))) {
      spikeLeft = rng.int(1, 4);
      spikeShare = rng.uniform(0.1, 0.45);
    }
    if (spikeLeft > 0) {
      user += spikeShare;
      run += 0.7;
      spikeLeft--;
    }

    // Background network: the bridge's chatter (ARP, mDNS, NTP) and occasional bursts.
    netLevel = Math.max(0.3, netLevel + 0.05 * rng.normal() + 0.05 * (1 - netLevel));
    let pin = rng.poisson(host.bgPktsInPerS * netLevel * quiet);
    let pout = rng.poisson(host.bgPktsOutPerS * netLevel * quiet);
    let bin = pin * host.bgBytesPerPktIn * rng.spread(0.15);
    let bout = pout * rng.uniform(70, 110);
    let udp = Math.min(pin + pout, rng.poisson(host.bgUdpPerS * quiet));
    let dns = rng.poisson(0.12 * quiet);
    let newFlows = rng.poisson(0.08 * quiet);
    let uips = Math.min(pin + pout, 1 + rng.poisson(0.8 * quiet));
    let uports = Math.min(uips + 1, 1 + rng.poisson(0.6 * quiet));
    let syn = newFlows;
    let fin = rng.poisson(0.05 * quiet);
    let rst = rng.poisson(0.03 * quiet);
    if (burstLeft <= 0 && rng.chance(host.bgBurstPerS * (dud ? 0.05 : 1))) {
      burstLeft = rng.int(1, 3);
      burstBytes = rng.uniform(20, 180) * KB;
      dns += 1;
      newFlows += 1;
      syn += 1;
      uips += 1;
    }
    if (burstLeft > 0) {
      const p = Math.round(burstBytes / 1448);
      bin += burstBytes;
      pin += p;
      pout += Math.round(p / 2);
      bout += (p / 2) * 66;
      sys += 0.01;
      burstLeft--;
    }

    // Background disk (journald, logrotate).
    let wb = host.diskBgWriteBps * rng.spread(0.5) * (dud ? 0.2 : 1);
    let wo = Math.max(0, Math.round(wb / rng.uniform(4 * KB, 16 * KB)));
    let ro = rng.poisson(0.3 * (dud ? 0.15 : 1));
    let rb = ro * rng.uniform(4, 16) * KB;
    let svc = 0;
    let workCpu = 0;
    let kworker = 0;
    let touched = 0; // guest memory newly in use beyond the baseline
    let memHold = 0; // memory the workload holds this second
    let tlbExtra = 0;

    // The exploit: inbound connections to the vulnerable service.
    const ex = overlap(s, s + 1, tl.exploitStart, tl.exploitEnd);
    if (ex > 0) {
      const flows = rng.poisson(exploit.flowsPerS * ex) + 1;
      const bytes = exploit.bytesPerS * ex * rng.spread(0.2);
      newFlows += flows;
      syn += flows;
      fin += rng.poisson(flows * 0.7);
      bin += bytes * 0.6;
      bout += bytes * 0.4;
      pin += Math.round((bytes * 0.6) / 500) + flows * 2;
      pout += Math.round((bytes * 0.4) / 500) + flows * 2;
      uips += 1;
      uports += 1;
      svc = exploit.serviceCpu * ex;
      user += svc * 0.7;
      sys += svc * 0.3;
      run += svc * 1.5;
      wb += 20 * KB * ex;
      wo += 3;
    }
    // The payload fetch.
    const dl = overlap(s, s + 1, tl.downloadStart, tl.downloadEnd);
    if (dl > 0) {
      const bytes = (input.payloadBytes * dl) / (tl.downloadEnd - tl.downloadStart);
      const p = Math.round(bytes / 1448);
      bin += bytes;
      pin += p;
      pout += Math.round(p / 2) + 2;
      bout += (p / 2) * 66 + 300;
      if (s <= tl.downloadStart) {
        dns += 1;
        newFlows += 1;
        syn += 1;
      }
      uips += 1;
      uports += 1;
      sys += 0.04 + bytes / (40 * MB);
      cpuSoftirq[s] += bytes / (80 * MB);
    }
    // Writing and unpacking the payload right after the fetch.
    const unpack = overlap(s, s + 1, tl.downloadEnd, tl.downloadEnd + 1.2);
    if (unpack > 0) {
      const bytes = (input.payloadBytes * 1.3 * unpack) / 1.2;
      wb += bytes;
      wo += Math.ceil(bytes / (128 * KB));
      user += 0.3 * unpack;
      sys += 0.15 * unpack;
      run += 0.8 * unpack;
    }

    // The workload's own behaviour.
    if (a > 0) {
      const k = strength;
      switch (profile) {
        case "cpu-saturate": {
          const share = Math.min(0.99, sample.intensity * k) * a * (0.97 + 0.03 * rng.next());
          user += share;
          sys += 0.01 * a;
          run += share * rng.uniform(0.9, 1.1);
          workCpu = share + 0.01 * a;
          // The miner keeps its dataset while resident, dormant or not.
          memHold = (sample.intensity > 0.8 ? 256 : 28) * MB * Math.min(1, ((t - tl.onset) / tl.ramp) * 2);
          if (rng.chance(0.4 * a)) {
            // A share submitted to the pool.
            pout += 2;
            pin += 2;
            bout += 220;
            bin += 180;
          }
          break;
        }
        case "scan-and-dial": {
          const synS = rng.poisson(sample.intensity * k * a);
          const answered = rng.poisson(synS * 0.04);
          const refused = rng.poisson(synS * 0.5);
          const ports = Math.round(sample.shape * (1 - Math.pow(1 - 1 / sample.shape, synS)));
          syn += synS;
          newFlows += synS;
          rst += refused;
          fin += answered;
          pout += synS + answered * 3;
          pin += refused + answered * 3;
          bout += synS * 74 + answered * 3 * 66;
          bin += refused * 60 + answered * 3 * 80;
          uips += Math.round(synS * rng.uniform(0.85, 0.97));
          uports += ports;
          if (rng.chance(0.2 * a)) {
            // Dial-home to the C2.
            dns += 1;
            bout += 320;
            bin += 210;
            pout += 3;
            pin += 3;
          }
          user += 0.05 * a;
          cpuSoftirq[s] += 0.04 * a * Math.min(1, synS / 200);
          sys += 0.02 * a;
          run += 0.35 * a;
          workCpu = 0.07 * a;
          break;
        }
        case "io-walk": {
          const w = sample.intensity * k * a * Math.max(0.3, 1 + 0.2 * rng.normal());
          const r = sample.shape * k * a * Math.max(0.3, 1 + 0.2 * rng.normal());
          wo += w;
          wb += w * 4 * KB * rng.uniform(1, 1.15);
          ro += r;
          rb += r * rng.uniform(8, 32) * KB;
          const enc = sample.kind === "ransomware" ? 0.35 : 0.1;
          user += enc * a;
          sys += a * (0.05 + 0.1 * Math.min(1, (w + r) / 2000));
          iowait += a * (0.08 + 0.25 * Math.min(1, w / 2000) + 0.1 * Math.min(1, r / 1000));
          run += a * (0.9 + Math.min(1.2, (w + r) / 1500));
          workCpu = enc * a + 0.04 * a;
          kworker = 0.03 * a;
          cachedGrowth = Math.min(memTotal * 0.35, cachedGrowth + r * 12 * KB * 0.7 + w * 4 * KB * 0.3);
          buffers = Math.min(memTotal * 0.06, buffers + r * 600);
          tlbExtra += (w + r) * 0.01;
          break;
        }
        case "bursty-c2": {
          user += 0.004 * a;
          workCpu = 0.004 * a;
          break;
        }
        case "low-and-slow": {
          const phase = ((t - tl.onset) % churnPeriod) / churnPeriod;
          const held = phase < 0.55 ? Math.min(1, phase * churnPeriod) : 0;
          memHold = churnBytes * held * a;
          const share = 0.025 * a * (1 + 0.3 * rng.normal());
          user += Math.max(0, share);
          run += 0.25 * a + (held > 0 && held < 1 ? 0.3 : 0);
          workCpu = Math.max(0.002, share);
          if (phase < 0.1 || (phase > 0.55 && phase < 0.65)) tlbExtra += (churnBytes / MB) * 0.8 * a;
          break;
        }
        case "shell-resident": {
          const conns = sample.intensity;
          const ticks = rng.poisson(sample.shape * conns * Math.min(1, a * 1.2));
          const replies = rng.poisson(ticks * 0.9);
          pout += ticks;
          pin += replies;
          bout += ticks * rng.uniform(80, 140);
          bin += replies * rng.uniform(66, 120);
          uips += conns;
          uports += conns;
          user += 0.004 * a;
          run += 0.02 * a;
          workCpu = 0.003 * a;
          break;
        }
      }
    }
    for (const [start, len, bytes] of c2Bursts) {
      const o = overlap(s, s + 1, start, start + len);
      if (o <= 0) continue;
      const b = (bytes * o) / len;
      const p = Math.round(b / 1380) + 1;
      bout += b;
      pout += p;
      pin += Math.round(p / 2) + 1;
      bin += (p / 2) * 66 + rng.uniform(200, 4000);
      if (s <= start) {
        dns += 1;
        newFlows += 1;
        syn += 1;
        uips += 1;
        uports += 1;
      }
      user += 0.12 * o;
      workCpu += 0.12 * o;
      run += 0.3 * o;
    }
    const exf = overlap(s, s + 1, exfilAt, exfilAt + 2);
    if (exf > 0) {
      const b = (exfilBytes * exf) / 2;
      const p = Math.round(b / 1380) + 1;
      bout += b;
      pout += p;
      pin += Math.round(p / 2);
      bin += (p / 2) * 66;
      newFlows += s <= exfilAt ? 1 : 0;
      uips += 1;
      uports += 1;
      user += 0.05;
    }
    const dump = overlap(s, s + 1, tl.failAt, tl.failAt + 1.5);
    if (coreDump > 0 && dump > 0) {
      wb += (coreDump * dump) / 1.5;
      wo += Math.ceil((coreDump * dump) / 1.5 / (256 * KB));
      sys += 0.1 * dump;
      iowait += 0.1 * dump;
    }
    if (sample.listenPort !== null && resident(t) && a > 0) workloadListening[s] = 1;

    // Protocol split and consistency: tcp is what is not udp (ARP/ICMP are a few).
    const total = pin + pout;
    const other = Math.min(total - udp, rng.poisson(1.2 * quiet));
    net.pktsIn[s] = pin;
    net.pktsOut[s] = pout;
    net.bytesIn[s] = Math.round(bin);
    net.bytesOut[s] = Math.round(bout);
    net.syn[s] = syn;
    net.fin[s] = fin;
    net.rst[s] = rst;
    net.udp[s] = udp;
    net.tcp[s] = Math.max(0, total - udp - other);
    net.dns[s] = Math.min(udp + dns, dns);
    net.uips[s] = Math.max(0, Math.min(uips, total));
    net.uports[s] = Math.max(0, Math.min(uports, total));
    net.newFlows[s] = newFlows;

    cpuSoftirq[s] += (total / 1000) * 0.02 + 0.001;
    cpuUser[s] = user;
    cpuSys[s] = sys;
    cpuIowait[s] = iowait;
    runnable[s] = run;
    workloadCpu[s] = workCpu;
    serviceCpu[s] = svc;
    ioKworker[s] = kworker;

    wrOps[s] = Math.round(wo);
    wrBytes[s] = Math.round(wb);
    rdOps[s] = Math.round(ro);
    rdBytes[s] = Math.round(rb);

    // Guest memory: slow drift plus what the workload holds and the page cache it grew.
    avail += rng.normal() * 0.4 * MB;
    cached += rng.normal() * 0.2 * MB;
    memAvail[s] = Math.max(32 * MB, avail - memHold - cachedGrowth * 0.1);
    memCached[s] = Math.max(0, cached + cachedGrowth);
    memBuffers[s] = buffers;
    swap[s] = swapLevel;
    touched = memHold + cachedGrowth;
    // Host side: the qemu process keeps pages the guest touched once (no balloon).
    const firstTouch = Math.max(0, touched - maxTouched);
    maxTouched = Math.max(maxTouched, touched);
    rss[s] = rssBase + maxTouched;
    vsize[s] = vsizeBase;
    pages2m[s] = pages2mBase + Math.round(extraPages * Math.min(1, (memHold / (256 * MB)) * 1.2));
    pages4k[s] = Math.round((rssBase + maxTouched - pages2m[s] * 2 * MB) / 4096);
    tlb[s] = rng.poisson(12 + tlbExtra + firstTouch / MB);

    const ops = wo + ro;
    pIoWrite[s] = wb + (rng.chance(0.1) ? rng.int(1, 8) * 4 * KB : 0);
    pIoRead[s] = rb * rng.uniform(0.6, 0.95);
    const busy = user + sys + iowait * 0.2;
    pVol[s] = rng.poisson(180 + total * 1.2 + ops * 1.8 + busy * 60);
    pInvol[s] = rng.poisson(host.involuntaryCtxswPerS * (1 + busy) + busy * 25);
    pMinor[s] = rng.poisson(25 + firstTouch / 4096 / 8);
    pMajor[s] = rng.poisson(0.02 + (host.parallelSlots > 8 ? ops * 0.001 : 0));
  }

  // Load average: Linux folds the runnable count into EMAs every 5 seconds.
  const load1 = f64(), load5 = f64(), load15 = f64();
  let l1 = host.loadBase * (dud ? 1 : rng.spread(0.4));
  let l5 = host.loadBase * rng.spread(0.2);
  let l15 = host.loadBase * rng.spread(0.1);
  const e1 = Math.exp(-5 / 60), e5 = Math.exp(-5 / 300), e15 = Math.exp(-5 / 900);
  const tickOffset = rng.int(0, 4);
  for (let s = 0; s < S; s++) {
    if ((s + tickOffset) % 5 === 0) {
      const n = dud ? runnable[s] * rng.spread(0.2) : rng.poisson(runnable[s] * 1.0);
      l1 = l1 * e1 + n * (1 - e1);
      l5 = l5 * e5 + n * (1 - e5);
      l15 = l15 * e15 + n * (1 - e15);
    }
    load1[s] = l1;
    load5[s] = l5;
    load15[s] = l15;
  }

  // ---- 10 Hz CPU ------------------------------------------------------------
  const cap = host.vcpus * 10; // jiffies per 100 ms over all vCPUs
  const gU = new Float64Array(G), gS = new Float64Array(G), gI = new Float64Array(G), gW = new Float64Array(G), gQ = new Float64Array(G);
  const pU = new Float64Array(G), pS = new Float64Array(G);
  // Duds: the VM sat idle on a quiet host (this is what makes them flat under the quality rules).
  const contentionSd = host.contentionSd * (dud ? 0.2 : 1);
  const overheadPct = host.procOverheadPct * (dud ? 0.3 : 1);
  const rho = host.contentionRho;
  const innov = Math.sqrt(1 - rho * rho);
  let contention = contentionSd * rng.normal();
  let storm = 0;
  let stormLevel = 0;
  const steady = profile === "cpu-saturate";
  for (let g = 0; g < G; g++) {
    const s = Math.floor(g / 10);
    const jitter = (sd: number) => Math.max(0, 1 + sd * rng.normal());
    const u = cpuUser[s] * 10 * (steady && workloadCpu[s] > 0.3 ? jitter(0.03) : jitter(0.35));
    const sy = cpuSys[s] * 10 * jitter(0.4);
    const w = cpuIowait[s] * 10 * jitter(0.5);
    const q = cpuSoftirq[s] * 10 * jitter(0.5);
    const busy = Math.min(cap * 0.995, u + sy + w + q);
    const scale = busy > 0 ? busy / (u + sy + w + q) : 0;
    gU[g] = u * scale;
    gS[g] = sy * scale;
    gW[g] = w * scale;
    gQ[g] = q * scale;
    gI[g] = cap - busy;

    // qemu: vCPU threads account guest time as user time; emulation and
    // contention noise land in both. Under contention the VM gets less.
    contention = rho * contention + innov * contentionSd * rng.normal();
    if (storm <= 0 && rng.chance(host.stormPerTick * (dud ? 0.1 : 1))) {
      storm = rng.int(5, 30);
      stormLevel = rng.uniform(15, 55);
    }
    let noisePct = contention + contentionSd * 0.6;
    if (storm > 0) {
      noisePct += stormLevel;
      storm--;
    }
    const guestTime = (gU[g] + gS[g] + gQ[g]) * host.cpuEfficiency;
    const emulation = (overheadPct / 10) * jitter(0.3) + (wrOps[s] + rdOps[s]) * 0.0008 + (net.pktsIn[s] + net.pktsOut[s]) * 0.00015;
    const noise = Math.max(-(guestTime + emulation) * 0.5, noisePct / 10);
    pU[g] = Math.max(0, guestTime + noise * 0.7);
    pS[g] = Math.max(0, emulation + noise * 0.3);
  }

  const r = (lo: number, hi: number) => Math.round(rng.uniform(lo, hi));
  const perS = (arr: Float64Array, start: number) => new Counter(arr, start, 1);
  const perTick = (arr: Float64Array, start: number) => new Counter(arr, start, 10);
  const rxB = f64(), txB = f64(), rxP = f64(), txP = f64();
  for (let s = 0; s < S; s++) {
    rxB[s] = net.bytesIn[s];
    txB[s] = net.bytesOut[s];
    rxP[s] = net.pktsIn[s];
    txP[s] = net.pktsOut[s];
  }
  const uptimeScale = host.vcpus * rng.uniform(0.6, 1.4);
  return {
    seconds: S,
    gUser: perTick(gU, r(4000, 20000) * uptimeScale),
    gSys: perTick(gS, r(2000, 9000) * uptimeScale),
    gIdle: perTick(gI, r(200000, 900000) * uptimeScale),
    gIowait: perTick(gW, r(300, 3000) * uptimeScale),
    gSoftirq: perTick(gQ, r(50, 600) * uptimeScale),
    pUser: perTick(pU, r(3000, 40000)),
    pSys: perTick(pS, r(2000, 20000)),
    pIoRead: perS(pIoRead, r(150, 420) * MB),
    pIoWrite: perS(pIoWrite, r(20, 90) * MB),
    pVol: perS(pVol, r(200000, 4000000)),
    pInvol: perS(pInvol, r(20000, 900000)),
    pMinor: perS(pMinor, r(200000, 700000)),
    pMajor: perS(pMajor, r(300, 4000)),
    rss,
    vsize,
    net,
    rxBytes: perS(rxB, r(2, 60) * MB),
    txBytes: perS(txB, r(0.5, 8) * MB),
    rxPkts: perS(rxP, r(20000, 200000)),
    txPkts: perS(txP, r(5000, 60000)),
    rdOps: perS(rdOps, r(6000, 20000)),
    wrOps: perS(wrOps, r(1500, 9000)),
    rdBytes: perS(rdBytes, r(150, 400) * MB),
    wrBytes: perS(wrBytes, r(10, 60) * MB),
    tlb: perS(tlb, r(10000, 900000)),
    pages4k,
    pages2m,
    memAvail,
    memBuffers,
    memCached,
    swap,
    load1,
    load5,
    load15,
    workloadCpu,
    serviceCpu,
    ioKworker,
    workloadListening,
  };
}
