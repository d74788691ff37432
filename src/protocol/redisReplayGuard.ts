/**
 * The request-state replay guard shared by every replica: each `jti` is claimed with one Redis
 * `SET key 1 NX PX ttl`, so a `requestState` used on one gateway process is refused on every other
 * one that shares the store (`MCPGATE_REQUEST_STATE_REDIS`, docs/protocol.md). Fail closed: when
 * Redis cannot be asked in time, the state is refused (the caller may simply start the call over).
 * Uses `@redis/client` (the official client's core, no dependencies of its own).
 */
import { createClient } from '@redis/client';
import { messageOf } from '../errors.js';
import type { ReplayGuard } from './requestState.js';

/** How long one claim may take before the state is refused. */
const CLAIM_TIMEOUT_MS = 2_000;
/** Extra lifetime of a claimed id past the state's expiry (clock difference between replicas). */
const SKEW_MS = 5_000;

/** What is reported when the store cannot be reached (logged by the caller; never the URL's password). */
export type ReplayStoreProblem = (message: string) => void;

/** A replay guard in Redis (one key per used state id, expiring with the state). */
export class RedisReplayGuard implements ReplayGuard {
  private readonly client;
  private connecting: Promise<unknown> | undefined;
  private quietUntil = 0;

  constructor(
    url: string,
    private readonly problem: ReplayStoreProblem = () => undefined,
    private readonly prefix = 'mcpgate:request-state:',
    private readonly now: () => number = Date.now,
  ) {
    this.client = createClient({
      url,
      // A command sent while disconnected fails at once rather than waiting in a queue: the claim
      // is refused (fail closed) instead of holding the caller's request open.
      disableOfflineQueue: true,
      socket: { connectTimeout: CLAIM_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000) },
    });
    this.client.on('error', (error: unknown) => this.report(`request-state replay store: ${messageOf(error)}`));
  }

  /** True the first time `jti` is claimed by any replica sharing the store; false when used before; throws when the store cannot say. */
  async consume(jti: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1_000, Math.ceil(expiresAt + SKEW_MS - this.now()));
    let timer: NodeJS.Timeout | undefined;
    try {
      this.connecting ??= this.client.connect().then(() => this.client.unref());
      const claim = this.connecting.then(() => this.client.set(`${this.prefix}${jti}`, '1', { condition: 'NX', expiration: { type: 'PX', value: ttl } }));
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CLAIM_TIMEOUT_MS} ms`)), CLAIM_TIMEOUT_MS)));
      return (await Promise.race([claim, timeout])) === 'OK';
    } catch (error) {
      this.report(`request-state replay store: ${messageOf(error)}: the state is refused (fail closed)`);
      if (!this.client.isOpen) this.connecting = undefined; // the next claim tries to connect again
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reports a problem, at most once per 30 s (a store that is down fails every reconnect). */
  private report(message: string): void {
    const now = this.now();
    if (now < this.quietUntil) return;
    this.quietUntil = now + 30_000;
    this.problem(message);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close().catch(() => undefined);
  }
}
