/**
 * The `Caller` of one request of a 2025-11-25 session: the session answers for identity,
 * capabilities and log level; notifications and input requests are related to this request, so
 * Streamable HTTP routes them onto its stream. One small object per request (it replaces the
 * request context the SDK hands a handler), built on the hot path: getters, no copies.
 */
import type { LoggingLevel, Notification, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, CallerIdentity, InputOptions, InputRequest, Subscriber } from '../caller/caller.js';
import type { CancelSignal } from '../caller/cancelSignal.js';

/** What a session offers its callers (ClientSession). */
export interface SessionCallerHost extends Subscriber {
  readonly id: string;
  readonly transportKind: 'stdio' | 'http';
  readonly protocolVersion: string | undefined;
  readonly identity: CallerIdentity;
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  readonly logLevel: LoggingLevel | undefined;
  readonly isClosed: boolean;
  notify(notification: Notification, relatedRequestId?: RequestId): void;
  drain(): Promise<void> | undefined;
  request(request: InputRequest, relatedRequestId: RequestId, options?: InputOptions): Promise<Result>;
}

/** One request of a legacy session, as the call path sees it. */
export class SessionCaller implements Caller {
  constructor(
    private readonly session: SessionCallerHost,
    private readonly requestId: RequestId,
    readonly signal: CancelSignal,
  ) {}

  get generation(): 'legacy' {
    return 'legacy';
  }

  get protocolVersion(): string | undefined {
    return this.session.protocolVersion;
  }

  get sessionId(): string {
    return this.session.id;
  }

  get transport(): 'stdio' | 'http' {
    return this.session.transportKind;
  }

  get identity(): CallerIdentity {
    return this.session.identity;
  }

  get capabilities(): Readonly<Record<string, unknown>> {
    return this.session.clientCapabilities;
  }

  get logLevel(): LoggingLevel | undefined {
    return this.session.logLevel;
  }

  get closed(): boolean {
    return this.session.isClosed;
  }

  get subscriber(): Subscriber {
    return this.session;
  }

  /** A session asks and waits within one request: there are no earlier rounds. */
  get priorApproval(): undefined {
    return undefined;
  }

  /** A session never retries: an upstream's rounds are fulfilled within its request. */
  upstreamRetry(): undefined {
    return undefined;
  }

  notify(notification: Notification): void {
    this.session.notify(notification, this.requestId);
  }

  drain(): Promise<void> | undefined {
    return this.session.drain();
  }

  /** Sends the request now and awaits the client's answer (a legacy caller never raises InputRequired). */
  input(_key: string, request: InputRequest, options?: InputOptions): Promise<Result> {
    return this.session.request(request, this.requestId, options);
  }
}
