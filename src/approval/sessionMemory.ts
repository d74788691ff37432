/**
 * "Allow for this session": approvals remembered per session (per tool, or per tool and exact
 * arguments), never visible to another session, forgotten when the session ends.
 */
import { canonicalJson } from '../audit/redact.js';

/** Remembered session approvals of every open session. */
export class SessionMemory {
  private readonly sessions = new Map<string, Set<string>>();

  constructor(private readonly scope: 'tool' | 'arguments') {}

  /** True if this session approved this tool (with these arguments, when narrowed). */
  has(session: string, publicName: string, args: unknown): boolean {
    return this.sessions.get(session)?.has(this.key(publicName, args)) ?? false;
  }

  /** Remembers an approval for the rest of the session. */
  remember(session: string, publicName: string, args: unknown): void {
    let approved = this.sessions.get(session);
    if (!approved) this.sessions.set(session, (approved = new Set()));
    approved.add(this.key(publicName, args));
  }

  /** Forgets everything a session approved (the session ended). */
  forget(session: string): void {
    this.sessions.delete(session);
  }

  private key(publicName: string, args: unknown): string {
    return this.scope === 'tool' ? publicName : `${publicName}\u0000${canonicalJson(args ?? {})}`;
  }
}
