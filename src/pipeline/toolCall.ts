/**
 * The stages of a `tools/call`, in the one order they run:
 *
 *   1. catalog  — public name → (upstream, tool, precompiled policy)
 *   2. policy   — the same check that filtered tools/list, now with the arguments
 *   3. approval — `ask` cannot be answered yet (approvals arrive with a later issue): fail closed
 *   4. record   — one `mcpgate.tool.decision` record for every call, allowed or not
 *   5. upstream — forward with progress, cancellation, timeout; routed requests come back via hooks
 *   6. record   — one `mcpgate.tool.result` record for every forwarded call, in `finally`
 */
import { ErrorCode, McpError, type CallToolResult, type JSONRPCRequest, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, ToolEntry } from '../catalog/catalog.js';
import { ErrorCodes, GatewayError, toWireError, WireError } from '../errors.js';
import { recordArguments, type ArgumentsMode } from '../audit/redact.js';
import type { ClientSession, RequestExtra } from '../downstream/session.js';
import type { Redactor } from '../secrets/redactor.js';
import type { CallOutcome, EventSink } from '../telemetry/events.js';
import type { CancelSignal } from '../upstream/cancelSignal.js';

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
}

/** Runs one `tools/call` through every stage; always leaves its audit records. */
export async function callTool(deps: ToolCallDeps, session: ClientSession, request: JSONRPCRequest, extra: RequestExtra): Promise<Result> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const name = params.name;
  const args = params.arguments;
  if (typeof name !== 'string') throw new WireError(ErrorCode.InvalidParams, 'tools/call needs params.name (a string)');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw new WireError(ErrorCode.InvalidParams, 'tools/call params.arguments must be an object');
  }
  session.calls++;
  const call = deps.nextCallId();

  // 1. catalog (a miss in the first seconds may be an upstream still starting: wait, bounded)
  let entry = deps.catalog.tool(name);
  if (!entry) {
    await deps.ready();
    entry = deps.catalog.tool(name);
  }
  if (!entry) {
    deps.events.emit({
      event: 'mcpgate.tool.decision',
      session: session.id,
      call,
      server: '',
      tool: name,
      public_name: name,
      decision: 'deny',
      decided_by: 'default',
      reason: `unknown tool "${name}"`,
      approval_wait_ms: 0,
    });
    throw new WireError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }

  // 2. policy
  const policySpan = extra.trace?.start('policy');
  const verdict = entry.policy.decide(args as Record<string, unknown> | undefined);
  policySpan?.end({ 'mcpgate.decision': verdict.decision, 'mcpgate.decided_by': verdict.decidedBy });

  // 3. approval: nothing can answer an `ask` yet, so it is a deny (fail closed)
  const approvalSpan = verdict.decision === 'ask' ? extra.trace?.start('approval') : undefined;
  const allowed = verdict.decision === 'allow';
  const reason = verdict.decision === 'ask' ? askReason(verdict.reason) : verdict.reason;
  approvalSpan?.end({ 'mcpgate.decision': allowed ? 'allow' : 'deny' });

  // 4. record the decision (one fixed shape: absent fields are undefined, which JSON leaves out)
  const recorded = recordArguments(args ?? {}, deps.argumentsMode, { maxBytes: deps.maxArgumentBytes, redactor: deps.redactor });
  deps.events.emit({
    event: 'mcpgate.tool.decision',
    session: session.id,
    call,
    server: entry.upstream.name,
    tool: entry.name,
    public_name: entry.publicName,
    decision: verdict.decision,
    decided_by: verdict.decidedBy,
    rule: verdict.rule ? ruleText(verdict.rule) : undefined,
    reason,
    approval_wait_ms: 0,
    arguments: recorded.arguments,
    arguments_sha256: recorded.arguments_sha256,
    arguments_truncated: recorded.arguments_truncated,
  });
  if (!allowed) return deniedResult(entry, verdict.decision, reason);

  // 5. upstream, 6. result record
  return forward(deps, session, entry, params, extra, call);
}

async function forward(
  deps: ToolCallDeps,
  session: ClientSession,
  entry: ToolEntry,
  params: Record<string, unknown>,
  extra: RequestExtra,
  call: string,
): Promise<Result> {
  const started = performance.now();
  let outcome: CallOutcome = 'protocol_error';
  let size = 0;
  let error: string | undefined;
  const progressToken = extra._meta?.progressToken;
  const sent = { ...params, name: entry.name };
  const span = extra.trace?.upstream(entry.upstream.name, 'tools/call', sent);
  let wire: McpError | undefined;
  try {
    const result = await entry.upstream.request(
      'tools/call',
      sent,
      {
        owner: { session: session.id, requestId: extra.requestId },
        signal: extra.signal,
        ...(progressToken === undefined
          ? {}
          : {
              onprogress: (progress) =>
                session.notify({ method: 'notifications/progress', params: { ...progress, progressToken } }, extra.requestId),
            }),
      },
    );
    const toolResult = result as CallToolResult;
    outcome = toolResult.isError === true ? 'tool_error' : 'ok';
    size = resultSize(toolResult);
    await session.drain();
    return result;
  } catch (caught) {
    outcome = classify(caught, extra.signal);
    const mcpError = toWireError(caught);
    error = deps.redactor.scrub(mcpError.message);
    wire = mcpError;
    throw mcpError;
  } finally {
    span?.end(outcome, size, wire && { code: wire.code, message: error });
    deps.events.emit({
      event: 'mcpgate.tool.result',
      session: session.id,
      call,
      server: entry.upstream.name,
      tool: entry.name,
      public_name: entry.publicName,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      outcome,
      result_size: size,
      error,
    });
  }
}

function askReason(reason: string): string {
  return reason.startsWith('approval required') ? reason : `approval required: ${reason}`;
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

function deniedResult(entry: ToolEntry, decision: 'ask' | 'deny', reason: string): CallToolResult {
  const text =
    decision === 'ask'
      ? `mcpgate: ${entry.publicName} was not run: ${reason}. No approval channel is available, so the request is denied.`
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
