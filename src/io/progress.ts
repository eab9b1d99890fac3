// Progress of long sweeps. On a terminal: a one-line bar redrawn in place.
// Elsewhere (CI, `make demo > log`, a pipe): one plain line per 10% of the
// sweep, so a log shows that work goes on without carriage-return noise.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly start = Date.now();
  private readonly enabled: boolean;
  /** Plain mode: the last tenth (0..10) already printed. */
  private lastTenth = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly label: string,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  tick(n = 1): void {
    this.done += n;
    if (!this.enabled) {
      this.plain(Date.now());
      return;
    }
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const filled = Math.round(frac * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    this.stream.write(
      `\r${this.label} [${bar}] ${this.done}/${this.total} ${rate.toFixed(1)} ep/s ETA ${formatDuration(eta)}\x1b[K`,
    );
  }

  private plain(now: number): void {
    if (this.total <= 0) return;
    const tenth = Math.min(10, Math.floor((this.done / this.total) * 10));
    if (tenth <= this.lastTenth) return;
    this.lastTenth = tenth;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    this.stream.write(
      `${this.label}: ${tenth * 10}% (${this.done}/${this.total}) ${rate.toFixed(1)} ep/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}\n`,
    );
  }

  finish(): void {
    if (!this.enabled) return;
    this.draw(Date.now());
    this.stream.write("\n");
  }
}
