/**
 * Resources, prompts and completions: each request is routed to the upstream that owns its
 * target, authorised by that server's content policy (the same check that filtered the lists),
 * forwarded under the upstream's own names, and recorded: exactly one `mcpgate.request` record
 * per request, whatever way it ends (allowed, denied, unknown target, upstream error, cancelled).
 */
import { ErrorCode, type JSONRPCRequest, type Result } from '@modelcontextprotocol/sdk/types.js';
import { recordArguments, type ArgumentsMode, type RecordedArguments } from '../audit/redact.js';
import type { Catalog } from '../catalog/catalog.js';
import { ErrorCodes, GatewayError, toWireError, WireError, wireError } from '../errors.js';
import { InputRequired, type Caller, type Subscriber } from '../caller/caller.js';
import type { RequestTrace } from '../telemetry/trace.js';
import { runPipeline, type Pipeline, type StageResult } from './stages.js';
import { paramsForUpstream, upstreamInputRequired } from './upstreamRounds.js';
import { isInputRequired } from '../upstream/inputRounds.js';
import { describeRule, type Verdict } from '../policy/verdict.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { AuditedMethod, EventSink, RequestOutcome } from '../telemetry/events.js';
import { modernLeg } from '../upstream/modern.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Subscriptions } from './subscriptions.js';

/** What content requests need from the gateway. */
export interface ContentDeps {
  readonly catalog: Catalog;
  readonly events: EventSink;
  readonly redactor: Redactor;
  readonly subscriptions: Subscriptions;
  readonly argumentsMode: ArgumentsMode;
  readonly maxArgumentBytes: number;
  nextCallId(): string;
  /** Resolves once the first start of every upstream has settled (bounded). */
  ready(): Promise<void>;
}

/** Where a request goes and what the policy says about it. */
interface Route {
  readonly upstream: Upstream | undefined;
  readonly target: string;
  readonly verdict: Verdict;
  /** The params sent upstream (names mapped back to the upstream's own). */
  readonly params: Record<string, unknown>;
}

/** The requests of this pipeline (tasks/* have their own: taskRequest.ts). */
type ContentMethod = Exclude<AuditedMethod, 'tasks/get' | 'tasks/update' | 'tasks/cancel'>;

/** Unsubscribing only ever stops traffic: it is never refused. */
const UNSUBSCRIBE: Verdict = Object.freeze({ decision: 'allow', decidedBy: 'default', reason: 'unsubscribing is always allowed' });

/** One resources/prompts/completion request on its way through the stages. */
class ContentCall {
  readonly method: ContentMethod;
  readonly params: Record<string, unknown>;
  readonly started = performance.now();
  /** resolve: where the request goes and what the policy says. */
  route: Route | undefined = undefined;
  outcome: RequestOutcome = 'protocol_error';
  size: number | undefined = undefined;
  error: string | undefined = undefined;
  /** prompts/get: its arguments as the audit records them. */
  readonly recorded: RecordedArguments;

  constructor(
    readonly deps: ContentDeps,
    readonly caller: Caller,
    request: JSONRPCRequest,
    readonly trace: RequestTrace | undefined,
  ) {
    this.method = request.method as ContentMethod;
    this.params = (request.params ?? {}) as Record<string, unknown>;
    this.recorded = this.method === 'prompts/get' ? recordArguments(this.params.arguments ?? {}, deps.argumentsMode, { maxBytes: deps.maxArgumentBytes, redactor: deps.redactor }) : {};
  }

  /** Notes how the request failed; returns the (scrubbed) error for the client. */
  failed(caught: unknown): WireError {
    if (this.outcome !== 'denied') this.outcome = this.caller.signal.aborted ? 'cancelled' : isTimeout(caught) ? 'timeout' : 'protocol_error';
    const wire = scrubWireError(this.deps.redactor, toWireError(caught));
    if (this.outcome !== 'denied') this.error = wire.message;
    return wire;
  }
}

/** The stages of a content request (the same runner as tools/call); `record` runs in `finally`. */
export const CONTENT_REQUEST: Pipeline<ContentCall> = { stages: [resolveContent, authorizeContent, forwardContent], record: recordContent };

