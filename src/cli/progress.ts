// Progress for long stages, on stderr: the one progress module (commands get
// it through reporter.progress, train's epoch printer through Progress.line).
// On a terminal: one bar redrawn in place at most every 100 ms. Elsewhere
// (CI, `make demo > log`, a pipe): one plain line per 10% of the work, so a
// log shows that a long run is alive without carriage returns or escape codes.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface Progress {
  tick(n?: number): void;
  /** A one-off status line (e.g. an epoch summary): kept on a terminal, printed as is elsewhere. */
  line(message: string): void;
  finish(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function createProgress(stream: ProgressStream, total: number, label: string, unit = "ep"): Progress {
  return new ProgressBar(stream, total, label, unit);
}

/** A bar when the stream is a terminal, plain lines per 10% otherwise. */
export class ProgressBar implements Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly start = Date.now();
  private readonly interactive: boolean;
  /** Plain mode: the last tenth (0..10) already printed. */
  private lastTenth = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly label: string,
    private readonly unit = "ep",
  ) {
    this.interactive = Boolean(stream.isTTY);
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (!this.interactive) {
      this.plain(now);
      return;
    }
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    this.draw(now);
  }

  line(message: string): void {
    this.stream.write(this.interactive ? `\r${this.label}: ${message}\x1b[K\n` : `${this.label}: ${message}\n`);
  }

  finish(): void {
    if (!this.interactive) return;
    this.draw(Date.now());
    this.stream.write("\n");
  }

  private rate(now: number): { elapsed: number; rate: number; eta: number } {
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    return { elapsed, rate, eta: rate > 0 ? (this.total - this.done) / rate : NaN };
  }

  private draw(now: number): void {
    const { rate, eta } = this.rate(now);
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const filled = Math.round(frac * width);
    this.stream.write(
      `\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${this.done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ETA ${formatDuration(eta)}\x1b[K`,
    );
  }

  private plain(now: number): void {
    if (this.total <= 0) return;
    const tenth = Math.min(10, Math.floor((this.done / this.total) * 10));
    if (tenth <= this.lastTenth) return;
    this.lastTenth = tenth;
    const { elapsed, rate, eta } = this.rate(now);
    this.stream.write(
      `${this.label}: ${tenth * 10}% (${this.done}/${this.total}) ${rate.toFixed(1)} ${this.unit}/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}\n`,
    );
  }
}
