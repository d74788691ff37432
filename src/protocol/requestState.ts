/**
 * The `requestState` mcpgate hands a modern client with an `input_required` result: a compact JWE
 * (`dir` + `A256GCM`, jose), so the client can neither read it (it may carry an upstream's own
 * state and the question asked) nor change it. The payload binds the state to one request (method,
 * target, a digest of the arguments), to the caller key, to the policy in force and to an expiry;
 * each state is single-use (its `jti` is consumed on first use). The protected header names the
 * key (`kid`) so keys can rotate: the current key seals, current and previous keys open.
 *
 * Any gateway process holding the same key can open a state: the retry of a call may land on
 * another replica. (A replay there is caught only when the replicas share the consumed set; in
 * memory, each process remembers its own until the state expires: docs/protocol.md.)
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, GatewayError, ProtocolError } from '../errors.js';

/** What a state says (strict: a payload with anything else is not one of ours). */
export const RequestStateSchema = z.strictObject({
  v: z.literal(1),
  /** Single-use id. */
  jti: z.string().min(16).max(64),
  /** The logical call: every round of one call carries the same id (audit records link by it). */
  call: z.string().min(1).max(128),
  /** What it continues: the kind of question asked in the last round. */
  kind: z.enum(['approval', 'review', 'bridge', 'upstream']),
  m: z.string().max(64),
  t: z.string().max(4096),
  /** Digest of the request's arguments (canonical JSON). */
  ad: z.string().max(100),
  /** Policy version the answer is valid under. */
  pv: z.string().max(100),
  /** Caller key. */
  sub: z.string().max(100),
  /** Keys of the inputRequests issued in the last round → digest of each request. */
  asked: z.record(z.string().max(256), z.string().max(100)),
  round: z.number().int().min(1).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
  /** The approval this call already has (a later round must not ask again). */
  approved: z.strictObject({ scope: z.enum(['once', 'session', 'always']), by: z.string().max(64), waitMs: z.number().min(0), via: z.string().max(64).optional() }).optional(),
  /** An upstream's own MRTR state, verbatim, and the server it belongs to. */
  up: z.strictObject({ server: z.string().max(128), state: z.string().max(1_000_000).optional() }).optional(),
  /** A parked legacy upstream call this state continues (bridging; this replica only). */
  hold: z.strictObject({ replica: z.string().max(128), id: z.string().max(128) }).optional(),
});

/** A verified request state. */
export type RequestState = z.infer<typeof RequestStateSchema>;

/** What a new state says (the codec adds `v`, `jti`, `iat`, `exp`). */
export type NewRequestState = Omit<RequestState, 'v' | 'jti' | 'iat' | 'exp'>;

/** One AES-256 key and its id. */
export interface StateKey {
  readonly kid: string;
  readonly key: Uint8Array;
}

/** What a retry must match for its state to be accepted. */
export interface StateBinding {
  readonly m: string;
  readonly t: string;
  readonly ad: string;
  readonly pv: string;
  readonly sub: string;
}

/** Remembers used `jti`s until their state expires. */
export interface ReplayGuard {
  /** True the first time a jti is seen (it is then remembered until `expiresAt`); throws when it cannot tell (the state is then refused). */
  consume(jti: string, expiresAt: number): Promise<boolean> | boolean;
}

/** The outcome of opening a state: accepted, or why not (`restart`: the call may simply start over). */
export type Opened = { readonly ok: true; readonly state: RequestState } | { readonly ok: false; readonly reason: string; readonly restart: boolean };

/** Allowed clock difference between replicas. */
const SKEW_S = 5;

/** In-process replay guard: a map of used ids, swept as they expire. */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly used = new Map<string, number>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  consume(jti: string, expiresAt: number): boolean {
    const now = this.now();
    if (now - this.sweptAt > 10_000) {
      this.sweptAt = now;
      for (const [id, until] of this.used) if (until < now) this.used.delete(id);
    }
    if (this.used.has(jti)) return false;
    this.used.set(jti, expiresAt + SKEW_S * 1000);
    return true;
  }
}

/** A fresh random 256-bit key (used when no shared key is configured: states then die with the process). */
export function randomStateKey(): StateKey {
  return { kid: `p${randomBytes(4).toString('hex')}`, key: randomBytes(32) };
}

