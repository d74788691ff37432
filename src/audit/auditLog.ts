/**
 * The local audit log: one JSON line per CONTRACT event, appended through pino's asynchronous
 * writer. Events are queued and serialised after the current event-loop turn, so a tool call
 * never waits for the audit writer: its response leaves first. `close()` flushes everything.
 * Records reach the file within 200 ms (or 4 KiB); a crash can lose what is buffered until then.
 * (Hash chaining, rotation and the fsync policy arrive with the tamper-evident audit issue.)
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import type { EventSink, GatewayEvent } from '../telemetry/events.js';

type Destination = ReturnType<typeof pino.destination>;

/** Appends events to the audit file as JSON lines: `{"time":"…","event":"mcpgate.…",…}`. */
export class AuditLog implements EventSink {
  readonly file: string;
  private readonly destination: Destination;
  private readonly logger: Logger;
  private closed = false;
  private queue: GatewayEvent[] = [];
  private scheduled = false;
  private readonly drain = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) this.logger.info(event);
  };

  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
    // Buffered: one write per 4 KiB or per 200 ms rather than one per record (the writes were
    // the audit log's main cost under load). close() and flush() write what is buffered.
    this.destination = pino.destination({ dest: file, sync: false, append: true, mkdir: true, minLength: 4096, periodicFlush: 200 } as never);
    this.logger = pino(
      {
        base: null,
        messageKey: 'message',
        // With the level formatter emptied, pino writes the timestamp first: no leading comma.
        timestamp: () => `"time":"${new Date().toISOString()}"`,
        formatters: { level: () => ({}) },
      },
      this.destination,
    );
  }

  emit(event: GatewayEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Writes queued records and flushes buffered ones to disk. */
  flush(): void {
    if (this.closed) return;
    this.drain();
    try {
      this.destination.flushSync();
    } catch {
      // Not yet open (nothing written): nothing to flush.
    }
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.destination.once('close', () => resolve());
      this.destination.once('error', () => resolve());
      this.destination.end();
      setTimeout(resolve, 1000).unref();
    });
  }
}
