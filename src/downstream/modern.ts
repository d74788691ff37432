/**
 * Serves one modern (2026-07-28) request, whatever transport brought it: validates the envelope
 * (and on HTTP the request headers) before anything else, answers `server/discover` and
 * `subscriptions/listen`, refuses removed or unknown methods with -32601 (HTTP 404), hands the
 * rest to the gateway's dispatcher under a {@link ModernCaller}, and stamps the result as the
 * revision wants it (resultType, serverInfo, caching hints). Every error carries the request id.
 */
import type { JSONRPCRequest, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, ProtocolError, toWireError } from '../errors.js';
import { checkVersion, readEnvelope, type Envelope } from '../protocol/envelope.js';
import { checkParamHeaders, checkRoutingHeaders, checkVersionHeader, type HeaderBag, type ParamHeader } from '../protocol/headers.js';
import { InputRequired } from '../caller/caller.js';
import { modernResult } from '../protocol/results.js';
import { INPUT_METHODS, MODERN_VERSIONS, REMOVED_METHODS } from '../protocol/revisions.js';
import { declaresTasks, TASKS_EXTENSION } from '../protocol/taskId.js';
import { BridgedCall, resumeBridge, settle, type ParkedCalls } from './modernBridge.js';
import { inputRequiredResult, resumeRound, type RoundDeps } from './modernRounds.js';
import { ModernCaller, type ModernOrigin } from './modernCaller.js';
import type { ModernStream } from './modernStream.js';

/** What serving modern requests needs from the gateway. */
export interface ModernHost {
  /** What `server/discover` reports: the capabilities the handlers really serve. */
  discover(): Promise<{ readonly capabilities: Record<string, unknown>; readonly instructions?: string }>;
  /** Answers tools/*, prompts/*, resources/*, completion/* (the pipeline, as for a session; cancelled by `caller.signal`). */
  dispatch(caller: ModernCaller, request: JSONRPCRequest): Promise<Result>;
  /** The `x-mcp-header` annotations of a listed tool (undefined: no such tool). */
  paramHeaders(toolName: string): readonly ParamHeader[] | undefined;
  /** Holds a `subscriptions/listen` stream open until the client or the gateway ends it. */
  listen(caller: ModernCaller, id: RequestId, params: Record<string, unknown>): Promise<void>;
  /** Sealing and opening `requestState`s (multi-round-trip requests). */
  readonly rounds: RoundDeps;
  /** Bridged calls waiting for their retry. */
  readonly parked: ParkedCalls;
}

/** Methods the dispatcher answers for a modern caller (the rest are -32601). */
const DISPATCHED: ReadonlySet<string> = new Set([
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
]);

/** What a request that cannot be processed gets (400 for envelope/header/version/capability errors, 404 for an unknown method). */
export function errorResponse(id: RequestId | null, error: unknown, method?: string, params?: Record<string, unknown>): { response: object; status: number } {
  let wire = toWireError(error);
  // SEP-2164: a resource that does not exist is -32602 with the URI (never -32002, never empty contents).
  const data = (wire.data ?? {}) as Record<string, unknown>;
  if (method === 'resources/read' && (wire.code === -32002 || data.code === ErrorCodes.UNKNOWN_RESOURCE)) {
    wire = toWireError(new ProtocolError(ErrorCodes.UNKNOWN_RESOURCE, -32602, 'Resource not found', { ...data, uri: params?.uri }));
  }
  const status = error instanceof ProtocolError ? error.httpStatus : wire.code === -32021 || wire.code === -32020 || wire.code === -32022 ? 400 : 200;
  const body = { code: wire.code, message: wire.message, ...(wire.data === undefined ? {} : { data: wire.data }) };
  return { response: { jsonrpc: '2.0', id, error: body }, status };
}

function tasksUndeclared(method: string): ProtocolError {
  const requiredCapabilities = { extensions: { [TASKS_EXTENSION]: {} } };
  return new ProtocolError(ErrorCodes.CLIENT_CAPABILITY_MISSING, -32021, `Missing required client capability: ${method} needs the ${TASKS_EXTENSION} extension, which this request's clientCapabilities do not declare`, { requiredCapabilities }, 400);
}

