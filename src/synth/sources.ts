// The sensors: each member measures the simulated truth on its own clock, at
// its own rate, with its own jitter and quirks (docs/data-contract.md,
// "The bundle"). Rows are built with template strings because this is
// the hot loop of `synth` (about 700 rows per episode).

import type { HostSpec } from "./hosts.js";
import type { ExploitSpec, SampleSpec } from "./profiles.js";
import type { Rng } from "./rng.js";
import { levelAt, type Sim } from "./simulate.js";
import { NS, type Timeline } from "./timeline.js";

export interface Clocks {
  /** Unix seconds of the grid origin (a whole second). */
  originSec: number;
  /** The orchestrator's CLOCK_MONOTONIC at the grid origin (proc rows). */
  orchMonoNs: number;
  /** The capture host's uptime at the grid origin (netflow rows). */
  uptimeNs: number;
  /** The guest's wall clock runs this far off the host's (NTP-disciplined, small). */
  guestSkewNs: number;
}

/** A member's rows as text plus the numbers the quality tests need. */
export interface Measured {
  rows: string[];
  wall: number[];
  value: number[];
}

/** t_wall_ns as a decimal string: the origin's seconds plus a nanosecond offset (never loses precision). */
export function wallNs(clocks: Clocks, offNs: number): string {
  const sec = Math.floor(offNs / NS);
  const rest = offNs - sec * NS;
  return `${clocks.originSec + sec}${String(rest + NS).slice(1)}`;
}

const roundTo = (x: number, unit: number) => Math.round(x / unit) * unit;

/** Sample times (seconds from origin) of a poller with period, jitter and rare stalls; never goes backwards. */
function pollTimes(rng: Rng, start: number, end: number, period: number, jitterSd: number, stallP: number, dropP: number): number[] {
  const out: number[] = [];
  let last = -Infinity;
  for (let k = 0; ; k++) {
    const scheduled = start + k * period;
    if (scheduled > end) break;
    if (dropP > 0 && rng.chance(dropP)) continue;
    let t = scheduled + Math.abs(rng.normal()) * jitterSd;
    if (stallP > 0 && rng.chance(stallP)) t += rng.uniform(0.05, 0.3);
    t = Math.max(t, last + 0.001);
    if (t > end) break;
    out.push(t);
    last = t;
  }
  return out;
}

export function measureProc(rng: Rng, sim: Sim, tl: Timeline, clocks: Clocks, pid: number): Measured {
  const start = Math.max(0.05, tl.t0 / NS - rng.uniform(0.3, 1.2));
  const times = pollTimes(rng, start, tl.end / NS, 0.1, 0.0015, 0.01, 0);
  const out: Measured = { rows: [], wall: [], value: [] };
  for (const t of times) {
    const off = Math.round(t * NS);
    const user = Math.floor(sim.pUser.at(t));
    const sys = Math.floor(sim.pSys.at(t));
    const rss = roundTo(levelAt(sim.rss, t) + rng.normal() * 256 * 1024, 4096);
    out.rows.push(
      `{"t_wall_ns":${wallNs(clocks, off)},"t_mono_ns":${clocks.orchMonoNs + off},"pid":${pid},` +
        `"cpu_user_jiffies":${user},"cpu_sys_jiffies":${sys},"rss_bytes":${rss},"vsize_bytes":${roundTo(levelAt(sim.vsize, t), 4096)},` +
        `"io_read_bytes":${roundTo(sim.pIoRead.at(t), 512)},"io_write_bytes":${roundTo(sim.pIoWrite.at(t), 512)},` +
        `"voluntary_ctxsw":${Math.floor(sim.pVol.at(t))},"involuntary_ctxsw":${Math.floor(sim.pInvol.at(t))},` +
        `"minor_faults":${Math.floor(sim.pMinor.at(t))},"major_faults":${Math.floor(sim.pMajor.at(t))}}`,
    );
    out.wall.push(off);
    out.value.push(user + sys);
  }
  return out;
}

export interface GuestContext {
  host: HostSpec;
  sample: SampleSpec;
  exploit: ExploitSpec | null;
  /** Stable pids for the comms the agent reports. */
  pids: Map<string, number>;
}

