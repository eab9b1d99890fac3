// A c10d process group (libtorch's TCPStore + ProcessGroupGloo, the group
// torch.distributed builds for backend "gloo"), typed. Rank 0 hosts the
// TCPStore at the master address; every rank then reaches every other over
// Gloo's TCP pairs. Every collective is bounded by the group's timeout and
// fails with a message naming the rank and the collective.

import { loadEngines } from "./load.js";
import type { NativeProcessGroup, ProcessGroupOptions } from "./types.js";

export class ProcessGroup {
  /** @internal the addon's object, handed to TorchModel.joinProcessGroup. */
  readonly native: NativeProcessGroup;

  private constructor(readonly options: ProcessGroupOptions) {
    this.native = new (loadEngines().ProcessGroup)(options);
  }

  /** Rendezvous with the other ranks (blocks until all arrive, at most timeoutMs). */
  static async connect(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const g = new ProcessGroup(options);
    await g.native.connect();
    return g;
  }

  get rank(): number {
    return this.options.rank;
  }

  get worldSize(): number {
    return this.options.worldSize;
  }

  /** Element-wise SUM over the ranks (a new array). */
  allReduceSum<T extends Float32Array | Float64Array>(data: T, what: string): Promise<T> {
    return this.native.allReduce(data, what);
  }

  /** `root`'s values on every rank (a new array; same length everywhere). */
  broadcast<T extends Float32Array | Float64Array>(data: T, root: number, what: string): Promise<T> {
    return this.native.broadcast(data, root, what);
  }

  close(): void {
    this.native.close();
  }
}

export const connectProcessGroup = (options: ProcessGroupOptions): Promise<ProcessGroup> => ProcessGroup.connect(options);

/** "HOST:PORT" (IPv6 as "[::1]:PORT") -> parts, or null when malformed. */
export function parseMasterAddr(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return null;
  return { host: m[1] ?? m[2], port };
}
