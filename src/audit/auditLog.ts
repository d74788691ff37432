/**
 * The local audit log: one JSON line per CONTRACT event, appended through pino's asynchronous
 * file destination (sonic-boom). Events are stamped when they happen, queued, and serialised
 * after the current event-loop turn as one batch (a single write), so a tool call never waits
 * for the audit writer: its response leaves first. `close()` flushes everything. Records are
 * serialised here rather than by a pino logger: the line format is the public record format
 * (`time` first, then the event's fields), and the hash chain to come needs the exact bytes.
 * Records reach the file within 200 ms (or 32 KiB); a crash can lose what is buffered until then.
 * (Hash chaining, rotation and the fsync policy arrive with the tamper-evident audit issue.)
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { EventSink, GatewayEvent } from '../telemetry/events.js';

type Destination = ReturnType<typeof pino.destination>;

/** Appends events to the audit file as JSON lines: `{"time":"…","event":"mcpgate.…",…}`. */
export class AuditLog implements EventSink {
  readonly file: string;
  private readonly destination: Destination;
  private closed = false;
  private queue: GatewayEvent[] = [];
  private times: number[] = [];
  private scheduled = false;
  private lastTime = 0;
  private lastIso = '';
  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const times = this.times;
    this.queue = [];
    this.times = [];
    let lines = '';
    for (let i = 0; i < batch.length; i++) {
      const time = times[i] as number;
      // Many records share a millisecond: format each distinct time once.
      if (time !== this.lastTime) {
        this.lastTime = time;
        this.lastIso = new Date(time).toISOString();
      }
      lines += `{"time":"${this.lastIso}",${JSON.stringify(batch[i]).slice(1)}\n`;
    }
    this.destination.write(lines);
  };

  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
    // Buffered: one write per 32 KiB or per 200 ms rather than one per record (the writes were
    // the audit log's main cost under load). close() and flush() write what is buffered.
    this.destination = pino.destination({ dest: file, sync: false, append: true, mkdir: true, minLength: 32768, maxWrite: 131072, periodicFlush: 200 } as never);
  }

  emit(event: GatewayEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    this.times.push(Date.now());
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
