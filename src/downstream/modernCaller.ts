/**
 * The caller of one modern (2026-07-28) request: who it is (its caller key stands where a legacy
 * session's id stands: audit `session`, session approvals), what its envelope declared, and how
 * to reach it (only through this request's own stream: no request is ever sent to a modern
 * client; what the gateway needs from it travels as `input_required`).
 */
import type { JSONRPCRequest, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, type ProtocolError, WireError } from '../errors.js';
import type { ClientLayer, Identity } from '../policy/clients.js';
import { callerKey, isSpecificKey, type CallerFacts } from '../protocol/callerKey.js';
import { missingCapability, passesLogLevel, type Envelope } from '../protocol/envelope.js';
import { InputRequired, type InputRequest, type InputSource } from '../protocol/inputRequired.js';
import type { RequestState } from '../protocol/requestState.js';
import { MODERN_VERSION } from '../protocol/revisions.js';
import type { ModernStream } from './modernStream.js';

/** How a modern request arrived. */
export interface ModernOrigin {
  readonly transportKind: 'stdio' | 'http';
  /** The verified bearer identity (HTTP with auth), if any. */
  readonly identity: Identity | undefined;
  /** `protocol.statelessSessions: subject`: a verified subject alone is specific enough for session approvals. */
  readonly subjectIsSession: boolean;
}

/** The client capability each server→client request needs. */
const CAPABILITY_OF: Readonly<Record<string, 'sampling' | 'elicitation' | 'roots'>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** An upstream's request waiting for this caller's answer (bridging, modernBridge.ts). */
export interface UpstreamAsk {
  readonly request: JSONRPCRequest;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/** One modern request's caller. */
export class ModernCaller implements InputSource {
  /** The caller key (docs/protocol.md "Sessions"): what a legacy session id is for a stateless client. */
  readonly id: string;
  readonly transportKind: 'stdio' | 'http';
  readonly identity: Identity | undefined;
  readonly protocolVersion = MODERN_VERSION;
  readonly stateless = true;
  readonly initialized = true;
  readonly startedAt = Date.now();
  /** True when "allow for this session" may be offered and remembered under {@link id}. */
  readonly specific: boolean;
  /** The `clients:` rules of this caller's identity (set by the gateway). */
  clientRules: ClientLayer | undefined;
  calls = 0;
  /** Legacy `resources/subscribe` bookkeeping: a modern caller subscribes through `subscriptions/listen`. */
  readonly subscriptions = new Set<string>();
  /** Set while a bridged call of this request can take an upstream's ask (modernBridge.ts). */
  bridge: ((ask: UpstreamAsk) => void) | undefined;
  /** Set when serving the request needed a capability the caller did not declare: the request's answer (-32021). */
  failure: ProtocolError | undefined;
  /** This request retries an earlier round: its verified state and the client's answers. */
  resumed: { readonly state: RequestState; readonly responses: Readonly<Record<string, unknown>> } | undefined;

  constructor(
    readonly envelope: Envelope,
    origin: ModernOrigin,
    /** The stream of the round in progress (a bridged call moves to its retry's stream). */
    public stream: ModernStream,
  ) {
    this.transportKind = origin.transportKind;
    this.identity = origin.identity;
    const facts: CallerFacts = {
      subject: origin.identity?.subject ?? (origin.transportKind === 'stdio' ? `stdio:${process.pid}` : 'anonymous'),
      clientName: envelope.clientInfo.name,
      session: envelope.session,
    };
    this.id = callerKey(facts);
    this.specific = isSpecificKey(facts, origin.subjectIsSession);
  }

  /** The client's self-description from this request's envelope. */
  get clientInfo(): { name?: string; version?: string } {
    return this.envelope.clientInfo;
  }

  /** The capabilities this request declared. */
  get clientCapabilities(): Record<string, unknown> {
    return this.envelope.clientCapabilities as Record<string, unknown>;
  }

  get isClosed(): boolean {
    return this.stream.signal.aborted;
  }

  /** A notification about this request (progress): onto its own stream. */
  notify(notification: Notification): void {
    this.stream.notify({ jsonrpc: '2.0', ...notification });
  }

  /** A log message: only when this request set a `logLevel` it passes (server/utilities/logging). */
  log(params: Record<string, unknown>): void {
    if (passesLogLevel(this.envelope.logLevel, params.level)) this.notify({ method: 'notifications/message', params });
  }

  /**
   * The answer to `request` from this retry's `inputResponses`, if the verified state says `key` was
   * asked in the last round; else this request ends asking for it (unknown keys are ignored, a
   * missing answer is asked again: basic/patterns/mrtr § Error Handling).
   */
  async input(key: string, request: InputRequest): Promise<unknown> {
    const resumed = this.resumed;
    if (resumed && Object.hasOwn(resumed.state.asked, key) && Object.hasOwn(resumed.responses, key)) return resumed.responses[key];
    throw new InputRequired(key, request);
  }

  /**
   * An upstream asked this caller something (elicitation, sampling, roots) during its call. A
   * capability the envelope does not declare fails the whole request with -32021 (the server
   * "MUST NOT rely on" it); a declared one goes to the client as an `input_required` round of a
   * bridged call (modernBridge.ts), whose answer becomes the upstream's result.
   */
  async upstreamAsk(request: JSONRPCRequest): Promise<Result> {
    const capability = CAPABILITY_OF[request.method];
    if (capability && this.clientCapabilities[capability] === undefined) {
      this.failure ??= missingCapability(capability, `the upstream's ${request.method} during this call`);
      throw this.failure;
    }
    const bridge = this.bridge;
    if (!bridge) throw new WireError(-32600, `mcpgate cannot relay ${request.method.slice(0, 64)} from an upstream to this 2026-07-28 request`, { code: ErrorCodes.CLIENT_REQUEST_UNROUTABLE });
    return new Promise<Result>((resolve, reject) => bridge({ request, resolve, reject }));
  }

  /** Nothing is buffered: notifications are written as they come. */
  drain(): undefined {
    return undefined;
  }
}
