/**
 * `mcpgate approvals [--json | --full ID] [--watch]`, `mcpgate approve ID [--session|--always]`, `mcpgate deny ID [--reason …]`:
 * list and answer the `ask` decisions waiting in the approval queue of the running gateway(s) of
 * a configuration, through their local admin endpoint (see src/admin/adminEndpoint.ts): tool
 * calls, and connections upstream servers open through the egress proxy (`(network)` rows).
 */
import type { Writable } from 'node:stream';
import { answerApproval, findGateways, listApprovals, type GatewayApproval } from '../admin/adminClient.js';
import { answerCommands } from '../approval/queue.js';
import { printable, printableJson } from '../printable.js';
import { loadConfig } from '../config/load.js';
import { ErrorCodes, GatewayError, messageOf, UsageError } from '../errors.js';

/** Options shared by the three commands. */
export interface ApprovalsOptions {
  readonly configDir: string;
  readonly out: Writable;
  readonly err?: Writable;
}

/** `mcpgate approvals [--json | --full ID] [--watch]` */
export async function approvalsCommand(options: ApprovalsOptions & { json: boolean; full?: string | undefined; watch?: boolean; stop?: AbortSignal }): Promise<number> {
  if (options.json && options.full !== undefined) throw new UsageError('choose one of --json or --full ID');
  if (options.watch && options.full !== undefined) throw new UsageError('choose one of --watch or --full ID');
  const config = await loadConfig(options.configDir);
  if (options.watch) return watchQueue(options, config.approval.adminDir, options.stop);
  const { approvals, problems } = await listApprovals(await findGateways(config.approval.adminDir));
  for (const problem of problems) options.err?.write(`mcpgate: warning: ${problem}\n`);
  if (options.full !== undefined) {
    const approval = approvals.find((a) => a.id === options.full);
    if (!approval) {
      throw new GatewayError(ErrorCodes.APPROVAL_NOT_FOUND, `no pending approval with id ${options.full}`, {
        remedy: 'it may have been answered, timed out or been cancelled; `mcpgate approvals` lists what is pending',
      });
    }
    options.out.write(details(approval));
    return 0;
  }
  if (options.json) {
    // the same JSON, with the characters that could drive a terminal escaped
    options.out.write(`${printableJson(approvals, 2)}\n`);
    return 0;
  }
  if (approvals.length === 0) {
    options.out.write('no pending approvals\n');
    return 0;
  }
  options.out.write(table(approvals));
  const cut = approvals.filter((a) => (a.arguments_cut ?? 0) > 0);
  if (cut.length > 0) options.out.write(`arguments cut (…[N chars cut]…) in ${cut.map((a) => a.id).join(', ')}: mcpgate approvals --full ID shows all of them\n`);
  return 0;
}

/** One pending call with all its arguments (secrets redacted), for `--full ID`. */
function details(a: GatewayApproval): string {
  const rows = [
    ['id', a.id],
    ['age', age(a.age_ms)],
    ['session', a.session],
    ['client', a.client || '-'],
    ['server', a.server],
    ['tool', `${a.tool} (${a.public_name})`],
    ['asked because', a.rule],
  ];
  const width = Math.max(...rows.map(([label]) => (label as string).length));
  const full = a.arguments_full === undefined && a.arguments !== '(none)' ? `(this gateway sends no full arguments; summary: ${a.arguments})` : printableJson(a.arguments_full ?? {}, 2);
  const note = a.arguments_truncated ? ' (long strings cut to fit 4 MiB)' : '';
  return `${rows.map(([label, value]) => `${(label as string).padEnd(width)}  ${printable(value as string)}`).join('\n')}\narguments, secrets redacted${note}:\n${full}\n`;
}

/** `mcpgate approve ID [--session|--always]` */
export async function approveCommand(options: ApprovalsOptions & { id: string | undefined; session: boolean; always: boolean }): Promise<number> {
  const id = requireId(options.id, 'approve');
  if (options.session && options.always) throw new UsageError('choose one of --session or --always');
  const scope = options.always ? 'always' : options.session ? 'session' : 'once';
  const config = await loadConfig(options.configDir);
  await answerApproval(await findGateways(config.approval.adminDir), id, { decision: 'allow', scope });
  options.out.write(`approved ${id} (${scope})\n`);
  return 0;
}

