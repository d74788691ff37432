/**
 * The stages of a `tools/call`, declared once ({@link TOOL_CALL}) and run by src/pipeline/stages.ts:
 *
 *   1. resolve   — params checked (`name` a string, `arguments` an object), public name →
 *                  (upstream, tool, precompiled policy); a refusal here is a recorded deny
 *   2. authorize — the policy engine: the tool's layers, the caller's `clients:` layer, then the
 *                  arguments against the tool's inputSchema (the same check that filtered tools/list)
 *   3. approve   — only for `ask` (src/approval): remembered answer, auto-review, a human; fail closed
 *   4. forward   — writes the decision record first (write-ahead), then forwards with progress,
 *                  cancellation and timeout; routed requests come back via hooks
 *   5. record    — in `finally`: the `mcpgate.tool.decision` record of every call that has not
 *                  written it yet (every early exit), and the `mcpgate.tool.result` record of every
 *                  forwarded call — each exactly once
 */
import { ErrorCode, McpError, type CallToolResult, type JSONRPCRequest, type ProgressToken, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, ToolEntry } from '../catalog/catalog.js';
import { ErrorCodes, GatewayError, toWireError, wireError, type ErrorCodeName, type WireError } from '../errors.js';
import type { Verdict } from '../policy/verdict.js';
import { recordArguments, type ArgumentsMode } from '../audit/redact.js';
import { askReason, type ApprovalAnswer } from '../approval/answer.js';
import type { AskContext } from '../approval/broker.js';
import { InputRequired, type Caller } from '../caller/caller.js';
import { runPipeline, type Pipeline, type StageResult } from './stages.js';
import { taskResult, type TaskDeps } from './taskRequest.js';
import { carriedApproval, paramsForUpstream, priorAnswer, upstreamInputRequired } from './upstreamRounds.js';
import { isInputRequired } from '../upstream/inputRounds.js';
import { decideCall, type CallerPolicy } from '../policy/policy.js';
import type { RequestTrace } from '../telemetry/trace.js';
import { modernLeg } from '../upstream/modern.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { CallOutcome, EventSink } from '../telemetry/events.js';
import type { CancelSignal } from '../caller/cancelSignal.js';

/** What the tool-call pipeline needs from the gateway (the task parts: a call may create a task). */
export interface ToolCallDeps extends TaskDeps {
  readonly catalog: Catalog;
  readonly events: EventSink;
  readonly redactor: Redactor;
  readonly argumentsMode: ArgumentsMode;
  readonly maxArgumentBytes: number;
  nextCallId(): string;
  /** Resolves once the first start of every upstream has settled (bounded). */
  ready(): Promise<void>;
  /** `audit.fsync: always`: true when the decision record just emitted did not reach the disk (absent otherwise). */
  readonly auditWriteFailed?: () => boolean;
  /** Answers `ask` verdicts (absent: an ask is a deny). */
  readonly approvals?: { decide(ctx: AskContext): Promise<ApprovalAnswer> };
  /** The `clients:` layer of the policy for a caller; undefined when no `clients` entry matches it (the common case). */
  callerPolicy(caller: Caller): CallerPolicy | undefined;
}

/** One `tools/call` on its way through the stages; each field is filled by the stage named beside it. */
class ToolCall {
  /** Gateway-unique id of the call (the records' `call`). */
  readonly id: string;
  readonly params: Record<string, unknown>;
  /** resolve: why the call was refused before a verdict (bad params, unknown tool). */
  refused: string | undefined = undefined;
  /** resolve: the tool. */
  entry: ToolEntry | undefined = undefined;
  /** authorize: the policy's verdict. */
  verdict: Verdict | undefined = undefined;
  /** approve: the answer to an `ask`. */
  answer: ApprovalAnswer | undefined = undefined;
  /** approve: a stateless caller must answer first (InputRequired): nothing is decided, nothing recorded. */
  awaitingInput = false;
  /** The decision record was written (forward writes it ahead of the call). */
  decided = false;
  /** forward: the request went upstream (a result record is due). */
  forwarded = false;
  started = 0;
  outcome: CallOutcome = 'protocol_error';
  size = 0;
  error: string | undefined = undefined;

