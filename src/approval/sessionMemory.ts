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
    const approved = this.sessions.get(session);
    const key = approved && this.key(publicName, args);
    return key !== undefined && approved !== undefined && approved.has(key);
  }

  /** Remembers an approval for the rest of the session (not for arguments that cannot be told apart). */
  remember(session: string, publicName: string, args: unknown): void {
    const key = this.key(publicName, args);
    if (key === undefined) return;
    let approved = this.sessions.get(session);
    if (!approved) this.sessions.set(session, (approved = new Set()));
    approved.add(key);
  }

  /** Forgets everything a session approved (the session ended). */
  forget(session: string): void {
    this.sessions.delete(session);
  }

  /** The remembered key; undefined for arguments with no canonical text (fail closed: never approved). */
  private key(publicName: string, args: unknown): string | undefined {
    if (this.scope === 'tool') return publicName;
    try {
      return `${publicName}\u0000${canonicalJson(args ?? {})}`;
    } catch {
      return undefined;
    }
  }
}
