/**
 * What "session" means for a stateless (2026-07-28) caller: the caller key, a digest of who is
 * calling (the authenticated subject, `stdio:<pid>` on stdio, `anonymous` on an unauthenticated
 * listener), the client's self-reported name, and the optional client-chosen `dev.mcpgate/session`.
 * The subject is always part of it, so nothing keyed by it (a session approval, a request state)
 * can reach another subject. docs/protocol.md "Sessions" gives the rule for when it is specific
 * enough to carry "allow for this session".
 */
import { createHash } from 'node:crypto';

/** Who a modern request comes from, as far as the gateway can tell. */
export interface CallerFacts {
  /** Verified subject (bearer token), `stdio:<pid>`, or `anonymous`. */
  readonly subject: string;
  /** Self-reported `clientInfo.name` (may be absent). */
  readonly clientName: string | undefined;
  /** `_meta["dev.mcpgate/session"]`, when sent. */
  readonly session: string | undefined;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= chars) break;
  }
  return out;
}

/** `k_` + 16 base32 characters (80 bits) of SHA-256 over the facts, each length-prefixed. */
export function callerKey(facts: CallerFacts): string {
  const hash = createHash('sha256');
  for (const part of [facts.subject, facts.clientName ?? '', facts.session ?? '']) {
    hash.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return `k_${base32(hash.digest(), 16)}`;
}

/**
 * True when the key names one client rather than everyone sharing a subject and a client name:
 * stdio (one client per gateway process), a client-chosen session id, or a verified subject when
 * the operator opted in (`http.statelessSessions: subject`).
 */
export function isSpecificKey(facts: CallerFacts, subjectIsSession: boolean): boolean {
  if (facts.subject.startsWith('stdio:') || facts.session !== undefined) return true;
  return subjectIsSession && facts.subject !== 'anonymous';
}
