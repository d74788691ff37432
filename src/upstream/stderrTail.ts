/**
 * An upstream's stderr, line by line: each line scrubbed of secret values (every line of a
 * multi-line secret is a value of its own, see secrets/secretForms.ts) before it reaches the debug
 * log or the tail kept for error messages (` (exit code 1; last stderr: "…" / "…")`, the last
 * QUOTED_LINES lines: every failure message about an upstream quotes them). A line longer than
 * {@link MAX_STDERR_LINE} keeps its head (scrubbed as cut text: a value cut at the end is
 * redacted too) and drops the rest, so no fragment of a value that straddled the cut shows.
 */
import type { Redactor } from '../secrets/redactor.js';
import type { Logger } from '../telemetry/logger.js';
import type { UpstreamTransport } from './transport.js';

/** Characters of one stderr line that are kept. */
export const MAX_STDERR_LINE = 4096;
const TAIL_LINES = 20;
/** Lines quoted in a failure message, each cut at QUOTED_CHARS. */
const QUOTED_LINES = 3;
const QUOTED_CHARS = 200;

/** The recent, scrubbed stderr lines of one upstream (cleared at each start). */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly server: string,
    private readonly redactor: Redactor,
    private readonly logger: Logger,
  ) {}

  /** A new process starts: its failures quote its own lines, not an earlier one's. */
  clear(): void {
    this.lines.length = 0;
  }

  /** Reads a child's stderr until it ends. */
  watch(stream: NodeJS.ReadableStream): void {
    stream.setEncoding('utf8');
    let head = '';
    let cut = false;
    const append = (piece: string): void => {
      if (cut) return;
      head += piece;
      if (head.length > MAX_STDERR_LINE) {
        head = head.slice(0, MAX_STDERR_LINE);
        cut = true;
      }
    };
    stream.on('data', (text: string) => {
      let start = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        append(text.slice(start, newline));
        this.add(head, cut);
        head = '';
        cut = false;
        start = newline + 1;
      }
      append(text.slice(start));
    });
    stream.on('error', () => undefined);
  }

  private add(line: string, cut: boolean): void {
    if (!line.trim()) return;
    const clean = cut ? `${this.redactor.scrubCut(line)}…[line cut at ${MAX_STDERR_LINE} characters]` : this.redactor.scrub(line);
    this.lines.push(clean);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.logger.debug({ server: this.server, stderr: clean }, 'upstream stderr');
  }

  /**
   * How the process ended and its last lines, for a failure message: ` (exit code 1; last
   * stderr: "…" / "…")`, or ''. Lines are scrubbed again (a value registered since one arrived is
   * redacted too).
   */
  summary(io?: UpstreamTransport): string {
    const exit = io?.exit();
    const how = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : undefined;
    const quoted = this.lines.slice(-QUOTED_LINES).map((line) => JSON.stringify(this.redactor.scrub(line).slice(0, QUOTED_CHARS)));
    const parts = [how, quoted.length ? `last stderr: ${quoted.join(' / ')}` : undefined].filter(Boolean);
    return parts.length ? ` (${parts.join('; ')})` : '';
  }
}
