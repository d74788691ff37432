/**
 * The {@link Caller} of one modern (2026-07-28) request: who it is (its caller key stands where a
 * legacy session's id stands: audit `session`, session approvals), what its envelope declared,
 * and how to reach it (only through this request's own stream: no request is ever sent to a
 * modern client; what the gateway needs from it travels as `input_required`).
 */
import type { LoggingLevel, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import { CAPABILITY_FOR, InputRequired, type Caller, type CallerIdentity, type Identity, type InputOptions, type InputRequest, type PriorApproval, type UpstreamRetry } from '../caller/caller.js';
import type { CancelSignal } from '../caller/cancelSignal.js';
import { ErrorCodes, type ProtocolError, wireError } from '../errors.js';
import { callerKey, isSpecificKey, type CallerFacts } from '../protocol/callerKey.js';
import { missingCapability, type Envelope } from '../protocol/envelope.js';
import { stateRejected, type RequestState } from '../protocol/requestState.js';
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

/** An upstream's request waiting for this caller's answer (bridging, modernBridge.ts). */
export interface UpstreamAsk {
  readonly request: InputRequest;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/** One modern request's caller. */
export class ModernCaller implements Caller {
  readonly generation = 'modern';
  readonly protocolVersion = MODERN_VERSION;
  /** Stateless: no session (spans carry no `mcp.session.id`; records carry the caller key). */
  readonly sessionId = undefined;
  /** No `resources/subscribe`: a modern caller subscribes through `subscriptions/listen`. */
  readonly subscriber = undefined;
  readonly transport: 'stdio' | 'http';
  readonly identity: CallerIdentity;
  /**
   * Cancellation of the call: this request's stream, or, for a bridged call that outlives its
   * first round, the bridge's own signal (modernBridge.ts), set before the call starts.
   */
  signal: CancelSignal;
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
    this.transport = origin.transportKind;
    this.signal = stream.signal;
    const facts: CallerFacts = {
      subject: origin.identity?.subject ?? (origin.transportKind === 'stdio' ? `stdio:${process.pid}` : 'anonymous'),
      clientName: envelope.clientInfo.name,
      session: envelope.session,
    };
    this.identity = { authenticated: origin.identity, clientInfo: envelope.clientInfo, key: callerKey(facts), specific: isSpecificKey(facts, origin.subjectIsSession) };
  }

  /** The approval an earlier round of this call got (carried in its verified state). */
  get priorApproval(): PriorApproval | undefined {
    return this.resumed?.state.approved;
  }

  /**
   * The retry of an upstream's round: the client's answers to the keys that upstream asked (its
   * own keys; anything else is dropped) and its state, byte-exact, from inside the sealed state.
   */
  upstreamRetry(server: string): UpstreamRetry | undefined {
    const state = this.resumed?.state;
    if (state?.kind !== 'upstream' || !state.up) return undefined;
    if (state.up.server !== server) throw stateRejected(`it continues a round of upstream "${state.up.server.slice(0, 64)}", and this request now goes to "${server.slice(0, 64)}"`);
    const responses = this.resumed?.responses ?? {};
    const inputResponses = Object.fromEntries(Object.keys(state.asked).filter((key) => Object.hasOwn(responses, key)).map((key) => [key, responses[key]]));
    return { inputResponses, ...(state.up.state === undefined ? {} : { requestState: state.up.state }) };
  }

  /** The capabilities this request declared. */
  get capabilities(): Readonly<Record<string, unknown>> {
    return this.envelope.clientCapabilities as Record<string, unknown>;
  }

  /** The request's own `_meta` logLevel: without one it hears no log messages. */
  get logLevel(): LoggingLevel | undefined {
    return this.envelope.logLevel as LoggingLevel | undefined;
  }

  get closed(): boolean {
    return this.stream.signal.aborted;
  }

  /** A notification about this request (progress, a log message): onto its own stream. */
  notify(notification: Notification): void {
    this.stream.notify({ jsonrpc: '2.0', ...notification });
  }

  /** Nothing is buffered: notifications are written as they come. */
  drain(): undefined {
    return undefined;
  }

  /**
   * The gateway's own question (an approval): the answer from this retry's `inputResponses` if
   * the verified state says `key` was asked in the last round, else this request ends asking for
   * it (unknown keys are ignored, a missing answer is asked again: basic/patterns/mrtr § Error
   * Handling). An upstream's ask mid-call (`fromUpstream`) goes to {@link upstreamAsk}.
   */
  async input(key: string, request: InputRequest, options?: InputOptions): Promise<Result> {
    if (options?.fromUpstream) return this.upstreamAsk(request);
    const resumed = this.resumed;
    if (resumed && Object.hasOwn(resumed.state.asked, key) && Object.hasOwn(resumed.responses, key)) return resumed.responses[key] as Result;
    throw new InputRequired({ [key]: request });
  }

  /**
   * An upstream asked this caller something (elicitation, sampling, roots) during its call. A
   * capability the envelope does not declare fails the whole request with -32021 (the server
   * "MUST NOT rely on" it); a declared one goes to the client as an `input_required` round of a
   * bridged call (modernBridge.ts), whose answer becomes the upstream's result.
   */
  private upstreamAsk(request: InputRequest): Promise<Result> {
    const capability = CAPABILITY_FOR[request.method];
    if (this.capabilities[capability] === undefined) {
      this.failure ??= missingCapability(capability, `the upstream's ${request.method} during this call`);
      return Promise.reject(this.failure);
    }
    const bridge = this.bridge;
    if (!bridge) {
      return Promise.reject(wireError(ErrorCodes.CLIENT_REQUEST_UNROUTABLE, `mcpgate cannot relay ${request.method.slice(0, 64)} from an upstream to this 2026-07-28 request`));
    }
    return new Promise<Result>((resolve, reject) => bridge({ request, resolve, reject }));
  }
}
