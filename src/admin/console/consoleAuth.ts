/**
 * How a browser logs in to the console without the admin token ever sitting in a URL: the CLI
 * (holding the token) asks the gateway for a one-time login code; the code, valid for a minute
 * and for one use, is exchanged at `/console/login` for a random session id kept in an HttpOnly,
 * SameSite=Strict cookie. Each console session has its own CSRF token, which every form carries.
 * Codes and sessions are kept by their SHA-256, so a lookup reveals nothing by its timing.
 * No I/O: the clock is injected.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie holding a console session id. */
export const COOKIE = 'mcpgate_console';
/** How long a login code can be redeemed. */
export const CODE_TTL_MS = 60_000;
/** How long a console session lasts after login (then: log in again). */
export const SESSION_TTL_MS = 12 * 60 * 60_000;
const MAX_CODES = 16;
const MAX_SESSIONS = 32;

/** One logged-in browser. */
export interface ConsoleSession {
  readonly csrf: string;
  readonly expiresAt: number;
  /** A message to show once on the next page (the answer just given). */
  flash?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Login codes and console sessions. */
export class ConsoleAuth {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time login code (the oldest outstanding one goes when too many are). */
  mintCode(): { code: string; expiresInMs: number } {
    this.prune();
    const code = randomBytes(32).toString('base64url');
    this.codes.set(digest(code), this.now() + CODE_TTL_MS);
    while (this.codes.size > MAX_CODES) this.codes.delete(this.codes.keys().next().value as string);
    return { code, expiresInMs: CODE_TTL_MS };
  }

  /** Redeems a login code once; returns the new session id for the cookie, or undefined. */
  redeem(code: string): string | undefined {
    this.prune();
    const key = digest(code);
    if (!this.codes.delete(key)) return undefined;
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(digest(id), { csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + SESSION_TTL_MS });
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return id;
  }

  /** The session named by the request's Cookie header, if it is live. */
  session(cookieHeader: string | undefined): ConsoleSession | undefined {
    const id = cookieValue(cookieHeader, COOKIE);
    if (id === undefined) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session;
  }

  /** True while `session` is logged in and not expired. */
  live(session: ConsoleSession): boolean {
    if (session.expiresAt <= this.now()) return false;
    for (const candidate of this.sessions.values()) if (candidate === session) return true;
    return false;
  }

  /** Ends the session named by the Cookie header. */
  logout(cookieHeader: string | undefined): void {
    const id = cookieValue(cookieHeader, COOKIE);
    if (id !== undefined) this.sessions.delete(digest(id));
  }

  private prune(): void {
    const now = this.now();
    for (const [key, expires] of this.codes) if (expires <= now) this.codes.delete(key);
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}

/** True when `token` is the session's CSRF token (constant time). */
export function csrfMatches(session: ConsoleSession, token: string | undefined): boolean {
  if (token === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Set-Cookie value for a session id: HttpOnly, SameSite=Strict, path-scoped to the console. */
export function sessionCookie(id: string): string {
  return `${COOKIE}=${id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedCookie(): string {
  return `${COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
