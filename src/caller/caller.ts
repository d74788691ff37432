/**
 * Who is calling and how to reach them: the one view of a downstream client that the call path
 * (pipeline, approval, policy, catalog, upstream routing) has. Each downstream protocol generation
 * implements it: a 2025-11-25 session (src/downstream/sessionCaller.ts) and a stateless
 * 2026-07-28 request (src/downstream/modernCaller.ts). Nothing below `downstream/` knows a session.
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
  /**
   * True when the key names one client, so "allow for this session" may be offered and
   * remembered under it: always for a session; for a stateless caller, only with a verified
   * subject or a client-chosen session id (docs/protocol.md "Sessions").
   */
  readonly specific: boolean;
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
  /**
   * The ask is an upstream's, made during its call in flight: that call cannot run again, so a
   * stateless caller holds it open across rounds (src/downstream/modernBridge.ts) instead of
   * throwing {@link InputRequired}.
   */
  readonly fromUpstream?: boolean;
}

/**
 * Thrown by `Caller.input` of a generation that cannot hold a request open for the answer (2026:
 * the answer arrives on a new request). The generation's host (src/downstream/modern.ts) catches
 * it and answers `input_required`; on the retry the pipeline runs again and `input` finds the
 * answer. Everything before `forward` is side-effect free, so running it again is safe.
 */
export class InputRequired extends Error {
  /** The requests asked in this round, by key (`mcpgate:approval`, `mcpgate:review`, or an upstream's own keys). */
  readonly requests: Readonly<Record<string, InputRequest>>;
  /** What the next round must carry: an upstream's round (its state, sealed) and the approval already given. */
  readonly carried: CarriedRound;

  constructor(requests: Readonly<Record<string, InputRequest>>, carried: CarriedRound = {}) {
    super(`input required: ${Object.keys(requests).join(', ')}`);
    this.name = 'InputRequired';
    this.requests = requests;
    this.carried = carried;
  }
}

/** An approval given in an earlier round of the same call (a later round must not ask again). */
export interface PriorApproval {
  readonly scope: 'once' | 'session' | 'always';
  readonly by: string;
  readonly waitMs: number;
  readonly via?: string;
}

/** A modern upstream's own `input_required` round, passed through to the caller. */
export interface UpstreamRound {
  /** The upstream that asked (its retry must go back to it). */
  readonly server: string;
  /** Its `requestState`, verbatim (sealed inside mcpgate's own state: the caller never sees it). */
  readonly state?: string;
}

/** What an {@link InputRequired} carries into the state of the next round. */
export interface CarriedRound {
  readonly upstream?: UpstreamRound;
  readonly approved?: PriorApproval;
}

/** The retry of an upstream's round: what goes back to that upstream with the request. */
export interface UpstreamRetry {
  /** The client's answers to the keys the upstream asked (others dropped). */
  readonly inputResponses: Readonly<Record<string, unknown>>;
  /** The upstream's own `requestState`, byte-exact. */
  readonly requestState?: string;
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
  /** The long-lived subscriber behind this caller (legacy sessions), for `resources/subscribe`. */
  readonly subscriber: Subscriber | undefined;
  /** The approval this call got in an earlier round (a stateless retry; undefined otherwise). */
  readonly priorApproval: PriorApproval | undefined;
  /**
   * This request retries an upstream's `input_required` round: the answers and the upstream's
   * state to send back to it (undefined: not a retry of an upstream round). Throws when the
   * round was `server`'s but this request now goes elsewhere (fail closed).
   */
  upstreamRetry(server: string): UpstreamRetry | undefined;
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
export const CAPABILITY_FOR: Readonly<Record<InputMethod, 'sampling' | 'elicitation' | 'roots'>> = {
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