const pidOf = (ctx: GuestContext, comm: string, rng: Rng) => {
  let pid = ctx.pids.get(comm);
  if (pid === undefined) {
    pid = rng.int(300, 32000);
    ctx.pids.set(comm, pid);
  }
  return pid;
};

const SERVICE_COMM: Record<string, string> = {
  "ssh-weak-cred": "sshd",
  "redis-unauth-rce": "redis-server",
  "log4shell-jndi": "java",
  "drupalgeddon2": "php-fpm",
  "tomcat-mgr-upload": "java",
};

function topProcs(rng: Rng, ctx: GuestContext, sim: Sim, s: number): string {
  const entries: Array<[string, number]> = [];
  const n = rng.int(2, 4);
  for (let i = 0; i < n; i++) entries.push([ctx.host.idleProcs[(s * 7 + i * 3) % ctx.host.idleProcs.length], rng.uniform(0.1, 2.5)]);
  const work = sim.workloadCpu[s];
  if (work > 0.001) entries.push([ctx.sample.comm, Math.min(100, work * 100 * rng.uniform(0.92, 1.05))]);
  if (sim.serviceCpu[s] > 0.001 && ctx.exploit) entries.push([SERVICE_COMM[ctx.exploit.module] ?? "sshd", sim.serviceCpu[s] * 100]);
  if (sim.ioKworker[s] > 0.001) {
    entries.push(["kworker/u4:1", sim.ioKworker[s] * 100 * rng.uniform(0.5, 1.5)]);
    entries.push(["jbd2/vda1-8", sim.ioKworker[s] * 40 * rng.uniform(0.5, 1.5)]);
  }
  // Names repeat when the idle list is short; the agent reports each process once.
  const seen = new Set<string>();
  const parts: string[] = [];
  entries.sort((a, b) => b[1] - a[1]);
  for (const [comm, pct] of entries) {
    if (seen.has(comm)) continue;
    seen.add(comm);
    parts.push(`{"pid":${pidOf(ctx, comm, rng)},"comm":"${comm}","cpu_pct":${pct.toFixed(1)}}`);
  }
  return `[${parts.join(",")}]`;
}

export function measureGuest(rng: Rng, sim: Sim, tl: Timeline, clocks: Clocks, ctx: GuestContext): Measured {
  const start = tl.t0 / NS + rng.uniform(0.1, 0.9);
  const times = pollTimes(rng, start, tl.end / NS, 1, 0.015, 0.003, 0.015);
  const out: Measured = { rows: [], wall: [], value: [] };
  const basePorts = [...ctx.host.listenPorts, ...(ctx.exploit?.servicePorts ?? [])];
  for (const t of times) {
    const off = Math.round(t * NS) + clocks.guestSkewNs;
    const s = Math.min(sim.seconds - 1, Math.floor(t));
    const l1 = sim.load1[s].toFixed(2);
    const ports = sim.workloadListening[s] && ctx.sample.listenPort !== null ? [...basePorts, ctx.sample.listenPort] : basePorts;
    const lo = Math.floor(t * 2400);
    out.rows.push(
      `{"t_wall_ns":${wallNs(clocks, off)},"t_mono_ns":${off - tl.t0},` +
        `"cpu_total_jiffies":{"user":${Math.floor(sim.gUser.at(t))},"system":${Math.floor(sim.gSys.at(t))},"idle":${Math.floor(sim.gIdle.at(t))},` +
        `"iowait":${Math.floor(sim.gIowait.at(t))},"softirq":${Math.floor(sim.gSoftirq.at(t))}},` +
        `"load_1m_5m_15m":[${l1},${sim.load5[s].toFixed(2)},${sim.load15[s].toFixed(2)}],` +
        `"mem_available_bytes":${roundTo(sim.memAvail[s], 1024)},"mem_buffers_bytes":${roundTo(sim.memBuffers[s], 1024)},` +
        `"mem_cached_bytes":${roundTo(sim.memCached[s], 1024)},"swap_used_bytes":${roundTo(sim.swap[s], 1024)},` +
        `"net":{"eth0":{"rx_bytes":${Math.floor(sim.rxBytes.at(t))},"tx_bytes":${Math.floor(sim.txBytes.at(t))},` +
        `"rx_pkts":${Math.floor(sim.rxPkts.at(t))},"tx_pkts":${Math.floor(sim.txPkts.at(t))}},` +
        `"lo":{"rx_bytes":${lo * 60},"tx_bytes":${lo * 60},"rx_pkts":${lo},"tx_pkts":${lo}}},` +
        `"listen_ports":[${ports.join(",")}],"top_procs":${topProcs(rng, ctx, sim, s)}}`,
    );
    out.wall.push(off);
    out.value.push(Number(l1));
  }
  return out;
}

