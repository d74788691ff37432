/**
 * The task ids mcpgate hands a 2026-07-28 caller for an upstream's task (the tasks extension,
 * SEP-2663): a compact JWE (`dir` + `A256GCM`, the request-state keys) sealing the upstream's name,
 * its own task id and the caller key. `tasks/get|update|cancel` route by opening it: no table, so
 * any replica sharing `MCPGATE_REQUEST_STATE_KEY` can serve them; the caller cannot see which
 * upstream holds the task nor forge another id, and an id opened by another caller is unknown.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import type { StateKey } from './requestState.js';

/** The extension's identifier (capabilities, `_meta` clientCapabilities). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The JWE `typ` of a task id, so a request state is never taken for one (and back). */
const TYP = 'mcpgate-task';

const TaskIdSchema = z.strictObject({
  v: z.literal(1),
  /** The upstream holding the task. */
  s: z.string().min(1).max(128),
  /** The upstream's own task id. */
  t: z.string().min(1).max(1024),
  /** The caller key the task belongs to. */
  k: z.string().max(100),
});

/** Where a task lives. */
export interface TaskRoute {
  readonly server: string;
  readonly taskId: string;
}

/** Seals and opens task ids. */
export class TaskIdCodec {
  private readonly keys: ReadonlyMap<string, Uint8Array>;

  constructor(
    private readonly current: StateKey,
    previous: readonly StateKey[] = [],
  ) {
    this.keys = new Map([...previous, current].map((k) => [k.kid, k.key]));
  }

  /** The id the caller sees for `route`'s task. */
  seal(route: TaskRoute, callerKey: string): Promise<string> {
    const payload = { v: 1, s: route.server, t: route.taskId, k: callerKey } satisfies z.infer<typeof TaskIdSchema>;
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.current.kid, typ: TYP }).encrypt(this.current.key);
  }

  /** Where the task of `id` lives, if this gateway issued it to this caller; undefined otherwise (never throws: unknown is unknown). */
  async open(id: unknown, callerKey: string): Promise<TaskRoute | undefined> {
    if (typeof id !== 'string' || id.length > 4096) return undefined;
    try {
      const header = decodeProtectedHeader(id);
      const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
      if (!key || header.typ !== TYP) return undefined;
      const { plaintext } = await compactDecrypt(id, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      const parsed = TaskIdSchema.safeParse(JSON.parse(new TextDecoder().decode(plaintext)));
      if (!parsed.success || parsed.data.k !== callerKey) return undefined;
      return { server: parsed.data.s, taskId: parsed.data.t };
    } catch {
      return undefined;
    }
  }
}

/** True when a request's client capabilities declare the tasks extension. */
export function declaresTasks(capabilities: Readonly<Record<string, unknown>>): boolean {
  const extensions = capabilities.extensions;
  return typeof extensions === 'object' && extensions !== null && Object.hasOwn(extensions, TASKS_EXTENSION);
}
