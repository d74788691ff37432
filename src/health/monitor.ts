/**
 * What an admin sees of a running gateway that the gateway itself does not keep: per upstream,
 * its restarts (all, and those within the restart-loop window), its last error and when its
 * state last changed; and the open client sessions. An event sink (src/telemetry/events.ts), so
 * it learns everything from the records every part already emits; the hot path pays one
 * comparison per event (a tool result counts a call for its session).
 */
import type { EventSink, GatewayEvent, UpstreamState } from '../telemetry/events.js';
import { RESTART_LOOP } from './verdict.js';

/** What the monitor knows of one upstream. */
export interface UpstreamRecord {
  readonly state: UpstreamState;
  /** ISO time of the last state change. */
  readonly since: string;
  readonly restarts: number;
  /** Times (ms) of the restarts within the restart-loop window, oldest first. */
  readonly recent: readonly number[];
  readonly settled: boolean;
  /** Its last start failed and it has not been ready since (it may be retrying). */
  readonly failing: boolean;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}

/** One open client session. */
export interface SessionRecord {
  readonly id: string;
  readonly transport: 'stdio' | 'http';
  readonly client?: string;
  readonly subject?: string;
  readonly protocolVersion?: string;
  readonly startedAt: string;
  calls: number;
}

/** Restarts remembered within the window (a tight loop is reported as "at least" this many). */
const MAX_RECENT = 100;

interface MutableUpstream {
  state: UpstreamState;
  since: string;
  restarts: number;
  recent: number[];
  settled: boolean;
  failing: boolean;
  lastError?: string;
  lastErrorAt?: string;
}

/** Tracks upstream restarts and open sessions from the gateway's events; tells listeners of a change. */
export class GatewayMonitor implements EventSink {
  private readonly upstreams = new Map<string, MutableUpstream>();
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  emit(event: GatewayEvent): void {
    switch (event.event) {
      case 'mcpgate.tool.result': {
        const session = this.sessions.get(event.session);
        if (session) session.calls++;
        return;
      }
      case 'mcpgate.upstream.state':
        // A session's own instance (isolation: session) is not the server: its starts and idle
        // stops would read as restarts and clear a failing listing instance (its records are in the audit log).
        if (event.session !== undefined) return;
        this.upstreamState(event.server, event.state, event.error);
        break;
      case 'mcpgate.session.start': {
        const client = event.client_name ? `${event.client_name}${event.client_version ? ` ${event.client_version}` : ''}` : undefined;
        this.sessions.set(event.session, {
          id: event.session,
          transport: event.transport,
          startedAt: new Date(this.now()).toISOString(),
          calls: 0,
          ...(client ? { client } : {}),
          ...(event.subject ? { subject: event.subject } : {}),
          ...(event.protocol_version ? { protocolVersion: event.protocol_version } : {}),
        });
        break;
      }
      case 'mcpgate.session.end':
        if (!this.sessions.delete(event.session)) return;
        break;
      default:
        return;
    }
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after each change of an upstream's state or of the open sessions; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What is known of upstream `name` (undefined: no state event yet). */
  upstream(name: string): UpstreamRecord | undefined {
    const record = this.upstreams.get(name);
    if (!record) return undefined;
    const cutoff = this.now() - RESTART_LOOP.windowMs;
    while (record.recent.length > 0 && (record.recent[0] as number) < cutoff) record.recent.shift();
    return { ...record, recent: [...record.recent] };
  }

  /** The open sessions, oldest first. */
  openSessions(): SessionRecord[] {
    return [...this.sessions.values()].map((session) => ({ ...session }));
  }

  private upstreamState(name: string, state: UpstreamState, error: string | undefined): void {
    const now = this.now();
    let record = this.upstreams.get(name);
    if (!record) this.upstreams.set(name, (record = { state, since: '', restarts: 0, recent: [], settled: false, failing: false }));
    // Each restart is announced once by a `restarting` state (a crash, or a failed start retried).
    if (state === 'restarting' && record.state !== 'restarting') {
      record.restarts++;
      record.recent.push(now);
      if (record.recent.length > MAX_RECENT) record.recent.shift();
    }
    if (state === 'ready' || state === 'failed' || state === 'restarting') record.settled = true;
    // A failed start is followed at once by `restarting` (the retry): remember it until a start succeeds.
    if (state === 'failed') record.failing = true;
    else if (state === 'ready' || state === 'stopped') record.failing = false;
    record.state = state;
    record.since = new Date(now).toISOString();
    if (error !== undefined) {
      record.lastError = error;
      record.lastErrorAt = record.since;
    }
  }
}
