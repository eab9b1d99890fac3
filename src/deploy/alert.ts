// The alert policy: an episode alerts at the first window that completes a
// run of `consecutive` windows whose infected probability (the sum over the
// infected phases, infecting + infected_running by default) is at least
// `threshold`. A run is per episode: windows of two episodes never chain.

export interface AlertPolicy {
  threshold: number;
  consecutive: number;
  /** Phase names whose probabilities add up to the infected probability. */
  infectedPhases: string[];
}

export const DEFAULT_POLICY: AlertPolicy = { threshold: 0.5, consecutive: 2, infectedPhases: ["infecting", "infected_running"] };

export function checkPolicy(p: AlertPolicy, classes: readonly string[]): void {
  if (!(p.threshold >= 0 && p.threshold <= 1)) throw new Error(`the alert threshold must be in [0, 1] (got ${p.threshold})`);
  if (!Number.isInteger(p.consecutive) || p.consecutive < 1) throw new Error(`the alert run length must be a positive integer (got ${p.consecutive})`);
  const unknown = p.infectedPhases.filter((ph) => !classes.includes(ph));
  if (unknown.length > 0 || p.infectedPhases.length === 0) throw new Error(`infected phases ${JSON.stringify(p.infectedPhases)} must be among the model's classes ${classes.join(", ")}`);
}

/** Tracks one episode's run; `push` returns true for every window at or after the run completes while it holds. */
export class AlertState {
  private run = 0;
  private readonly cols: number[];
  firstAlertWindow: number | null = null;

  constructor(
    private readonly policy: AlertPolicy,
    classes: readonly string[],
  ) {
    this.cols = policy.infectedPhases.map((ph) => classes.indexOf(ph));
  }

  infectedProbability(probs: ArrayLike<number>): number {
    let s = 0;
    for (const c of this.cols) s += probs[c];
    return s;
  }

  push(window: number, probs: ArrayLike<number>): boolean {
    this.run = this.infectedProbability(probs) >= this.policy.threshold ? this.run + 1 : 0;
    const alert = this.run >= this.policy.consecutive;
    if (alert && this.firstAlertWindow === null) this.firstAlertWindow = window;
    return alert;
  }
}
