/**
 * The stages of a `tools/call`, in the one order they run:
 *
 *   1. catalog  — public name → (upstream, tool, precompiled policy)
 *   2. policy   — the same check that filtered tools/list, now with the arguments; then the
 *                 arguments against the tool's inputSchema (a call the policy would run or ask about)
 *   3. approval — only for `ask` (src/approval): remembered answer, auto-review, a human; fail closed
 *   4. record   — one `mcpgate.tool.decision` record for every call, written once its approval resolved
 *   5. upstream — forward with progress, cancellation, timeout; routed requests come back via hooks
 *   6. record   — one `mcpgate.tool.result` record for every forwarded call, in `finally`
 */
import { ErrorCode, McpError, type CallToolResult, type JSONRPCRequest, type ProgressToken, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, ToolEntry } from '../catalog/catalog.js';
import { ErrorCodes, GatewayError, toWireError, WireError } from '../errors.js';
import { recordArguments, type ArgumentsMode } from '../audit/redact.js';
import { askReason, type ApprovalAnswer } from '../approval/answer.js';
import type { AskContext } from '../approval/broker.js';
import type { Caller } from '../caller/caller.js';
import { decideCall, type CallerPolicy } from '../policy/policy.js';
import type { RequestTrace } from '../telemetry/trace.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { CallOutcome, EventSink } from '../telemetry/events.js';
import type { CancelSignal } from '../caller/cancelSignal.js';

/** What the tool-call pipeline needs from the gateway. */
export interface ToolCallDeps {
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

/** Runs one `tools/call` through every stage; always leaves its audit records. */
export async function callTool(deps: ToolCallDeps, caller: Caller, request: JSONRPCRequest, trace: RequestTrace | undefined): Promise<Result> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const name = params.name;
  const args = params.arguments;
  if (typeof name !== 'string') throw new WireError(ErrorCode.InvalidParams, 'tools/call needs params.name (a string)');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw new WireError(ErrorCode.InvalidParams, 'tools/call params.arguments must be an object');
  }
  const call = deps.nextCallId();
  const session = caller.identity.key;
  const subject = caller.identity.authenticated?.subject;

  // 1. catalog (a miss in the first seconds may be an upstream still starting: wait, bounded)
  let entry = deps.catalog.tool(name);
  if (!entry) {
    await deps.ready();
    entry = deps.catalog.tool(name);
  }
  if (!entry) {
    deps.events.emit({
      event: 'mcpgate.tool.decision',
      session,
      call,
      server: '',
      tool: name,
      public_name: name,
      decision: 'deny',
      decided_by: 'default',
      reason: `unknown tool "${name}"`,
      approval_wait_ms: 0,
      subject,
    });
    throw new WireError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }

  // 2. policy: the tool's layers, the caller's `clients:` layer (if any applies), the inputSchema
  const policySpan = trace?.start('policy');
  const verdict = decideCall(entry, deps.callerPolicy(caller), args as Record<string, unknown> | undefined);
  policySpan?.end({ 'mcpgate.decision': verdict.decision, 'mcpgate.decided_by': verdict.decidedBy });

  // 3. approval: only an `ask` waits here (an allow pays one branch); no approval channel = deny
  let answer: ApprovalAnswer | undefined;
  if (verdict.decision === 'ask' && deps.approvals) {
    const approvalSpan = trace?.start('approval');
    const progressToken = (params._meta as { progressToken?: ProgressToken } | undefined)?.progressToken;
    answer = await deps.approvals.decide({ caller, asked: { kind: 'tool', entry, args: args as Record<string, unknown> | undefined }, verdict, signal: caller.signal, progressToken });
    approvalSpan?.end({ 'mcpgate.decision': answer.decision, 'mcpgate.decided_by': answer.decidedBy, 'mcpgate.approval.wait_ms': answer.waitMs, ...(answer.scope ? { 'mcpgate.approval.scope': answer.scope } : {}) });
  }
  const allowed = answer ? answer.decision === 'allow' : verdict.decision === 'allow';
  const reason = answer ? answer.reason : verdict.decision === 'ask' ? askReason(verdict.reason) : verdict.reason;

  // 4. record the decision (one fixed shape: absent fields are undefined, which JSON leaves out)
  const recorded = recordArguments(args ?? {}, deps.argumentsMode, { maxBytes: deps.maxArgumentBytes, redactor: deps.redactor });
  deps.events.emit({
    event: 'mcpgate.tool.decision',
    session,
    call,
    server: entry.upstream.name,
    tool: entry.name,
    public_name: entry.publicName,
    decision: answer ? answer.decision : verdict.decision,
    decided_by: answer ? answer.decidedBy : verdict.decidedBy,
    rule: answer?.rule ?? (verdict.rule ? ruleText(verdict.rule) : undefined),
    reason,
    scope: answer?.scope,
    approval_wait_ms: answer ? answer.waitMs : 0,
    approval_channel: answer?.via,
    arguments: recorded.arguments,
    arguments_sha256: recorded.arguments_sha256,
    arguments_truncated: recorded.arguments_truncated,
    arguments_cut: recorded.arguments_cut,
    subject,
    unconfined: entry.upstream.unconfined || undefined,
  });
  if (answer?.cancelled) throw new WireError(ErrorCode.RequestTimeout, `mcpgate: ${entry.publicName} was not run: ${reason}`);
  if (!allowed) return deniedResult(entry, answer ? 'answered' : (verdict.decision as 'ask' | 'deny'), reason);
  // Write-ahead audit (fsync: always): a call whose decision is not on disk does not run (fail closed).
  if (deps.auditWriteFailed?.()) {
    throw new WireError(ErrorCode.InternalError, `mcpgate: ${entry.publicName} was not run: the audit log could not record it (audit.fsync: always)`, { code: ErrorCodes.AUDIT_UNAVAILABLE });
  }

  // 5. upstream, 6. result record
  return forward(deps, caller, entry, params, trace, call);
}

