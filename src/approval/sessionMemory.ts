/**
 * "Allow for this session": approvals remembered per session (per tool, or per tool and exact
 * arguments), never visible to another session, forgotten when the session ends. A stateless
 * (2026-07-28) caller's "session" is its caller key, which never ends: its approvals are forgotten
 * once unused for {@link STATELESS_IDLE_MS} (as an idle HTTP session would have been closed).
 */
import { canonicalJson } from '../audit/redact.js';

/** How long a stateless caller's session approvals last after their last use: 30 minutes, the default `http.sessionIdleTimeout`. */
export const STATELESS_IDLE_MS = 30 * 60_000;

interface Remembered {
  readonly keys: Set<string>;
  /** Stateless callers only: forgotten when not used by then. */
  expiresAt: number | undefined;
}

/** Remembered session approvals of every open session. */
export class SessionMemory {
  private readonly sessions = new Map<string, Remembered>();
  private nextSweep = 0;

  constructor(
    private readonly scope: 'tool' | 'arguments',
    private readonly now: () => number = Date.now,
  ) {}

  /** True if this session approved this tool (with these arguments, when narrowed); a use extends a stateless caller's expiry. */
  has(session: string, publicName: string, args: unknown): boolean {
    const approved = this.live(session);
    const key = approved && this.key(publicName, args);
    if (key === undefined || approved === undefined || !approved.keys.has(key)) return false;
    if (approved.expiresAt !== undefined) approved.expiresAt = this.now() + STATELESS_IDLE_MS;
    return true;
  }

  /** Remembers an approval for the rest of the session (not for arguments that cannot be told apart); `stateless`: until unused for STATELESS_IDLE_MS. */
  remember(session: string, publicName: string, args: unknown, stateless = false): void {
    const key = this.key(publicName, args);
    if (key === undefined) return;
    this.sweep();
    let approved = this.live(session);
    if (!approved) this.sessions.set(session, (approved = { keys: new Set(), expiresAt: undefined }));
    approved.keys.add(key);
    approved.expiresAt = stateless ? this.now() + STATELESS_IDLE_MS : undefined;
  }

  /** Forgets everything a session approved (the session ended). */
  forget(session: string): void {
    this.sessions.delete(session);
  }

  /** Sessions with something remembered (expired ones are dropped at the next `remember`). */
  get size(): number {
    return this.sessions.size;
  }

  /** The session's approvals unless they expired (then they are dropped). */
  private live(session: string): Remembered | undefined {
    const approved = this.sessions.get(session);
    if (approved?.expiresAt !== undefined && approved.expiresAt <= this.now()) {
      this.sessions.delete(session);
      return undefined;
    }
    return approved;
  }

  /** Drops expired stateless entries, at most once a minute (so memory does not grow with callers that never come back). */
  private sweep(): void {
    const now = this.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + 60_000;
    for (const [session, approved] of this.sessions) if (approved.expiresAt !== undefined && approved.expiresAt <= now) this.sessions.delete(session);
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