/** The error a rejected state becomes on the wire (-32602, audited as a denial). */
export function stateRejected(reason: string): ProtocolError {
  return new ProtocolError(ErrorCodes.REQUEST_STATE_INVALID, -32602, `requestState rejected: ${reason}`);
}

/** Seals and opens request states. */
export class RequestStateCodec {
  private readonly keys: ReadonlyMap<string, Uint8Array>;

  constructor(
    private readonly current: StateKey,
    previous: readonly StateKey[] = [],
    private readonly replay: ReplayGuard = new MemoryReplayGuard(),
    private readonly now: () => number = Date.now,
  ) {
    if (current.key.length !== 32) throw new Error('a request-state key is 32 bytes');
    this.keys = new Map([...previous, current].map((k) => [k.kid, k.key]));
  }

  /** Seals a new state valid for `ttlMs`. */
  async seal(payload: NewRequestState, ttlMs: number): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    const state: RequestState = { v: 1, jti: randomBytes(12).toString('base64url'), ...payload, iat, exp: iat + Math.max(1, Math.ceil(ttlMs / 1000)) };
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(state)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.current.kid })
      .encrypt(this.current.key);
  }

  /**
   * Opens a state and checks it against this request: known key and intact, not expired, same
   * method, target, arguments and caller, same policy version (else `restart`), not used before.
   * Consumes it. Never throws: anything undecidable is a rejection (fail closed).
   */
  async open(token: unknown, binding: StateBinding): Promise<Opened> {
    const reject = (reason: string, restart = false): Opened => ({ ok: false, reason, restart });
    if (typeof token !== 'string' || token.length > 2_000_000) return reject('not a state this gateway issued');
    let state: RequestState;
    try {
      const kid = decodeProtectedHeader(token).kid;
      const key = typeof kid === 'string' ? this.keys.get(kid) : undefined;
      if (!key) return reject('not a state this gateway issued (unknown key)');
      const { plaintext } = await compactDecrypt(token, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      const parsed = RequestStateSchema.safeParse(JSON.parse(new TextDecoder().decode(plaintext)));
      if (!parsed.success) return reject('not a state this gateway issued');
      state = parsed.data;
    } catch {
      return reject('not a state this gateway issued, or it was altered');
    }
    const nowS = this.now() / 1000;
    if (state.exp + SKEW_S < nowS) return reject('expired (start the call again)');
    if (state.iat - SKEW_S > nowS) return reject('issued in the future');
    if (state.sub !== binding.sub) return reject('issued to another caller');
    if (state.m !== binding.m || state.t !== binding.t) return reject(`issued for another request (${state.m} ${state.t.slice(0, 64)})`);
    if (state.ad !== binding.ad) return reject('issued for other arguments');
    if (state.pv !== binding.pv) return reject('the policy changed since it was issued (start the call again)', true);
    let fresh: boolean;
    try {
      fresh = await this.replay.consume(state.jti, state.exp * 1000);
    } catch (error) {
      return reject(`the replay store could not be asked (${error instanceof Error ? error.message : String(error)}): refused (fail closed; start the call again)`, true);
    }
    if (!fresh) return reject('already used (each requestState is good for one retry)');
    return { ok: true, state };
  }
}

/**
 * The state keys from `MCPGATE_REQUEST_STATE_KEY`: comma-separated `kid:base64url-of-32-bytes`, the
 * first seals, all open (rotation: put the new key first, keep the old one until its states expired).
 * Unset: a random key of this process. Anything malformed is an error (never a silent random key:
 * replicas would then refuse each other's states).
 */
export function stateKeysFrom(value: string | undefined): { current: StateKey; previous: StateKey[] } {
  if (value === undefined || value.trim() === '') return { current: randomStateKey(), previous: [] };
  const keys = value.split(',').map((part, i) => {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]+={0,2})$/.exec(part.trim());
    const key = match ? Buffer.from(match[2] as string, 'base64url') : undefined;
    if (!match || key?.length !== 32) {
      throw new GatewayError(ErrorCodes.CONFIG_INVALID, `MCPGATE_REQUEST_STATE_KEY entry ${i + 1} is not kid:<32 bytes in base64url> (generate one with: node -e "console.log('k1:'+crypto.randomBytes(32).toString('base64url'))")`);
    }
    return { kid: match[1] as string, key: new Uint8Array(key) };
  });
  return { current: keys[0] as StateKey, previous: keys.slice(1) };
}