/** Static counters of extra block devices (a cloud-init seed disk, read once at boot). */
function extraDisk(name: string): string {
  return `"${name}":{"rd_ops":412,"wr_ops":0,"rd_bytes":1687552,"wr_bytes":0}`;
}

export function measureQmp(rng: Rng, sim: Sim, tl: Timeline, clocks: Clocks, extraDisks: string[]): Measured {
  const start = tl.t0 / NS + rng.uniform(0.05, 0.5);
  const times = pollTimes(rng, start, tl.end / NS, 0.5, 0.005, 0.002, 0.005);
  const out: Measured = { rows: [], wall: [], value: [] };
  const extra = extraDisks.map(extraDisk).join(",");
  const extraBytes = extraDisks.length * 1687552;
  for (const t of times) {
    const off = Math.round(t * NS);
    const s = Math.min(sim.seconds - 1, Math.floor(t));
    const rb = Math.floor(sim.rdBytes.at(t) / 512) * 512;
    const wb = Math.floor(sim.wrBytes.at(t) / 512) * 512;
    out.rows.push(
      `{"t_wall_ns":${wallNs(clocks, off)},"t_mono_ns":${off - tl.t0},` +
        `"blockstats":{"virtio0":{"rd_ops":${Math.floor(sim.rdOps.at(t))},"wr_ops":${Math.floor(sim.wrOps.at(t))},"rd_bytes":${rb},"wr_bytes":${wb}}${extra ? "," + extra : ""}},` +
        `"kvm_stats":{"remote_tlb_flush":${Math.floor(sim.tlb.at(t))},"pages_4k":${sim.pages4k[s]},"pages_2m":${sim.pages2m[s]}}}`,
    );
    out.wall.push(off);
    out.value.push(rb + wb + extraBytes);
  }
  return out;
}

/**
 * Bridge capture, one row per second: written when the bucket closes, stamped
 * with the writer's wall clock rounded to the second (so late writes repeat a
 * second and skip the next), and two writer threads sometimes swap rows.
 */
export function measureNetflow(rng: Rng, sim: Sim, tl: Timeline, clocks: Clocks): Measured {
  const out: Measured = { rows: [], wall: [], value: [] };
  const first = Math.floor(tl.t0 / NS);
  const last = Math.floor(tl.end / NS) - 1;
  const n = sim.net;
  for (let s = first; s <= last; s++) {
    const emitted = s + 1 + (rng.chance(0.07) ? rng.uniform(0.5, 0.9) : rng.uniform(0.02, 0.45));
    const wallSec = Math.round(emitted);
    const off = wallSec * NS;
    const row =
      `{"t_wall_ns":${wallNs(clocks, off)},"t_mono_ns":${clocks.uptimeNs + Math.round(emitted * NS)},` +
      `"pkts_in":${n.pktsIn[s]},"pkts_out":${n.pktsOut[s]},"bytes_in":${n.bytesIn[s]},"bytes_out":${n.bytesOut[s]},` +
      `"syn_count":${n.syn[s]},"fin_count":${n.fin[s]},"rst_count":${n.rst[s]},"udp_count":${n.udp[s]},"tcp_count":${n.tcp[s]},` +
      `"dns_query_count":${n.dns[s]},"unique_dst_ips":${n.uips[s]},"unique_dst_ports":${n.uports[s]},"tcp_new_flows":${n.newFlows[s]}}`;
    const k = out.rows.length;
    if (k > 0 && rng.chance(0.04)) {
      // Out of order: this row lands before the previous one.
      out.rows.splice(k - 1, 0, row);
      out.wall.splice(k - 1, 0, off);
      out.value.splice(k - 1, 0, n.bytesIn[s] + n.bytesOut[s]);
    } else {
      out.rows.push(row);
      out.wall.push(off);
      out.value.push(n.bytesIn[s] + n.bytesOut[s]);
    }
  }
  return out;
}