/** Answers one resources/prompts/completion request; always leaves its one audit record. */
export function contentRequest(deps: ContentDeps, caller: Caller, request: JSONRPCRequest, trace: RequestTrace | undefined): Promise<Result> {
  return runPipeline(CONTENT_REQUEST, new ContentCall(deps, caller, request, trace));
}

/** resolve: the upstream and target (a miss in the first seconds may be an upstream still starting: wait, bounded, then retry once). */
async function resolveContent(call: ContentCall): Promise<StageResult> {
  const { deps, method, params } = call;
  try {
    call.route = await routeOf(deps.catalog, method, params).catch(async () => {
      await deps.ready();
      return routeOf(deps.catalog, method, params);
    });
  } catch (caught) {
    throw call.failed(caught);
  }
  return undefined;
}

/** authorize: the server's content policy (the same check that filtered the lists). */
function authorizeContent(call: ContentCall): StageResult {
  const route = call.route as Route;
  if (route.verdict.decision === 'allow') return undefined;
  call.outcome = 'denied';
  throw call.failed(wireError(ErrorCodes.POLICY_DENIED, `mcpgate: ${call.method} ${route.target} was denied: ${route.verdict.reason}`));
}

/** forward: subscriptions are kept here (one upstream subscription per URI); everything else goes upstream. */
async function forwardContent(call: ContentCall): Promise<StageResult> {
  const { deps, caller, method } = call;
  const route = call.route as Route;
  try {
    let result: Result;
    if (method === 'resources/subscribe') {
      await deps.subscriptions.subscribe(subscriberOf(caller), route.upstream as Upstream, route.target);
      result = {};
    } else if (method === 'resources/unsubscribe') {
      await deps.subscriptions.unsubscribe(subscriberOf(caller), route.upstream, route.target);
      result = {};
    } else {
      const upstream = route.upstream as Upstream;
      result = await forward(deps.redactor, upstream, method, paramsForUpstream(route.params, caller, upstream.name), caller, call.trace);
      if (isInputRequired(result)) {
        call.outcome = 'input_required';
        throw upstreamInputRequired(result, upstream.name, caller, undefined);
      }
      call.size = resultSize(result);
    }
    call.outcome = 'ok';
    return result;
  } catch (caught) {
    if (caught instanceof InputRequired) throw caught; // the upstream's round, passed on to the caller
    throw call.failed(caught);
  }
}

/** record: the request's one `mcpgate.request` record. */
function recordContent(call: ContentCall): void {
  const { route } = call;
  const verdict = route?.verdict;
  call.deps.events.emit({
    event: 'mcpgate.request',
    session: call.caller.identity.key,
    request: call.deps.nextCallId(),
    method: call.method,
    server: route?.upstream?.name ?? '',
    target: route?.target ?? targetOf(call.params),
    decision: verdict?.decision === 'allow' ? 'allow' : 'deny',
    decided_by: verdict?.decidedBy ?? 'default',
    rule: verdict?.rule ? describeRule(verdict.rule) : undefined,
    reason: verdict?.reason ?? call.error ?? 'invalid request',
    outcome: call.outcome,
    duration_ms: Math.round((performance.now() - call.started) * 1000) / 1000,
    result_size: call.size,
    error: call.error,
    ...call.recorded,
    subject: call.caller.identity.authenticated?.subject,
    protocol_version: call.caller.protocolVersion,
    upstream_protocol_version: modernLeg(route?.upstream?.protocolVersion),
  });
}

/** The upstream, target and verdict of a request; throws the client's error for a bad or unknown target. */
async function routeOf(catalog: Catalog, method: ContentMethod, params: Record<string, unknown>): Promise<Route> {
  switch (method) {
    case 'prompts/get': {
      const name = requireString(params, 'name', method);
      const entry = catalog.prompt(name);
      if (!entry) throw wireError(ErrorCodes.UNKNOWN_PROMPT, `Unknown prompt: ${name}`);
      return { upstream: entry.upstream, target: name, verdict: catalog.access(entry.upstream).prompts, params: { ...params, name: entry.name } };
    }
    case 'resources/read':
    case 'resources/subscribe': {
      const uri = requireString(params, 'uri', method);
      const upstream = resourceUpstream(catalog, uri);
      return { upstream, target: uri, verdict: catalog.access(upstream).resources, params };
    }
    case 'resources/unsubscribe': {
      const uri = requireString(params, 'uri', method);
      return { upstream: catalog.resourceOwner(uri), target: uri, verdict: UNSUBSCRIBE, params };
    }
    case 'completion/complete':
      return completionRoute(catalog, params);
  }
}

