// The lab hosts of the synthetic fleet. Each host has its own guest image,
// hardware and network surroundings, so the same malware looks different on
// each: that is what makes cross-host generalisation a real test.

export interface HostSpec {
  id: string;
  /** Relative share of the store's episodes. */
  weight: number;
  /** VM slots run in parallel; many slots means heavy contention on the host CPU. */
  parallelSlots: number;
  /** False: the host's bridge has no packet capture, so no episode ships netflow.jsonl. */
  netflow: boolean;
  /** Some hosts never ran some profiles (the contract: the no-netflow host never ran scan-and-dial). */
  excludedProfiles: string[];
  /** Share of episodes packed as `./<member>` (older fleet build) instead of `<episode_id>/<member>`. */
  dotSlashShare: number;

  // Guest (the VM image this host runs).
  vcpus: number;
  memBytes: number;
  /** Idle CPU as fractions of one vCPU (cron, agents, desktop leftovers in the image). */
  idleUser: number;
  idleSys: number;
  loadBase: number;
  /** Base listening ports of the guest image. */
  listenPorts: number[];
  /** Processes that show up in top_procs when idle. */
  idleProcs: string[];
  swapBase: number;

  // Network surroundings seen by the bridge capture and the guest NIC.
  bgPktsInPerS: number;
  bgBytesPerPktIn: number;
  bgPktsOutPerS: number;
  bgUdpPerS: number;
  /** Chance per second of a background burst (NTP, apt, mDNS storms). */
  bgBurstPerS: number;

  // Disk background (journald, logrotate) in bytes/s.
  diskBgWriteBps: number;

  // Host side (the qemu process).
  /** Fraction of guest vCPU time that shows up as qemu process CPU (less under contention). */
  cpuEfficiency: number;
  /** qemu's own emulation overhead, percent of one core. */
  procOverheadPct: number;
  /** Contention noise on the qemu process CPU: AR(1) sd in percentage points, and its persistence per 100 ms. */
  contentionSd: number;
  contentionRho: number;
  /** Chance per 100 ms of a neighbour storm (a burst of extra scheduling noise). */
  stormPerTick: number;
  involuntaryCtxswPerS: number;
  /** Additional block devices with static counters (seed disks). */
  extraDisks: string[];
}

const GiB = 1024 * 1024 * 1024;

/** The three hosts of the default fleet, in the order `--hosts K` takes them. */
const BASE_HOSTS: HostSpec[] = [
  {
    // The rack server: most of the corpus, 14 slots, host CPU signal drowned in contention.
    id: "lab-r740",
    weight: 45,
    parallelSlots: 14,
    netflow: true,
    excludedProfiles: [],
    dotSlashShare: 0.08,
    vcpus: 2,
    memBytes: 2 * GiB,
    idleUser: 0.012,
    idleSys: 0.008,
    loadBase: 0.04,
    listenPorts: [22],
    idleProcs: ["systemd", "sshd", "rsyslogd", "kworker/0:2", "qemu-ga"],
    swapBase: 0,
    bgPktsInPerS: 28,
    bgBytesPerPktIn: 92,
    bgPktsOutPerS: 3,
    bgUdpPerS: 6,
    bgBurstPerS: 0.02,
    diskBgWriteBps: 2200,
    cpuEfficiency: 0.32,
    procOverheadPct: 4,
    contentionSd: 11,
    contentionRho: 0.93,
    stormPerTick: 0.004,
    involuntaryCtxswPerS: 900,
    extraDisks: [],
  },
  {
    // A developer laptop: few slots, a chattier desktop-ish image, Wi-Fi bridge.
    id: "elliott-thinkpad",
    weight: 35,
    parallelSlots: 3,
    netflow: true,
    excludedProfiles: [],
    dotSlashShare: 0.3,
    vcpus: 1,
    memBytes: 1 * GiB,
    idleUser: 0.045,
    idleSys: 0.02,
    loadBase: 0.22,
    listenPorts: [22, 631],
    idleProcs: ["systemd", "snapd", "cupsd", "NetworkManager", "gnome-shell", "packagekitd"],
    swapBase: 48 * 1024 * 1024,
    bgPktsInPerS: 9,
    bgBytesPerPktIn: 140,
    bgPktsOutPerS: 5,
    bgUdpPerS: 3,
    bgBurstPerS: 0.05,
    diskBgWriteBps: 5000,
    cpuEfficiency: 0.85,
    procOverheadPct: 2.5,
    contentionSd: 2.5,
    contentionRho: 0.8,
    stormPerTick: 0.0015,
    involuntaryCtxswPerS: 120,
    extraDisks: ["virtio1"],
  },
  {
    // A gaming PC pressed into service: fast CPU, big guests, no packet capture.
    id: "k-gamingcom",
    weight: 20,
    parallelSlots: 6,
    netflow: false,
    excludedProfiles: ["scan-and-dial"],
    dotSlashShare: 0.12,
    vcpus: 4,
    memBytes: 4 * GiB,
    idleUser: 0.02,
    idleSys: 0.012,
    loadBase: 0.09,
    listenPorts: [22, 5355],
    idleProcs: ["systemd", "sshd", "systemd-resolve", "chronyd", "qemu-ga"],
    swapBase: 0,
    bgPktsInPerS: 14,
    bgBytesPerPktIn: 110,
    bgPktsOutPerS: 4,
    bgUdpPerS: 4,
    bgBurstPerS: 0.03,
    diskBgWriteBps: 3000,
    cpuEfficiency: 1.0,
    procOverheadPct: 1.5,
    contentionSd: 1.8,
    contentionRho: 0.85,
    stormPerTick: 0.001,
    involuntaryCtxswPerS: 60,
    extraDisks: [],
  },
];

/** Extra hosts for `--hosts` above three: variations on the base ones, all with netflow. */
const EXTRA_HOST_NAMES = ["lab-r640", "dana-nuc", "lab-r740-b", "mira-workstation", "lab-hp-dl380"];

export const MAX_HOSTS = BASE_HOSTS.length + EXTRA_HOST_NAMES.length;

export function fleetHosts(count: number): HostSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new RangeError(`hosts must be an integer between 1 and ${MAX_HOSTS}`);
  }
  const hosts = BASE_HOSTS.slice(0, count).map((h) => ({ ...h }));
  for (let i = 0; hosts.length < count; i++) {
    // Alternate the templates so extra hosts differ from each other too.
    const template = i % 2 === 0 ? BASE_HOSTS[0] : BASE_HOSTS[1];
    const scale = 0.8 + 0.1 * i;
    hosts.push({
      ...template,
      id: EXTRA_HOST_NAMES[i],
      weight: 12 - i,
      parallelSlots: i % 2 === 0 ? 8 : 2,
      netflow: true,
      excludedProfiles: [],
      idleUser: template.idleUser * scale,
      loadBase: template.loadBase * scale,
      bgPktsInPerS: template.bgPktsInPerS * (2 - scale),
      diskBgWriteBps: template.diskBgWriteBps * scale,
      contentionSd: template.contentionSd * (i % 2 === 0 ? 0.7 : 1.2),
    });
  }
  return hosts;
}
