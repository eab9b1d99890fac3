// Training progress on stderr. On a terminal: a bar per epoch redrawn in
// place, then one line per epoch. Elsewhere (logs, pipes): the epoch lines,
// status messages and one line per model, plain, so a long run shows it is
// alive without a terminal.

import type { RunProgress } from "../train/session.js";
import type { TrainResult } from "../train/run.js";
import type { EpochRecord } from "../train/types.js";
import type { ProgressStream } from "./progress.js";

export class EpochProgress implements RunProgress {
  private last = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly epochs: number,
    private readonly unit: "epoch" | "round",
  ) {}

  private get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  step(epoch: number, step: number, steps: number, loss: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100 && step < steps) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((step / steps) * width);
    this.stream.write(`\r${this.label} epoch ${epoch}/${this.epochs} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${step}/${steps} loss ${loss.toFixed(4)}\x1b[K`);
  }

  epoch(r: EpochRecord, best: { epoch: number; val_macro_f1: number }): void {
    const loss = Number.isFinite(r.train_loss) ? r.train_loss.toFixed(4) : "n/a";
    const line = `${this.label} ${this.unit} ${r.epoch}/${this.epochs} loss ${loss} val macro F1 ${r.val_macro_f1.toFixed(4)} (best ${best.val_macro_f1.toFixed(4)} @ ${best.epoch}) ${r.seconds.toFixed(1)} s`;
    this.stream.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  status(message: string): void {
    this.stream.write(this.tty ? `\r${this.label}: ${message}\x1b[K` : `${this.label}: ${message}\n`);
  }

  clear(): void {
    if (this.tty) this.stream.write("\r\x1b[K");
  }

  /** One line per model when the per-step bar is not drawn. */
  done(result: TrainResult): void {
    if (this.tty) return;
    const sc = result.sidecar;
    const what = result.reused ? "reused the existing checkpoint" : `trained in ${sc.training.total_seconds.toFixed(1)} s`;
    this.stream.write(`${this.label}: ${what}, best val macro F1 ${sc.best.val_macro_f1.toFixed(4)} @ ${sc.best.epoch}\n`);
  }
}