function completionRoute(catalog: Catalog, params: Record<string, unknown>): Route {
  const ref = params.ref as Record<string, unknown> | undefined;
  if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
    const entry = catalog.prompt(ref.name);
    if (!entry) throw wireError(ErrorCodes.UNKNOWN_PROMPT, `Unknown prompt: ${ref.name}`);
    return { upstream: entry.upstream, target: ref.name, verdict: catalog.access(entry.upstream).prompts, params: { ...params, ref: { ...ref, name: entry.name } } };
  }
  if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
    const upstream = catalog.templateOwner(ref.uri) ?? catalog.resourceOwner(ref.uri);
    if (!upstream) throw wireError(ErrorCodes.UNKNOWN_RESOURCE, `Unknown resource or template: ${ref.uri}`);
    return { upstream, target: ref.uri, verdict: catalog.access(upstream).resources, params };
  }
  throw wireError(ErrorCodes.INVALID_PARAMS, 'completion/complete needs ref {type: "ref/prompt", name} or {type: "ref/resource", uri}');
}

function resourceUpstream(catalog: Catalog, uri: string): Upstream {
  const upstream = catalog.resourceOwner(uri);
  if (!upstream) {
    throw toWireError(new GatewayError(ErrorCodes.UNKNOWN_RESOURCE, `Resource not found: ${uri} (no upstream lists it or a template matching it)`));
  }
  return upstream;
}

async function forward(redactor: Redactor, upstream: Upstream, method: string, params: Record<string, unknown>, caller: Caller, trace: RequestTrace | undefined): Promise<Result> {
  // With tracing on, the CLIENT span's trace context goes into a copy of the params' `_meta`.
  if (trace) params = { ...params };
  const span = trace?.upstream(upstream.name, method, params, upstream.protocolVersion);
  try {
    const result = await upstream.request(method, params, { owner: { caller }, signal: caller.signal, ...(caller.generation === 'modern' ? { inputRequired: 'return' as const } : {}) });
    span?.end('ok');
    await caller.drain();
    return redactor.scrubJson(result);
  } catch (error) {
    const wire = scrubWireError(redactor, toWireError(error));
    span?.end(caller.signal.aborted ? 'cancelled' : 'protocol_error', undefined, { code: wire.code });
    throw wire;
  }
}

/** The long-lived handle that receives updates (a 2025 session); a stateless caller has none. */
function subscriberOf(caller: Caller): Subscriber {
  if (!caller.subscriber) throw wireError(ErrorCodes.SESSION_REQUIRED, 'resources/subscribe needs a session (a stateless caller listens with subscriptions/listen)');
  return caller.subscriber;
}

function requireString(params: Record<string, unknown>, key: string, method: string): string {
  const value = params[key];
  if (typeof value !== 'string') throw wireError(ErrorCodes.INVALID_PARAMS, `${method} needs params.${key} (a string)`);
  return value;
}

/** What an unroutable request was about, for its record (a string param, else nothing). */
function targetOf(params: Record<string, unknown>): string {
  const ref = params.ref as Record<string, unknown> | undefined;
  const value = params.uri ?? params.name ?? ref?.uri ?? ref?.name;
  return typeof value === 'string' ? value : '';
}

function isTimeout(error: unknown): boolean {
  return (error instanceof GatewayError && error.code === ErrorCodes.UPSTREAM_TIMEOUT) || (error instanceof WireError && error.code === ErrorCode.RequestTimeout);
}

/** Characters of text and base64 data in a resource read or a prompt's messages. */
function resultSize(result: Result): number {
  let size = 0;
  const add = (item: unknown) => {
    const record = item as Record<string, unknown> | undefined;
    if (typeof record?.text === 'string') size += record.text.length;
    if (typeof record?.blob === 'string') size += record.blob.length;
    if (typeof record?.data === 'string') size += record.data.length;
  };
  for (const content of Array.isArray(result.contents) ? result.contents : []) add(content);
  for (const message of Array.isArray(result.messages) ? result.messages : []) add((message as Record<string, unknown>).content);
  const completion = result.completion as Record<string, unknown> | undefined;
  if (Array.isArray(completion?.values)) size += completion.values.length;
  return size;
}
