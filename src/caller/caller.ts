/**
 * Who is calling and how to reach them: the one view of a downstream client that the call path
 * (pipeline, approval, policy, catalog, upstream routing) has. Each downstream protocol generation
 * implements it: a 2025-11-25 session (src/downstream/sessionCaller.ts) and, later, a stateless
 * 2026-07-28 request (docs/protocol.md §7.1). Nothing below `downstream/` knows a session.
 *
 * One `Caller` per downstream request: its signal, notifications and input requests belong to that
 * request. Types only, plus the small helpers every generation shares; no I/O.
 */
import type { LoggingLevel, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import type { CancelSignal } from './cancelSignal.js';

/** The verified bearer token's subject and groups (src/downstream/auth.ts). */
export interface Identity {
  readonly subject: string;
  readonly groups: readonly string[];
}

/** What a client says it is (self-reported: shown and recorded, never a basis for a security decision). */
export interface ClientInfo {
  readonly name?: string;
  readonly version?: string;
}

/** Who the caller is. */
export interface CallerIdentity {
  /** The authenticated subject and groups; absent on stdio and on listeners without `auth:`. */
  readonly authenticated: Identity | undefined;
  readonly clientInfo: ClientInfo;
  /**
   * The stable key of "this session": what "allow for this session" is remembered under, the
   * audit `session` field, the recent calls an auto-reviewer sees. A 2025 session: its session
   * id; a stateless caller: the caller key of docs/protocol.md §7.4. Never shared by two clients.
   */
  readonly key: string;
}

/** The client requests a server may make for input during a request. */
export type InputMethod = 'elicitation/create' | 'sampling/createMessage' | 'roots/list';

/** One request for input from the client. */
export interface InputRequest {
  readonly method: InputMethod;
  readonly params?: Record<string, unknown>;
}

/** How long a legacy caller waits for an answer, and what stops the wait. */
export interface InputOptions {
  readonly signal?: AbortSignal;
  /** Default: a day (the approval timeout or the upstream's own timeout bound the wait). */
  readonly timeoutMs?: number;
}

/**
 * Thrown by `Caller.input` of a generation that cannot hold a request open for the answer (2026:
 * the answer arrives on a new request). The runner (src/pipeline/runner.ts) catches it and answers
 * with `Caller.inputRequired`; on the retry the pipeline runs again and `input` finds the answer.
 */
export class InputRequired extends Error {
  /** The requests asked in this round, by key (`mcpgate:approval`, `mcpgate:review`, …). */
  readonly requests: Readonly<Record<string, InputRequest>>;

  constructor(requests: Readonly<Record<string, InputRequest>>) {
    super(`input required: ${Object.keys(requests).join(', ')}`);
    this.name = 'InputRequired';
    this.requests = requests;
  }
}

/** What the runner knows of the call that needs input (what a 2026 request state binds to). */
export interface InputRound {
  /** The gateway's call id (links the audit records of one logical call). */
  readonly call: string;
  readonly method: string;
  /** Public tool or prompt name, or resource URI. */
  readonly target: string;
  readonly arguments: Readonly<Record<string, unknown>> | undefined;
  /** `Policy.version` when the call was authorised. */
  readonly policyVersion: string;
}

/** A long-lived handle that receives `notifications/resources/updated` (2025 sessions: `resources/subscribe`). */
export interface Subscriber {
  /** The resource URIs it subscribed to. */
  readonly subscriptions: Set<string>;
  notify(notification: Notification): void;
}

/** Who is calling and how to reach them; one per downstream request. */
export interface Caller {
  /** `legacy`: 2025-11-25 and earlier (sessions); `modern`: 2026-07-28 (stateless). */
  readonly generation: 'legacy' | 'modern';
  /** The protocol revision the client speaks (legacy: negotiated in `initialize`; unknown before). */
  readonly protocolVersion: string | undefined;
  /** The MCP session id (`mcp.session.id`); absent for stateless callers. */
  readonly sessionId: string | undefined;
  readonly transport: 'stdio' | 'http';
  readonly identity: CallerIdentity;
  /** The client's capabilities: the session's (legacy) or this request's (modern). */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** The minimum level of log notifications: the session's `logging/setLevel` (legacy) or `_meta` logLevel (modern). */
  readonly logLevel: LoggingLevel | undefined;
  /** Cancellation of this request (the client cancelled it, or went away). */
  readonly signal: CancelSignal;
  /** True once the client is gone (its session or connection closed). */
  readonly closed: boolean;
  /** A request-scoped notification (progress, log): it travels with this request's answer. */
  notify(notification: Notification): void;
  /** Resolves once every notification sent so far is written (a result must not overtake them); undefined: none pending. */
  drain(): Promise<void> | undefined;
  /**
   * Input from the client (elicitation, sampling, roots) under a key stable across rounds.
   * Legacy: sends the request and awaits the answer. Modern: the answer from this request's
   * `inputResponses` when the request state says it was asked, else throws {@link InputRequired}.
   */
  input(key: string, request: InputRequest, options?: InputOptions): Promise<Result>;
  /**
   * The answer to a request whose pipeline stopped for input (modern only: legacy callers never
   * throw InputRequired, and a caller without this method fails such a call closed).
   */
  inputRequired?(required: InputRequired, round: InputRound): Promise<Result>;
  /** The long-lived subscriber behind this caller (legacy sessions), for `resources/subscribe`. */
  readonly subscriber: Subscriber | undefined;
}

const LOG_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/**
 * Whether a log message of `level` reaches this caller: at or above its level; with no level set,
 * a 2025 session hears everything and a 2026 request nothing (it asks with `_meta` logLevel).
 */
export function wantsLog(caller: Pick<Caller, 'logLevel' | 'generation'>, level: unknown): boolean {
  if (caller.logLevel === undefined) return caller.generation === 'legacy';
  return LOG_LEVELS.indexOf(level as LoggingLevel) >= LOG_LEVELS.indexOf(caller.logLevel);
}

/** The capability a client must declare before it is sent each input request. */
export const CAPABILITY_FOR: Readonly<Record<InputMethod, string>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** Asks the client to fill in a form (`elicitation/create`). */
export function elicit(caller: Caller, key: string, params: Record<string, unknown>, options?: InputOptions): Promise<Result> {
  return caller.input(key, { method: 'elicitation/create', params }, options);
}

/** Asks the client's model for a completion (`sampling/createMessage`). */
export function sample(caller: Caller, key: string, params: Record<string, unknown>, options?: InputOptions): Promise<Result> {
  return caller.input(key, { method: 'sampling/createMessage', params }, options);
}
