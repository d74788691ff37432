/**
 * Live updates of the console (Server-Sent Events on `/console/events`): after a call joins or
 * leaves the approval queue, an upstream changes state or a session opens or ends, each open
 * console gets its live sections re-rendered (debounced). The gateway's change sources are
 * followed only while a console is open: with none, nothing here runs.
 */
import type { ServerResponse } from 'node:http';
import type { ConsoleSession } from './consoleAuth.js';

/** A change source: calls the listener on each change, returns the unsubscribe. */
export type ChangeSource = (listener: () => void) => () => void;

interface Stream {
  readonly res: ServerResponse;
  readonly session: ConsoleSession;
}

const DEBOUNCE_MS = 50;
const HEARTBEAT_MS = 15_000;
/** Open streams at most (each is a browser tab). */
export const MAX_STREAMS = 16;

/** The open SSE streams and what feeds them. */
export class ConsoleFeed {
  private readonly streams = new Set<Stream>();
  private unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: readonly ChangeSource[],
    /** Each live section's HTML for a session (its forms carry its CSRF token); undefined: the session ended. */
    private readonly render: (session: ConsoleSession) => Record<string, string> | undefined,
  ) {}

  /** True when another stream may open. */
  get hasRoom(): boolean {
    return this.streams.size < MAX_STREAMS;
  }

  /** Starts an SSE stream on `res` for `session`: the sections at once, then on every change. */
  open(res: ServerResponse, session: ConsoleSession, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const stream = { res, session };
    this.streams.add(stream);
    res.on('close', () => this.close(stream));
    if (this.streams.size === 1) {
      this.unsubscribe = this.sources.map((source) => source(() => this.schedule()));
      this.heartbeat = setInterval(() => {
        for (const s of this.streams) s.res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    }
    this.push(stream);
  }

  /** Ends every stream (the endpoint is closing). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.res.end();
    for (const stream of [...this.streams]) this.close(stream);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const stream of [...this.streams]) this.push(stream);
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  private push(stream: Stream): void {
    const sections = this.render(stream.session);
    if (!sections) {
      stream.res.end('event: logout\ndata: {}\n\n');
      this.close(stream);
      return;
    }
    // JSON keeps the HTML on one `data:` line (it escapes every line break).
    stream.res.write(`event: sections\ndata: ${JSON.stringify(sections)}\n\n`);
  }

  private close(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    if (this.streams.size > 0) return;
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
