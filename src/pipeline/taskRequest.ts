/**
 * The tasks extension (SEP-2663) passed through for 2026-07-28 callers:
 *
 *   - a `tools/call` whose upstream answers `resultType: "task"` reaches the caller with the task
 *     id replaced by a sealed one ({@link taskResult}; src/protocol/taskId.ts: upstream, its task
 *     id, the caller key), only for a caller that declared the extension (fail closed otherwise);
 *   - `tasks/get`, `tasks/update`, `tasks/cancel` ({@link TASK_REQUEST}) open that id — another
 *     caller's id, a forged or altered one is unknown (-32602) — and go to the owning upstream with
 *     its own id; the answer comes back with the caller's id, input requests checked as for a
 *     round (src/pipeline/upstreamRounds.ts), secrets redacted.
 *
 * Policy: the call was decided (and approved) when it created the task; these requests act on the
 * caller's own task and are not decided again. Audit: one `mcpgate.request` record each.
 */
import type { JSONRPCRequest, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import { ErrorCodes, toWireError, wireError, type WireError } from '../errors.js';
import type { Caller } from '../caller/caller.js';
import { declaresTasks, type TaskIdCodec, type TaskRoute } from '../protocol/taskId.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { EventSink, RequestOutcome } from '../telemetry/events.js';
import { modernLeg } from '../upstream/modern.js';
import type { Upstream } from '../upstream/upstream.js';
import { runPipeline, type Pipeline, type StageResult } from './stages.js';
import { checkedForCaller } from './upstreamRounds.js';
import { inputRequestsOf, malformed } from '../upstream/inputRounds.js';

/** The task methods a caller may send (`tasks/result` and `tasks/list` were removed in 2026-07-28). */
export type TaskMethod = 'tasks/get' | 'tasks/update' | 'tasks/cancel';

/** What the task pipeline needs from the gateway. */
export interface TaskDeps {
  readonly catalog: Catalog;
  readonly events: EventSink;
  readonly redactor: Redactor;
  nextCallId(): string;
  /** Seals and opens the task ids callers see (absent: task results are refused, fail closed). */
  readonly taskIds?: TaskIdCodec;
}

/**
 * A `tools/call` result of `server` that created a task: the caller's view of it (its sealed id).
 * Refused when the caller did not declare the extension (the upstream was told it did not).
 */
export async function taskResult(deps: TaskDeps, result: Result, server: string, caller: Caller): Promise<Result> {
  const taskId = (result as { taskId?: unknown }).taskId;
  if (!declaresTasks(caller.capabilities)) throw malformed(server, 'a task, for a caller that did not declare the tasks extension');
  if (typeof taskId !== 'string' || taskId.length === 0 || taskId.length > 1024) throw malformed(server, 'a task without a usable taskId');
  if (!deps.taskIds) throw malformed(server, 'a task, and this gateway cannot route tasks');
  return { ...result, taskId: await deps.taskIds.seal({ server, taskId }, caller.identity.key) };
}

/** One tasks/* request on its way through the stages. */
class TaskCall {
  readonly id: string;
  readonly params: Record<string, unknown>;
  readonly started = performance.now();
  /** resolve: the task's upstream and its own id. */
  route: TaskRoute | undefined = undefined;
  upstream: Upstream | undefined = undefined;
  outcome: RequestOutcome = 'protocol_error';
  error: string | undefined = undefined;

  constructor(
    readonly deps: TaskDeps,
    readonly caller: Caller,
    readonly method: TaskMethod,
    request: JSONRPCRequest,
  ) {
    this.id = deps.nextCallId();
    this.params = (request.params ?? {}) as Record<string, unknown>;
  }

  failed(caught: unknown): WireError {
    this.outcome = this.caller.signal.aborted ? 'cancelled' : 'protocol_error';
    const wire = scrubWireError(this.deps.redactor, toWireError(caught));
    this.error = wire.message;
    return wire;
  }
}

/** The stages of a tasks/* request; `record` runs in `finally`. */
export const TASK_REQUEST: Pipeline<TaskCall> = { stages: [resolveTask, forwardTask], record: recordTask };

/** Answers one tasks/get|update|cancel; always leaves its one audit record. */
export function taskRequest(deps: TaskDeps, caller: Caller, method: TaskMethod, request: JSONRPCRequest): Promise<Result> {
  return runPipeline(TASK_REQUEST, new TaskCall(deps, caller, method, request));
}

/** resolve: the caller's own task, and the upstream holding it. */
async function resolveTask(call: TaskCall): Promise<StageResult> {
  const route = await call.deps.taskIds?.open(call.params.taskId, call.caller.identity.key);
  if (!route) throw call.failed(wireError(ErrorCodes.INVALID_PARAMS, `Unknown taskId: not a task of this caller`));
  call.route = route;
  call.upstream = call.deps.catalog.upstreamNamed(route.server);
  if (!call.upstream) throw call.failed(wireError(ErrorCodes.INVALID_PARAMS, `Unknown taskId: the server that held it is no longer configured`));
  return undefined;
}

/** forward: to the owning upstream under its own id; back with the caller's. */
async function forwardTask(call: TaskCall): Promise<StageResult> {
  const { deps, caller } = call;
  const route = call.route as TaskRoute;
  const upstream = call.upstream as Upstream;
  try {
    const raw = await upstream.request(call.method, { ...call.params, taskId: route.taskId }, { owner: { caller }, signal: caller.signal });
    const result = deps.redactor.scrubJson(raw) as Result & { taskId?: unknown; inputRequests?: unknown };
    const inputRequests = result.inputRequests === undefined ? undefined : checkedForCaller(inputRequestsOf(result, route.server), route.server, caller);
    call.outcome = 'ok';
    return { ...result, ...(result.taskId === undefined ? {} : { taskId: call.params.taskId }), ...(inputRequests ? { inputRequests } : {}) };
  } catch (caught) {
    throw call.failed(caught);
  }
}

/** record: the request's one `mcpgate.request` record (target: the upstream's own task id). */
function recordTask(call: TaskCall): void {
  call.deps.events.emit({
    event: 'mcpgate.request',
    session: call.caller.identity.key,
    request: call.id,
    method: call.method,
    server: call.route?.server ?? '',
    target: call.route?.taskId ?? '',
    decision: call.route ? 'allow' : 'deny',
    decided_by: 'default',
    reason: call.route ? 'the task was decided when the tools/call created it' : 'unknown taskId',
    outcome: call.outcome,
    duration_ms: Math.round((performance.now() - call.started) * 1000) / 1000,
    error: call.error,
    subject: call.caller.identity.authenticated?.subject,
    protocol_version: call.caller.protocolVersion,
    upstream_protocol_version: modernLeg(call.upstream?.protocolVersion),
  });
}
