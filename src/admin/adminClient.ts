/**
 * The CLI side of the admin endpoint: finds the running gateways of a configuration (their
 * endpoint files in the admin directory), lists their pending approvals and answers one, reads
 * their status, and asks for a console login link.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import { PendingApprovalSchema, type PendingApproval, type QueueAnswer } from '../approval/queue.js';
import { processAlive } from '../processAlive.js';
import { GatewayStatusSchema, type GatewayStatus } from './status.js';

const AdminFileSchema = z.object({ pid: z.number().int(), url: z.string().url(), token: z.string().min(1), config: z.string() });
/** A running gateway's admin endpoint, as its endpoint file gives it. */
export type AdminTarget = z.infer<typeof AdminFileSchema>;

const ListSchema = z.object({ approvals: z.array(PendingApprovalSchema) });

/** A pending approval and the gateway holding it. */
export type GatewayApproval = PendingApproval & { readonly gateway_pid: number };

/** The live gateways whose endpoint files are in `dir` (files of dead processes are removed). */
export async function findGateways(dir: string): Promise<AdminTarget[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const targets: AdminTarget[] = [];
  for (const name of names.filter((n) => /^gateway-\d+\.json$/.test(n)).sort()) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new GatewayError(ErrorCodes.ADMIN_UNAVAILABLE, `cannot read ${file}: ${error.code ?? error.message}`, {
        remedy: 'run the command as the user that runs mcpgate serve',
      });
    });
    const parsed = AdminFileSchema.safeParse(safeJson(text));
    if (!parsed.success) continue;
    if (!processAlive(parsed.data.pid)) {
      await unlink(file).catch(() => undefined);
      continue;
    }
    targets.push(parsed.data);
  }
  if (targets.length === 0) {
    throw new GatewayError(ErrorCodes.ADMIN_UNAVAILABLE, `no running mcpgate gateway found (no endpoint file in ${dir})`, {
      remedy: 'start `mcpgate serve` with the same --config, and run this command as the user running it',
    });
  }
  return targets;
}

/** Every pending approval of every reachable gateway, oldest first, and why any gateway could not be asked. */
export async function listApprovals(targets: readonly AdminTarget[]): Promise<{ approvals: GatewayApproval[]; problems: string[] }> {
  const settled = await Promise.allSettled(
    targets.map(async (target) => {
      const body = ListSchema.parse(await call(target, 'GET', '/approvals'));
      return body.approvals.map((approval) => ({ ...approval, gateway_pid: target.pid }));
    }),
  );
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length === settled.length) throw failures[0];
  const approvals = settled.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  return { approvals: approvals.sort((a, b) => b.age_ms - a.age_ms), problems: failures.map((error) => messageOf(error)) };
}

/** Answers the pending approval `id`, wherever it waits (gateways that cannot be reached are skipped). */
export async function answerApproval(targets: readonly AdminTarget[], id: string, answer: QueueAnswer): Promise<void> {
  if (!/^[0-9a-f]{1,32}$/.test(id)) throw new GatewayError(ErrorCodes.APPROVAL_NOT_FOUND, `"${id}" is not an approval id`, { remedy: 'copy the ID column of `mcpgate approvals`' });
  let unreachable: unknown;
  for (const target of targets) {
    try {
      if ((await call(target, 'POST', `/approvals/${id}`, answer, true)) === 200) return;
    } catch (error) {
      unreachable ??= error;
    }
  }
  if (unreachable && targets.length === 1) throw unreachable;
  throw new GatewayError(ErrorCodes.APPROVAL_NOT_FOUND, `no pending approval with id ${id}`, {
    remedy: 'it may have been answered, timed out or been cancelled; `mcpgate approvals` lists what is pending',
  });
}

/** The running gateway's reload state (`GET /reload`: generation and configuration print), unparsed. */
export async function reloadState(target: AdminTarget): Promise<unknown> {
  return call(target, 'GET', '/reload');
}

/** Each reachable gateway's status, and why any other could not be asked. */
export async function gatewayStatuses(targets: readonly AdminTarget[]): Promise<{ statuses: GatewayStatus[]; problems: string[] }> {
  const settled = await Promise.allSettled(targets.map(async (target) => GatewayStatusSchema.parse(await call(target, 'GET', '/status'))));
  const statuses = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const problems = settled.flatMap((result) => (result.status === 'rejected' ? [messageOf(result.reason)] : []));
  if (statuses.length === 0 && settled.length > 0) throw (settled[0] as PromiseRejectedResult).reason;
  return { statuses, problems };
}

const LoginSchema = z.object({ url: z.string().url(), expires_in_ms: z.number() });

/** A one-time console login link of `target` (valid for `expires_in_ms`). */
export async function consoleLogin(target: AdminTarget): Promise<z.infer<typeof LoginSchema>> {
  return LoginSchema.parse(await call(target, 'POST', '/console-login'));
}

async function call(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown, statusOnly = false): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new GatewayError(ErrorCodes.ADMIN_UNAVAILABLE, `cannot reach the gateway (pid ${target.pid}) at ${target.url}: ${messageOf(error)}`, {
      remedy: 'check that mcpgate serve is still running',
    });
  }
  const value = safeJson(await response.text());
  if (statusOnly) {
    if (response.status === 200 || response.status === 404) return response.status;
  } else if (response.ok) return value;
  const error = (value as { error?: unknown } | undefined)?.error;
  throw new GatewayError(ErrorCodes.ADMIN_UNAVAILABLE, `the gateway (pid ${target.pid}) refused the request: HTTP ${response.status}${typeof error === 'string' ? ` ${error}` : ''}`);
}


function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
