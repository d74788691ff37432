/**
 * Routes every client request the SDK does not answer itself: lists are served from the catalog
 * (paginated), `tools/call` runs the tool-call pipeline, and prompts, resources and completions
 * are forwarded to the upstream that owns them, under the upstream's own names.
 */
import { ErrorCode, type JSONRPCRequest, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import { paginate } from '../catalog/pagination.js';
import { ErrorCodes, GatewayError, toWireError, WireError } from '../errors.js';
import type { ClientSession, RequestExtra } from '../downstream/session.js';
import { depthExceeds, MAX_JSON_DEPTH } from '../jsonDepth.js';
import type { Redactor } from '../secrets/redactor.js';
import { scrubWireError } from '../secrets/resultScrubber.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Subscriptions } from './subscriptions.js';
import { callTool, type ToolCallDeps } from './toolCall.js';

/** What request routing needs from the gateway. */
export interface DispatchDeps extends ToolCallDeps {
  readonly catalog: Catalog;
  readonly subscriptions: Subscriptions;
  readonly pageSize: number;
  readonly showDenied: boolean;
}

/** The catalog lists served from memory, with the result key each goes under. */
type ListReader = (catalog: Catalog) => [string, readonly unknown[]];
const LISTS: Record<'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list', ListReader> = {
  'tools/list': (catalog) => ['tools', catalog.listTools()],
  'prompts/list': (catalog) => ['prompts', catalog.listPrompts()],
  'resources/list': (catalog) => ['resources', catalog.listResources()],
  'resources/templates/list': (catalog) => ['resourceTemplates', catalog.listResourceTemplates()],
};

/** Answers one client request. */
export async function dispatch(deps: DispatchDeps, session: ClientSession, request: JSONRPCRequest, extra: RequestExtra): Promise<Result> {
  // Refused at the door: every later step (policy, hashing, audit copies, approvals) sees all of a request.
  if (depthExceeds(request, MAX_JSON_DEPTH)) {
    throw new WireError(ErrorCode.InvalidRequest, `Invalid Request: ${String(request.method).slice(0, 64)} is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      code: ErrorCodes.REQUEST_REJECTED,
    });
  }
  const params = (request.params ?? {}) as Record<string, unknown>;
  switch (request.method) {
    case 'tools/call':
      return callTool(deps, session, request, extra);
    case 'tools/list':
    case 'prompts/list':
    case 'resources/list':
    case 'resources/templates/list': {
      await deps.ready();
      const [key, listed] = LISTS[request.method](deps.catalog);
      // A session with `clients:` rules sees its own filtering of the tools.
      const items = request.method === 'tools/list' && session.clientRules ? session.clientRules.listTools(deps.catalog.entries(), deps.showDenied) : listed;
      const page = paginate(items, params.cursor, deps.pageSize);
      return withCursor({ [key]: page.items }, page.nextCursor);
    }
    case 'prompts/get': {
      const name = requireString(params, 'name', request.method);
      const entry = deps.catalog.prompt(name);
      if (!entry) throw new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
      return forward(deps.redactor, entry.upstream, request.method, { ...params, name: entry.name }, session, extra);
    }
    case 'resources/read': {
      const uri = requireString(params, 'uri', request.method);
      return forward(deps.redactor, resourceUpstream(deps.catalog, uri), request.method, params, session, extra);
    }
    case 'resources/subscribe': {
      const uri = requireString(params, 'uri', request.method);
      await deps.subscriptions.subscribe(session, resourceUpstream(deps.catalog, uri), uri).catch(rethrow);
      return {};
    }
    case 'resources/unsubscribe': {
      const uri = requireString(params, 'uri', request.method);
      await deps.subscriptions.unsubscribe(session, deps.catalog.resourceOwner(uri), uri);
      return {};
    }
    case 'completion/complete':
      return complete(deps, params, session, extra);
    default:
      throw new WireError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
  }
}

async function complete(deps: DispatchDeps, params: Record<string, unknown>, session: ClientSession, extra: RequestExtra): Promise<Result> {
  const { catalog, redactor } = deps;
  const ref = params.ref as Record<string, unknown> | undefined;
  if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
    const entry = catalog.prompt(ref.name);
    if (!entry) throw new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
    return forward(deps.redactor, entry.upstream, 'completion/complete', { ...params, ref: { ...ref, name: entry.name } }, session, extra);
  }
  if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
    const upstream = catalog.templateOwner(ref.uri) ?? catalog.resourceOwner(ref.uri);
    if (!upstream) throw new WireError(ErrorCode.InvalidParams, `Unknown resource or template: ${ref.uri}`);
    return forward(redactor, upstream, 'completion/complete', params, session, extra);
  }
  throw new WireError(ErrorCode.InvalidParams, 'completion/complete needs ref {type: "ref/prompt", name} or {type: "ref/resource", uri}');
}

function resourceUpstream(catalog: Catalog, uri: string): Upstream {
  const upstream = catalog.resourceOwner(uri);
  if (!upstream) {
    throw toWireError(
      new GatewayError(ErrorCodes.UNKNOWN_RESOURCE, `Resource not found: ${uri} (no upstream lists it or a template matching it)`),
    );
  }
  return upstream;
}

async function forward(
  redactor: Redactor,
  upstream: Upstream,
  method: string,
  params: Record<string, unknown>,
  session: ClientSession,
  extra: RequestExtra,
): Promise<Result> {
  // With tracing on, the CLIENT span's trace context goes into a copy of the params' `_meta`.
  if (extra.trace) params = { ...params };
  const span = extra.trace?.upstream(upstream.name, method, params);
  try {
    const result = await upstream.request(method, params, { owner: { session: session.id, requestId: extra.requestId }, signal: extra.signal });
    span?.end('ok');
    await session.drain();
    return redactor.scrubJson(result);
  } catch (error) {
    const wire = scrubWireError(redactor, toWireError(error));
    span?.end(extra.signal.aborted ? 'cancelled' : 'protocol_error', undefined, { code: wire.code });
    throw wire;
  }
}

function rethrow(error: unknown): never {
  throw toWireError(error);
}

function requireString(params: Record<string, unknown>, key: string, method: string): string {
  const value = params[key];
  if (typeof value !== 'string') throw new WireError(ErrorCode.InvalidParams, `${method} needs params.${key} (a string)`);
  return value;
}

function withCursor<T extends Record<string, unknown>>(result: T, nextCursor: string | undefined): T & { nextCursor?: string } {
  return nextCursor === undefined ? result : { ...result, nextCursor };
}
