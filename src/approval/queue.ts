/**
 * The approval queue: calls waiting for `mcpgate approve` / `mcpgate deny`. Each pending entry
 * resolves once, with the admin's answer, or rejects when its wait ends (timeout, cancellation,
 * disconnect, shutdown). No I/O here: the admin endpoint reads and answers it.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** A pending request as `mcpgate approvals` lists it (the admin endpoint's wire format). */
export const PendingApprovalSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  age_ms: z.number(),
  /** `tool`: a tool call; `network`: a connection an upstream opens (`destination`; `tool` is the call in flight, if any). */
  kind: z.enum(['tool', 'network']).default('tool'),
  destination: z.string().optional(),
  session: z.string(),
  client: z.string(),
  server: z.string(),
  tool: z.string(),
  public_name: z.string(),
  /** One line, every key listed, long values cut head…tail (summary.ts). */
  arguments: z.string(),
  /** Characters the `arguments` line leaves out (0 or absent: none). */
  arguments_cut: z.number().optional(),
  /** The arguments in full, secrets redacted as in the audit's `redacted` mode. */
  arguments_full: z.unknown().optional(),
  /** Set when even `arguments_full` had to be cut (more than 4 MiB of JSON). */
  arguments_truncated: z.boolean().optional(),
  rule: z.string(),
  /** Why the auto-reviewer passed the ask on to a person (its risk and rationale, or its failure), when one ran. */
  review: z.string().optional(),
});
export type PendingApproval = z.infer<typeof PendingApprovalSchema>;

/** An admin's answer. */
export const QueueAnswerSchema = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('allow'), scope: z.enum(['once', 'session', 'always']).default('once') }),
  z.strictObject({ decision: z.literal('deny'), reason: z.string().max(1000).optional() }),
]);
export type QueueAnswer = z.infer<typeof QueueAnswerSchema>;

interface Entry {
  readonly info: Omit<PendingApproval, 'age_ms'>;
  readonly createdMs: number;
  readonly resolve: (answer: QueueAnswer) => void;
}

/** What describes a queued call or connection. */
export type QueuedCall = Omit<PendingApproval, 'id' | 'created_at' | 'age_ms' | 'kind'> & { readonly kind?: PendingApproval['kind'] };

/** Pending approvals, by id. */
export class ApprovalQueue {
  private readonly pending = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after each call joins or leaves the queue (the console's live view); returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * Queues a call; resolves with the answer. `signal` ending the wait removes it from the queue
   * and rejects with the signal's reason. `onQueued` hears the id once the call is listed.
   */
  wait(call: QueuedCall, signal: AbortSignal, allowAlways: boolean, onQueued?: (id: string) => void): Promise<QueueAnswer> {
    return new Promise<QueueAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      let id = randomBytes(4).toString('hex');
      while (this.pending.has(id)) id = randomBytes(4).toString('hex');
      const createdMs = Date.now();
      const onAbort = () => {
        this.pending.delete(id);
        reject(signal.reason);
        this.changed();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        info: { id, created_at: new Date(createdMs).toISOString(), kind: 'tool', ...call },
        createdMs,
        resolve: (answer) => {
          signal.removeEventListener('abort', onAbort);
          this.pending.delete(id);
          // "always" where persistence is forbidden counts as "for this session"
          resolve(answer.decision === 'allow' && answer.scope === 'always' && !allowAlways ? { decision: 'allow', scope: 'session' } : answer);
          this.changed();
        },
      });
      onQueued?.(id);
      this.changed();
    });
  }

  /** Everything pending, oldest first. */
  list(now = Date.now()): PendingApproval[] {
    return [...this.pending.values()].map((entry) => ({ ...entry.info, age_ms: now - entry.createdMs }));
  }

  /** Answers a pending request; false if there is none with this id. */
  answer(id: string, answer: QueueAnswer): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    entry.resolve(answer);
    return true;
  }

  get size(): number {
    return this.pending.size;
  }
}

/** `ARG` as a POSIX shell word (quoted only when it needs to be), for commands people copy. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The commands that answer pending call `id` of the gateway whose config dir is `configDir`. */
export function answerCommands(id: string, configDir: string): { approve: string; deny: string } {
  const config = `--config ${shellWord(configDir)}`;
  return { approve: `mcpgate approve ${id} ${config}`, deny: `mcpgate deny ${id} ${config}` };
}
