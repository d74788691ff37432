/**
 * The last lines a stdio upstream wrote to stderr, scrubbed of secrets and logged at debug: they
 * explain a crash or a failed start in the server's state ("last stderr line: …").
 */
import type { Redactor } from '../secrets/redactor.js';
import type { Logger } from '../telemetry/logger.js';
import type { UpstreamTransport } from './transport.js';

const TAIL_LINES = 20;

/** Keeps an upstream's recent stderr lines. */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly server: string,
    private readonly redactor: Redactor,
    private readonly logger: Logger,
  ) {}

  /** Follows the stderr of a (new) transport. */
  watch(io: UpstreamTransport): void {
    const stream = io.stderr;
    if (!stream) return;
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = (lines.pop() ?? '').slice(-4096);
      for (const line of lines) {
        if (!line.trim()) continue;
        const clean = this.redactor.scrub(line);
        this.lines.push(clean);
        if (this.lines.length > TAIL_LINES) this.lines.shift();
        this.logger.debug({ server: this.server, stderr: clean }, 'upstream stderr');
      }
    });
    stream.on('error', () => undefined);
  }

  /** ` (exit code 1; last stderr line: "…")`, or '' when there is nothing to say. */
  summary(io?: UpstreamTransport): string {
    const exit = io?.exit();
    const how = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : undefined;
    const last = this.lines.at(-1);
    const parts = [how, last ? `last stderr line: ${JSON.stringify(last.slice(0, 200))}` : undefined].filter(Boolean);
    return parts.length ? ` (${parts.join('; ')})` : '';
  }
}