  constructor(
    readonly deps: ToolCallDeps,
    readonly caller: Caller,
    request: JSONRPCRequest,
    readonly trace: RequestTrace | undefined,
  ) {
    this.id = deps.nextCallId();
    this.params = (request.params ?? {}) as Record<string, unknown>;
  }

  get args(): Record<string, unknown> | undefined {
    return this.params.arguments as Record<string, unknown> | undefined;
  }

  /** Notes why the call is refused before a verdict; returns the client's error. */
  refuse(reason: string, message: string, code: ErrorCodeName = ErrorCodes.INVALID_PARAMS): WireError {
    this.refused = reason;
    return wireError(code, message);
  }
}

/** The stages of a `tools/call`; `record` runs in the runner's `finally`. */
export const TOOL_CALL: Pipeline<ToolCall> = { stages: [resolve, authorize, approve, forward], record };

/** Runs one `tools/call` through every stage; always leaves its audit records. */
export function callTool(deps: ToolCallDeps, caller: Caller, request: JSONRPCRequest, trace: RequestTrace | undefined): Promise<Result> {
  return runPipeline(TOOL_CALL, new ToolCall(deps, caller, request, trace));
}

/** resolve: valid params, and the tool they name (a miss in the first seconds may be an upstream still starting: wait, bounded). */
function resolve(call: ToolCall): StageResult | Promise<StageResult> {
  const { name, arguments: args } = call.params;
  if (typeof name !== 'string') throw call.refuse('invalid request: params.name is missing or not a string', 'tools/call needs params.name (a string)');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw call.refuse('invalid request: params.arguments is not an object', 'tools/call params.arguments must be an object');
  }
  call.entry = call.deps.catalog.tool(name);
  if (call.entry) return undefined;
  return call.deps.ready().then(() => {
    call.entry = call.deps.catalog.tool(name);
    if (!call.entry) throw call.refuse(`unknown tool "${name}"`, `Unknown tool: ${name}`, ErrorCodes.UNKNOWN_TOOL);
    return undefined;
  });
}

/** authorize: the one policy engine (src/policy/policy.ts) over every layer. */
function authorize(call: ToolCall): StageResult {
  const span = call.trace?.start('policy');
  const verdict = decideCall(call.entry as ToolEntry, call.deps.callerPolicy(call.caller), call.args);
  call.verdict = verdict;
  span?.end({ 'mcpgate.decision': verdict.decision, 'mcpgate.decided_by': verdict.decidedBy });
  return undefined;
}

/** approve: only an `ask` waits here (an allow pays one branch and no promise); no approval channel = deny. */
function approve(call: ToolCall): StageResult | Promise<StageResult> {
  const verdict = call.verdict as Verdict;
  const entry = call.entry as ToolEntry;
  if (verdict.decision === 'ask' && call.caller.priorApproval) {
    // A later round of a call approved in an earlier one (its state is bound to this tool, these arguments, this policy).
    call.answer = priorAnswer(call.caller.priorApproval);
    return undefined;
  }
  if (verdict.decision === 'ask' && call.deps.approvals) return askApprovals(call, verdict, entry, call.deps.approvals);
  if (verdict.decision === 'allow') return undefined;
  return deniedResult(entry, verdict.decision, verdict.decision === 'ask' ? askReason(verdict.reason) : verdict.reason);
}