function notFound(method: string): ProtocolError {
  const removed = REMOVED_METHODS.has(method) ? ' (removed in protocol revision 2026-07-28)' : '';
  return new ProtocolError(ErrorCodes.METHOD_NOT_FOUND, -32601, `Method not found: ${method.slice(0, 64)}${removed}`, {}, 404);
}

/**
 * Validates a modern request: the envelope, then on HTTP the headers (version header first:
 * a header/`_meta` mismatch is -32020 before an unsupported version is -32022), the version.
 */
export function validateModern(request: JSONRPCRequest, headers: HeaderBag | undefined, host: Pick<ModernHost, 'paramHeaders'>): Envelope {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const envelope = readEnvelope(params);
  if (headers) checkVersionHeader(headers, envelope.protocolVersion);
  checkVersion(envelope.protocolVersion);
  if (headers) {
    checkRoutingHeaders(headers, request.method, params);
    if (request.method === 'tools/call' && typeof params.name === 'string') {
      const annotations = host.paramHeaders(params.name);
      const args = params.arguments;
      if (annotations && annotations.length > 0 && typeof args === 'object' && args !== null) checkParamHeaders(headers, annotations, args as Record<string, unknown>);
    }
  }
  return envelope;
}

/** Capabilities through which a 2025 upstream's mid-call ask can reach the caller (bridged calls). */
function canAnswerAsks(caller: ModernCaller): boolean {
  const declared = caller.capabilities;
  return declared.elicitation !== undefined || declared.sampling !== undefined || declared.roots !== undefined;
}

/**
 * Runs a dispatched request: a retry's state first (a bridge retry resumes its parked call), then
 * the pipeline; a stage asking for input, or an upstream asking mid-call, makes this round's
 * result `input_required`. A caller that can answer no ask pays for no bridge.
 */
async function call(host: ModernHost, caller: ModernCaller, request: JSONRPCRequest, params: Record<string, unknown>, stream: ModernStream): Promise<Record<string, unknown>> {
  const state = await resumeRound(host.rounds, request.method, params, caller);
  if (state?.kind === 'bridge') return resumeBridge(host.rounds, host.parked, state, request.method, params, stream);
  if (INPUT_METHODS.has(request.method) && canAnswerAsks(caller)) {
    const bridged = new BridgedCall(caller, () => host.dispatch(caller, request));
    return settle(host.rounds, host.parked, bridged, request.method, params, stream, state);
  }
  try {
    return (await host.dispatch(caller, request)) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof InputRequired)) throw caller.failure ?? error;
    return inputRequiredResult(host.rounds, request.method, params, caller, error);
  }
}

/** Serves one modern request and writes its response on `stream`. Never throws. */
export async function serveModern(host: ModernHost, request: JSONRPCRequest, origin: ModernOrigin, stream: ModernStream, headers?: HeaderBag): Promise<void> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  try {
    const envelope = validateModern(request, headers, host);
    const caller = new ModernCaller(envelope, origin, stream);
    let result: Record<string, unknown>;
    switch (request.method) {
      case 'server/discover': {
        const { capabilities, instructions } = await host.discover();
        result = { supportedVersions: [...MODERN_VERSIONS], capabilities, ...(instructions ? { instructions } : {}) };
        break;
      }
      case 'subscriptions/listen':
        await host.listen(caller, request.id, params);
        return;
      case 'tasks/get':
      case 'tasks/update':
      case 'tasks/cancel':
        // Served only where discover advertises the extension; a caller that did not declare it: -32021 before anything else.
        if (!((await host.discover()).capabilities.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION]) throw notFound(request.method);
        if (!declaresTasks(caller.capabilities)) throw tasksUndeclared(request.method);
        result = (await host.dispatch(caller, request)) as Record<string, unknown>;
        break;
      default:
        if (!DISPATCHED.has(request.method)) throw notFound(request.method);
        result = await call(host, caller, request, params, stream);
        if (caller.failure) throw caller.failure; // the upstream needed an undeclared capability: -32021
    }
    stream.finish({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, result) }, 200);
  } catch (error) {
    if (stream.signal.aborted) return; // cancelled: no answer
    const { response, status } = errorResponse(request.id, error, request.method, params);
    stream.finish(response, status);
  }
}
