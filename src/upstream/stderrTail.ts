/**
 * What a stdio upstream writes on stderr: each line scrubbed of secrets, logged at debug level,
 * and the last ones kept so that every failure message about the upstream can quote them
 * (` (exit code 1; last stderr: "…" / "…")`).
 */
import type { Redactor } from '../secrets/redactor.js';
import type { Logger } from '../telemetry/logger.js';
import type { UpstreamTransport } from './transport.js';

/** Lines kept. */
const KEPT_LINES = 20;
/** Lines quoted in a failure message, each cut at QUOTED_CHARS. */
const QUOTED_LINES = 3;
const QUOTED_CHARS = 200;
/** A line without its newline yet is kept up to this many characters. */
const PARTIAL_CHARS = 4096;

/** The recent stderr lines of one upstream (across its restarts; cleared at each start). */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly server: string,
    private readonly logger: Logger,
  ) {}

  /** A new process starts: its failures quote its own lines, not an earlier one's. */
  clear(): void {
    this.lines.length = 0;
  }

  /**
   * Follows a process's stderr; each line is scrubbed by every redactor given (the gateway's, and
   * the process's own values, which a failed start unregisters while the process may still write).
   */
  watch(io: UpstreamTransport, ...redactors: readonly Redactor[]): void {
    const stream = io.stderr;
    if (!stream) return;
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = (lines.pop() ?? '').slice(-PARTIAL_CHARS);
      for (const line of lines) {
        if (!line.trim()) continue;
        const clean = redactors.reduce((scrubbed, redactor) => redactor.scrub(scrubbed), line);
        this.lines.push(clean);
        if (this.lines.length > KEPT_LINES) this.lines.shift();
        this.logger.debug({ server: this.server, stderr: clean }, 'upstream stderr');
      }
    });
    stream.on('error', () => undefined);
  }

  /** How the process ended and its last lines, for a failure message: ` (exit code 1; last stderr: "…")`, or ''. */
  summary(io?: UpstreamTransport): string {
    const exit = io?.exit();
    const how = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : undefined;
    const quoted = this.lines.slice(-QUOTED_LINES).map((line) => JSON.stringify(line.slice(0, QUOTED_CHARS)));
    const parts = [how, quoted.length ? `last stderr: ${quoted.join(' / ')}` : undefined].filter(Boolean);
    return parts.length ? ` (${parts.join('; ')})` : '';
  }
}