/** approve, for an `ask` with an approval channel: waits for the answer. */
async function askApprovals(call: ToolCall, verdict: Verdict, entry: ToolEntry, approvals: NonNullable<ToolCallDeps['approvals']>): Promise<StageResult> {
  const span = call.trace?.start('approval');
  const progressToken = (call.params._meta as { progressToken?: ProgressToken } | undefined)?.progressToken;
  const answer = await approvals.decide({ caller: call.caller, asked: { kind: 'tool', entry, args: call.args }, verdict, signal: call.caller.signal, progressToken }).catch((error: unknown) => {
    // This round ends with input_required; the retry that carries the answer decides (and records) the call.
    if (error instanceof InputRequired) call.awaitingInput = true;
    span?.end({ 'mcpgate.decision': 'ask' });
    throw error;
  });
  call.answer = answer;
  span?.end({ 'mcpgate.decision': answer.decision, 'mcpgate.decided_by': answer.decidedBy, 'mcpgate.approval.wait_ms': answer.waitMs, ...(answer.scope ? { 'mcpgate.approval.scope': answer.scope } : {}) });
  if (answer.cancelled) throw wireError(ErrorCodes.CALL_CANCELLED, `mcpgate: ${entry.publicName} was not run: ${answer.reason}`);
  if (answer.decision !== 'allow') return deniedResult(entry, 'answered', answer.reason);
  return undefined;
}

/** forward: the decision record first (write-ahead), then the upstream. */
async function forward(call: ToolCall): Promise<StageResult> {
  const { deps, caller } = call;
  const entry = call.entry as ToolEntry;
  recordDecision(call);
  // Write-ahead audit (fsync: always): a call whose decision is not on disk does not run (fail closed).
  if (deps.auditWriteFailed?.()) {
    throw wireError(ErrorCodes.AUDIT_UNAVAILABLE, `mcpgate: ${entry.publicName} was not run: the audit log could not record it (audit.fsync: always)`);
  }
  const progressToken = (call.params._meta as { progressToken?: ProgressToken } | undefined)?.progressToken;
  const sent = paramsForUpstream({ ...call.params, name: entry.name }, caller, entry.upstream.name);
  const span = call.trace?.upstream(entry.upstream.name, 'tools/call', sent, entry.upstream.protocolVersion);
  let wire: McpError | undefined;
  call.forwarded = true;
  call.started = performance.now();
  try {
    const raw = await entry.upstream.request('tools/call', sent, {
      owner: { caller, call: call.id, tool: entry.publicName },
      signal: caller.signal,
      ...(caller.generation === 'modern' ? { inputRequired: 'return' as const } : {}),
      ...(progressToken === undefined
        ? {}
        : { onprogress: (progress) => caller.notify({ method: 'notifications/progress', params: { ...deps.redactor.scrubJson(progress), progressToken } }) }),
    });
    // Any upstream may echo a resolved secret back (its own or one it read): redact before the agent sees it.
    const result = deps.redactor.scrubJson(raw);
    if (isInputRequired(result)) {
      call.outcome = 'input_required';
      throw upstreamInputRequired(result, entry.upstream.name, caller, carriedApproval(call.answer));
    }
    if ((result as { resultType?: unknown }).resultType === 'task') {
      const created = await taskResult(deps, result, entry.upstream.name, caller);
      call.outcome = 'task';
      return created;
    }
    const toolResult = result as CallToolResult;
    call.outcome = toolResult.isError === true ? 'tool_error' : 'ok';
    call.size = resultSize(toolResult);
    await caller.drain();
    return result;
  } catch (caught) {
    if (caught instanceof InputRequired) throw caught; // the upstream's round, passed on to the caller
    call.outcome = classify(caught, caller.signal);
    wire = scrubWireError(deps.redactor, toWireError(caught));
    call.error = wire.message;
    throw wire;
  } finally {
    span?.end(call.outcome, call.size, wire && { code: wire.code, message: call.error });
  }
}

/** record: the decision record if no stage wrote it yet, and the result record of a forwarded call. */
function record(call: ToolCall): void {
  if (call.awaitingInput) return;
  if (!call.decided) recordDecision(call);
  if (!call.forwarded) return;
  const entry = call.entry as ToolEntry;
  call.deps.events.emit({
    event: 'mcpgate.tool.result',
    session: call.caller.identity.key,
    call: call.id,
    server: entry.upstream.name,
    tool: entry.name,
    public_name: entry.publicName,
    duration_ms: Math.round((performance.now() - call.started) * 1000) / 1000,
    outcome: call.outcome,
    result_size: call.size,
    error: call.error,
    subject: call.caller.identity.authenticated?.subject,
    protocol_version: call.caller.protocolVersion,
    upstream_protocol_version: modernLeg(entry.upstream.protocolVersion),
  });
}

