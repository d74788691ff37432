/**
 * The last calls of each session and how they ended, for the auto-reviewer's context. An event
 * sink, added only when `approval.autoReview` is configured (so nothing else pays for it).
 */
import type { EventSink, GatewayEvent } from '../telemetry/events.js';

/** One earlier call of the session. */
export interface RecentCall {
  tool: string;
  decision: string;
  decided_by: string;
  outcome?: string;
  at: string;
}

/** Keeps the last `limit` calls of every open session. */
export class RecentCalls implements EventSink {
  private readonly sessions = new Map<string, RecentCall[]>();
  private readonly byCall = new Map<string, RecentCall>();

  constructor(private readonly limit: number) {}

  emit(event: GatewayEvent): void {
    if (event.event === 'mcpgate.tool.decision') {
      if (this.limit === 0 || !event.server) return;
      let calls = this.sessions.get(event.session);
      if (!calls) this.sessions.set(event.session, (calls = []));
      const call: RecentCall = { tool: event.public_name, decision: event.decision, decided_by: event.decided_by, at: new Date().toISOString() };
      calls.push(call);
      if (event.decision === 'allow') this.byCall.set(event.call, call);
      const dropped = calls.length > this.limit ? calls.shift() : undefined;
      if (dropped) for (const [id, c] of this.byCall) if (c === dropped) this.byCall.delete(id);
    } else if (event.event === 'mcpgate.tool.result') {
      const call = this.byCall.get(event.call);
      if (call) {
        call.outcome = event.outcome;
        this.byCall.delete(event.call);
      }
    } else if (event.event === 'mcpgate.session.end') {
      const calls = this.sessions.get(event.session) ?? [];
      for (const [id, c] of this.byCall) if (calls.includes(c)) this.byCall.delete(id);
      this.sessions.delete(event.session);
    }
  }

  /** The session's last calls, oldest first. */
  of(session: string): readonly RecentCall[] {
    return [...(this.sessions.get(session) ?? [])];
  }
}
