// Progress for long stages, on stderr. On a terminal: one bar redrawn in
// place at most every 100 ms. Elsewhere (CI, `make demo > log`): one plain
// line per 10% of the work, so a log shows that a long run is alive without
// carriage returns or escape codes.

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
  return stream.isTTY ? new ProgressBar(stream, total, label, unit) : new ProgressLines(stream, total, label, unit);
}

abstract class ProgressBase implements Progress {
  protected done = 0;
  protected readonly start = Date.now();

  constructor(
    protected readonly stream: ProgressStream,
    protected readonly total: number,
    protected readonly label: string,
    protected readonly unit: string,
  ) {}

  protected status(now: number): string {
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    return `${this.done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ETA ${formatDuration(eta)}`;
  }

  abstract tick(n?: number): void;
  abstract line(message: string): void;
  abstract finish(): void;
}

class ProgressBar extends ProgressBase {
  private lastDraw = 0;

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    this.draw(now);
  }

  line(message: string): void {
    this.stream.write(`\r${this.label}: ${message}\x1b[K\n`);
  }

  private draw(now: number): void {
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const filled = Math.round(frac * width);
    this.stream.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${this.status(now)}\x1b[K`);
  }

  finish(): void {
    this.draw(Date.now());
    this.stream.write("\n");
  }
}

class ProgressLines extends ProgressBase {
  private nextDecile = 1;

  tick(n = 1): void {
    this.done += n;
    if (this.total <= 0) return;
    const decile = Math.floor((10 * this.done) / this.total);
    if (decile < this.nextDecile) return;
    this.nextDecile = decile + 1;
    this.stream.write(`${this.label}: ${Math.min(100, decile * 10)}% ${this.status(Date.now())}\n`);
  }

  line(message: string): void {
    this.stream.write(`${this.label}: ${message}\n`);
  }

  finish(): void {
    if (this.nextDecile <= 10) this.stream.write(`${this.label}: done ${this.status(Date.now())}\n`);
  }
}