/** The call's one `mcpgate.tool.decision` record (one fixed shape: absent fields are undefined, which JSON leaves out). */
function recordDecision(call: ToolCall): void {
  call.decided = true;
  const { deps, entry, verdict, answer } = call;
  const session = call.caller.identity.key;
  const subject = call.caller.identity.authenticated?.subject;
  if (!entry || !verdict) {
    // Refused before a verdict (bad params, unknown tool), or failed on the way (fail closed): a deny.
    const name = typeof call.params.name === 'string' ? call.params.name : '';
    const reason = call.refused ?? 'denied: the call failed before a decision (fail closed)';
    deps.events.emit({
      event: 'mcpgate.tool.decision',
      session,
      call: call.id,
      server: entry?.upstream.name ?? '',
      tool: entry?.name ?? name,
      public_name: entry?.publicName ?? name,
      decision: 'deny',
      decided_by: 'default',
      reason,
      approval_wait_ms: 0,
      subject,
      protocol_version: call.caller.protocolVersion,
    });
    return;
  }
  const recorded = recordArguments(call.args ?? {}, deps.argumentsMode, { maxBytes: deps.maxArgumentBytes, redactor: deps.redactor });
  deps.events.emit({
    event: 'mcpgate.tool.decision',
    session,
    call: call.id,
    server: entry.upstream.name,
    tool: entry.name,
    public_name: entry.publicName,
    decision: answer ? answer.decision : verdict.decision,
    decided_by: answer ? answer.decidedBy : verdict.decidedBy,
    rule: answer?.rule ?? (verdict.rule ? ruleText(verdict.rule) : undefined),
    reason: answer ? answer.reason : verdict.decision === 'ask' ? askReason(verdict.reason) : verdict.reason,
    scope: answer?.scope,
    approval_wait_ms: answer ? answer.waitMs : 0,
    approval_channel: answer?.via,
    arguments: recorded.arguments,
    arguments_sha256: recorded.arguments_sha256,
    arguments_truncated: recorded.arguments_truncated,
    arguments_cut: recorded.arguments_cut,
    subject,
    unconfined: entry.upstream.unconfined || undefined,
    protocol_version: call.caller.protocolVersion,
  });
}

const ruleTexts = new WeakMap<object, string>();

/** `file field (rule)`, built once per rule: verdicts and their rules are shared and immutable. */
function ruleText(rule: { source: string; where: string; text: string }): string {
  let text = ruleTexts.get(rule);
  if (text === undefined) {
    text = `${rule.source} ${rule.where} (${rule.text})`;
    ruleTexts.set(rule, text);
  }
  return text;
}

function deniedResult(entry: ToolEntry, decision: 'ask' | 'deny' | 'answered', reason: string): CallToolResult {
  const text =
    decision === 'ask'
      ? `mcpgate: ${entry.publicName} was not run: ${reason}. No approval channel is available, so the request is denied.`
      : decision === 'answered'
        ? `mcpgate: ${entry.publicName} was not run: ${reason}`
        : `mcpgate: ${entry.publicName} was denied: ${reason}`;
  return { content: [{ type: 'text', text }], isError: true };
}

function classify(error: unknown, signal: CancelSignal): CallOutcome {
  if (signal.aborted) return 'cancelled';
  if (error instanceof GatewayError && error.code === ErrorCodes.UPSTREAM_TIMEOUT) return 'timeout';
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return 'timeout';
  return 'protocol_error';
}

/** Characters of content a result carries (text, base64 data, embedded resource bodies). */
export function resultSize(result: CallToolResult): number {
  let size = 0;
  const content = Array.isArray(result.content) ? result.content : [];
  for (const item of content as Array<Record<string, unknown>>) {
    if (typeof item.text === 'string') size += item.text.length;
    if (typeof item.data === 'string') size += item.data.length;
    const resource = item.resource as Record<string, unknown> | undefined;
    if (resource) {
      if (typeof resource.text === 'string') size += resource.text.length;
      if (typeof resource.blob === 'string') size += resource.blob.length;
    }
  }
  return size;
}
