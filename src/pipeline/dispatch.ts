/**
 * Routes every client request the SDK does not answer itself: lists are served from the catalog
 * (paginated), `tools/call` runs the tool-call pipeline, and prompts, resources and completions
 * run the content pipeline (policy, forward, one audit record each).
 */
import type { JSONRPCRequest, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import { paginate } from '../catalog/pagination.js';
import { ErrorCodes, wireError } from '../errors.js';
import type { Caller } from '../caller/caller.js';
import type { RequestTrace } from '../telemetry/trace.js';
import { contentRequest, type ContentDeps } from './contentRequest.js';
import { depthExceeds, MAX_JSON_DEPTH } from '../jsonDepth.js';
import { taskRequest } from './taskRequest.js';
import { callTool, type ToolCallDeps } from './toolCall.js';

/** What request routing needs from the gateway. */
export interface DispatchDeps extends ToolCallDeps, ContentDeps {
  readonly catalog: Catalog;
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
export async function dispatch(deps: DispatchDeps, caller: Caller, request: JSONRPCRequest, trace?: RequestTrace): Promise<Result> {
  // Refused at the door: every later step (policy, hashing, audit copies, approvals) sees all of a request.
  if (depthExceeds(request, MAX_JSON_DEPTH)) {
    throw wireError(ErrorCodes.REQUEST_REJECTED, `Invalid Request: ${String(request.method).slice(0, 64)} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const params = (request.params ?? {}) as Record<string, unknown>;
  switch (request.method) {
    case 'tools/call':
      return callTool(deps, caller, request, trace);
    case 'tools/list':
    case 'prompts/list':
    case 'resources/list':
    case 'resources/templates/list': {
      await deps.ready();
      const [key, listed] = LISTS[request.method](deps.catalog);
      // A caller with `clients:` rules sees its own filtering of the tools.
      const layer = request.method === 'tools/list' ? deps.callerPolicy(caller) : undefined;
      const items = layer ? layer.listTools(deps.catalog.entries(), deps.showDenied) : listed;
      const page = paginate(items, params.cursor, deps.pageSize);
      return withCursor({ [key]: page.items }, page.nextCursor);
    }
    case 'prompts/get':
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'completion/complete':
      return contentRequest(deps, caller, request, trace);
    case 'tasks/get':
    case 'tasks/update':
    case 'tasks/cancel':
      // The tasks extension is a 2026-07-28 one (a session's SDK answers its own experimental tasks).
      if (caller.generation !== 'modern') throw wireError(ErrorCodes.METHOD_NOT_FOUND, `Method not found: ${request.method}`);
      return taskRequest(deps, caller, request.method, request);
    default:
      throw wireError(ErrorCodes.METHOD_NOT_FOUND, `Method not found: ${request.method}`);
  }
}


function withCursor<T extends Record<string, unknown>>(result: T, nextCursor: string | undefined): T & { nextCursor?: string } {
  return nextCursor === undefined ? result : { ...result, nextCursor };
}