async function forward(
  deps: ToolCallDeps,
  caller: Caller,
  entry: ToolEntry,
  params: Record<string, unknown>,
  trace: RequestTrace | undefined,
  call: string,
): Promise<Result> {
  const started = performance.now();
  let outcome: CallOutcome = 'protocol_error';
  let size = 0;
  let error: string | undefined;
  const progressToken = (params._meta as { progressToken?: ProgressToken } | undefined)?.progressToken;
  const sent = { ...params, name: entry.name };
  const span = trace?.upstream(entry.upstream.name, 'tools/call', sent);
  let wire: McpError | undefined;
  try {
    const raw = await entry.upstream.request(
      'tools/call',
      sent,
      {
        owner: { caller, call, tool: entry.publicName },
        signal: caller.signal,
        ...(progressToken === undefined
          ? {}
          : {
              onprogress: (progress) =>
                caller.notify({ method: 'notifications/progress', params: { ...deps.redactor.scrubJson(progress), progressToken } }),
            }),
      },
    );
    // Any upstream may echo a resolved secret back (its own or one it read): redact before the agent sees it.
    const result = deps.redactor.scrubJson(raw);
    const toolResult = result as CallToolResult;
    outcome = toolResult.isError === true ? 'tool_error' : 'ok';
    size = resultSize(toolResult);
    await caller.drain();
    return result;
  } catch (caught) {
    outcome = classify(caught, caller.signal);
    const mcpError = scrubWireError(deps.redactor, toWireError(caught));
    error = mcpError.message;
    wire = mcpError;
    throw mcpError;
  } finally {
    span?.end(outcome, size, wire && { code: wire.code, message: error });
    deps.events.emit({
      event: 'mcpgate.tool.result',
      session: caller.identity.key,
      call,
      server: entry.upstream.name,
      tool: entry.name,
      public_name: entry.publicName,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      outcome,
      result_size: size,
      error,
      subject: caller.identity.authenticated?.subject,
    });
  }
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
