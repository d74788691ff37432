/**
 * Resources, prompts and completions: each request is routed to the upstream that owns its
 * target, authorised by that server's content policy (the same check that filtered the lists),
 * forwarded under the upstream's own names, and recorded: exactly one `mcpgate.request` record
 * per request, whatever way it ends (allowed, denied, unknown target, upstream error, cancelled).
 */
import { ErrorCode, type JSONRPCRequest, type Result } from '@modelcontextprotocol/sdk/types.js';
import { recordArguments, type ArgumentsMode, type RecordedArguments } from '../audit/redact.js';
import type { Catalog } from '../catalog/catalog.js';
import { ErrorCodes, GatewayError, toWireError, WireError } from '../errors.js';
import type { Caller, Subscriber } from '../caller/caller.js';
import type { RequestTrace } from '../telemetry/trace.js';
import { describeRule, type Verdict } from '../policy/verdict.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { AuditedMethod, EventSink, RequestOutcome } from '../telemetry/events.js';
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

/** Unsubscribing only ever stops traffic: it is never refused. */
const UNSUBSCRIBE: Verdict = Object.freeze({ decision: 'allow', decidedBy: 'default', reason: 'unsubscribing is always allowed' });

/** Answers one resources/prompts/completion request; always leaves its one audit record. */
export async function contentRequest(deps: ContentDeps, caller: Caller, request: JSONRPCRequest, trace: RequestTrace | undefined): Promise<Result> {
  const method = request.method as AuditedMethod;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const started = performance.now();
  let route: Route | undefined;
  let outcome: RequestOutcome = 'protocol_error';
  let size: number | undefined;
  let error: string | undefined;
  const recorded: RecordedArguments = method === 'prompts/get' ? recordArguments(params.arguments ?? {}, deps.argumentsMode, { maxBytes: deps.maxArgumentBytes, redactor: deps.redactor }) : {};
  try {
    // a miss in the first seconds may be an upstream still starting: wait (bounded), then retry once
    route = await routeOf(deps.catalog, method, params).catch(async () => {
      await deps.ready();
      return routeOf(deps.catalog, method, params);
    });
    const { upstream, verdict } = route;
    if (verdict.decision !== 'allow') {
      outcome = 'denied';
      throw new WireError(ErrorCode.InvalidRequest, `mcpgate: ${method} ${route.target} was denied: ${verdict.reason}`, { code: ErrorCodes.POLICY_DENIED });
    }
    let result: Result;
    if (method === 'resources/subscribe') {
      await deps.subscriptions.subscribe(subscriberOf(caller), upstream as Upstream, route.target);
      result = {};
    } else if (method === 'resources/unsubscribe') {
      await deps.subscriptions.unsubscribe(subscriberOf(caller), upstream, route.target);
      result = {};
    } else {
      result = await forward(deps.redactor, upstream as Upstream, method, route.params, caller, trace);
      size = resultSize(result);
    }
    outcome = 'ok';
    return result;
  } catch (caught) {
    if (outcome !== 'denied') outcome = caller.signal.aborted ? 'cancelled' : isTimeout(caught) ? 'timeout' : 'protocol_error';
    const wire = scrubWireError(deps.redactor, toWireError(caught));
    if (outcome !== 'denied') error = wire.message;
    throw wire;
  } finally {
    const verdict = route?.verdict;
    deps.events.emit({
      event: 'mcpgate.request',
      session: caller.identity.key,
      request: deps.nextCallId(),
      method,
      server: route?.upstream?.name ?? '',
      target: route?.target ?? targetOf(params),
      decision: verdict?.decision === 'allow' ? 'allow' : 'deny',
      decided_by: verdict?.decidedBy ?? 'default',
      rule: verdict?.rule ? describeRule(verdict.rule) : undefined,
      reason: verdict?.reason ?? error ?? 'invalid request',
      outcome,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      result_size: size,
      error,
      ...recorded,
      subject: caller.identity.authenticated?.subject,
    });
  }
}

/** The upstream, target and verdict of a request; throws the client's error for a bad or unknown target. */
async function routeOf(catalog: Catalog, method: AuditedMethod, params: Record<string, unknown>): Promise<Route> {
  switch (method) {
    case 'prompts/get': {
      const name = requireString(params, 'name', method);
      const entry = catalog.prompt(name);
      if (!entry) throw new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
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
    if (!entry) throw new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
    return { upstream: entry.upstream, target: ref.name, verdict: catalog.access(entry.upstream).prompts, params: { ...params, ref: { ...ref, name: entry.name } } };
  }
  if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
    const upstream = catalog.templateOwner(ref.uri) ?? catalog.resourceOwner(ref.uri);
    if (!upstream) throw new WireError(ErrorCode.InvalidParams, `Unknown resource or template: ${ref.uri}`);
    return { upstream, target: ref.uri, verdict: catalog.access(upstream).resources, params };
  }
  throw new WireError(ErrorCode.InvalidParams, 'completion/complete needs ref {type: "ref/prompt", name} or {type: "ref/resource", uri}');
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
  const span = trace?.upstream(upstream.name, method, params);
  try {
    const result = await upstream.request(method, params, { owner: { caller }, signal: caller.signal });
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
  if (!caller.subscriber) throw new WireError(ErrorCode.InvalidRequest, 'resources/subscribe needs a session (a stateless caller listens with subscriptions/listen)');
  return caller.subscriber;
}

function requireString(params: Record<string, unknown>, key: string, method: string): string {
  const value = params[key];
  if (typeof value !== 'string') throw new WireError(ErrorCode.InvalidParams, `${method} needs params.${key} (a string)`);
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
