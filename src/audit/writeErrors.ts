/**
 * Rate-limited reporting of the audit writer's failures. A full disk fails every write (up to ~50
 * a second in batch mode, one per record with `fsync: always`): printing each would flood the
 * logs. The first error of a kind (its errno code) is reported at once; later ones are counted and
 * summarised at most once per window ("123 more write errors (ENOSPC) in the last 10 s; 4,567
 * records waiting"); the recovery is reported once. Nothing here runs while writes succeed.
 */

/** Summaries are at most this far apart (docs/audit.md). */
export const REPORT_WINDOW_MS = 10_000;

/** Counts the audit writer's failures and reports them without flooding. */
export class WriteErrors {
  /** Errors counted since the last summary, by kind. */
  private readonly counts = new Map<string, number>();
  /** Kinds reported at once in the current outage (or within the last window, against flapping). */
  private readonly reportedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** Failed attempts in the current outage. */
  private failures = 0;
  private outageReported = false;
  private stopped = false;

  /**
   * @param report prints one message (an Error, as AppenderOptions.onError takes it)
   * @param waiting how many records are waiting to be written (for the summaries)
   */
  constructor(
    private readonly report: (error: Error) => void,
    private readonly waiting: () => number,
    private readonly windowMs = REPORT_WINDOW_MS,
  ) {}

  /** True between a failure and the next fully successful write. */
  get inOutage(): boolean {
    return this.failing;
  }

  /** A write (or fsync, rename…) failed; `note` is appended to the first report of its kind. */
  failed(error: Error, note = ''): void {
    if (this.stopped) {
      this.report(error);
      return;
    }
    const kind = kindOf(error);
    const now = performance.now();
    const last = this.reportedAt.get(kind);
    this.failures++;
    // Within an outage a kind is reported once; across outages once per window (a disk at the
    // edge of full can fail and succeed in turn).
    const fresh = last === undefined || (!this.failing && now - last >= this.windowMs);
    this.failing = true;
    if (fresh) {
      this.reportedAt.set(kind, now);
      this.outageReported = true;
      this.report(note ? Object.assign(new Error(`${error.message}${note}`), { code: (error as NodeJS.ErrnoException).code }) : error);
    } else {
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    }
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.summarise(), this.windowMs);
      this.timer.unref();
    }
  }

  /** A write succeeded after failures: reported once, with the errors counted since the last summary. */
  recovered(detail: string): void {
    if (!this.failing) return;
    this.failing = false;
    if (this.outageReported) {
      const counted = [...this.counts].map(([kind, n]) => `${n.toLocaleString('en-US')} × ${kind}`).join(', ');
      this.counts.clear();
      this.report(new Error(`writing again after ${plural(this.failures, 'failed attempt')}${counted ? ` (not reported singly: ${counted})` : ''}${detail}`));
    }
    // An outage that was not reported at once (flapping within a window) stays counted: the
    // next summary tells it, so a disk at the edge of full prints a line per window, not per flap.
    this.failures = 0;
    this.outageReported = false;
    const now = performance.now();
    for (const [kind, at] of this.reportedAt) if (now - at >= this.windowMs) this.reportedAt.delete(kind);
    if (this.counts.size === 0) this.summarise();
  }

  /** Prints the counted errors (each window, and at shutdown). */
  summarise(): void {
    for (const [kind, count] of this.counts) {
      this.report(new Error(`${count.toLocaleString('en-US')} more write error${count === 1 ? '' : 's'} (${kind}) in the last ${this.windowMs % 1000 === 0 ? `${this.windowMs / 1000} s` : `${this.windowMs} ms`}; ${plural(this.waiting(), 'record')} waiting`));
    }
    this.counts.clear();
    if (!this.failing && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Prints what is still counted and stops the timer (shutdown): later errors are reported as they come. */
  stop(): void {
    this.summarise();
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The kind an error is counted under: its errno code (ENOSPC, EFBIG, EDQUOT, EIO…). */
function kindOf(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.name;
}

/** `4,567 records`. */
export function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