/** `mcpgate deny ID [--reason TEXT]` */
export async function denyCommand(options: ApprovalsOptions & { id: string | undefined; reason: string | undefined }): Promise<number> {
  const id = requireId(options.id, 'deny');
  const config = await loadConfig(options.configDir);
  await answerApproval(await findGateways(config.approval.adminDir), id, { decision: 'deny', ...(options.reason ? { reason: options.reason } : {}) });
  options.out.write(`denied ${id}\n`);
  return 0;
}

function requireId(id: string | undefined, command: string): string {
  if (!id) throw new UsageError(`mcpgate ${command} needs the ID of a pending approval (see mcpgate approvals)`);
  return id;
}

function table(approvals: readonly GatewayApproval[]): string {
  const rows = [
    ['ID', 'AGE', 'SESSION', 'CLIENT', 'SERVER', 'TOOL', 'ARGUMENTS'],
    // every cell may hold text a client or an upstream chose: no control characters reach the terminal
    ...approvals.map((a) =>
      (a.kind === 'network'
        ? // a network ask: the connection the server opens, and the tool call in flight that opened it
          [a.id, age(a.age_ms), a.session.slice(0, 8) || '-', a.client || '-', a.server, '(network)', `connect to ${a.destination ?? '?'}${a.public_name ? ` during ${a.public_name}` : ''}`]
        : [a.id, age(a.age_ms), a.session.slice(0, 8), a.client || '-', a.server, a.tool, a.arguments]
      ).map(printable),
    ),
  ];
  const widths = rows[0]!.slice(0, -1).map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('  ')).join('\n') + '\n';
}

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** How often `--watch` looks at the queue. */
const WATCH_EVERY_MS = 1000;

/**
 * `mcpgate approvals --watch`: prints each call as it joins the queue (with the commands that
 * answer it) and as it leaves, until Ctrl-C (or `stop`). Gateways may come and go meanwhile.
 */
async function watchQueue(options: ApprovalsOptions & { json: boolean }, adminDir: string, stop?: AbortSignal): Promise<number> {
  const ended = stop ?? interrupted();
  const seen = new Map<string, GatewayApproval>();
  const key = (a: GatewayApproval) => `${a.gateway_pid}:${a.id}`;
  let waitingSaid = false;
  if (!options.json) options.out.write(`watching the approval queue of ${options.configDir} (Ctrl-C to stop)\n`);
  while (!ended.aborted) {
    let current: GatewayApproval[] = [];
    try {
      current = (await listApprovals(await findGateways(adminDir))).approvals; // oldest first
      waitingSaid = false;
    } catch (error) {
      // No gateway (yet, or any more): keep watching; say so once.
      if (!waitingSaid && !options.json) options.err?.write(`mcpgate: ${messageOf(error)}; still watching\n`);
      waitingSaid = true;
    }
    const now = new Set(current.map(key));
    for (const [k, gone] of seen) {
      if (now.has(k)) continue;
      seen.delete(k);
      options.out.write(options.json ? `${JSON.stringify({ change: 'removed', id: gone.id, gateway_pid: gone.gateway_pid, public_name: gone.public_name })}\n` : `- ${gone.id}  ${printable(gone.public_name)}  no longer pending (answered, timed out or cancelled)\n`);
    }
    for (const added of current) {
      if (seen.has(key(added))) continue;
      seen.set(key(added), added);
      if (options.json) {
        options.out.write(`${JSON.stringify({ change: 'added', ...added })}\n`);
        continue;
      }
      const { approve, deny } = answerCommands(added.id, options.configDir);
      const client = added.client ? `client ${printable(added.client)}  ` : '';
      options.out.write(`+ ${added.id}  ${printable(added.public_name)}  ${client}session ${added.session.slice(0, 8)}  ${printable(added.arguments)}\n    ${approve}   |   ${deny}\n`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WATCH_EVERY_MS);
      ended.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return 0;
}

/** A signal that aborts on Ctrl-C (SIGINT) or SIGTERM: --watch ends cleanly, exit 0. */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
