/**
 * The approval stage: answers an `ask` with allow or deny, failing closed. What is asked is a tool
 * call or an upstream's network connection (asked.ts); both go the same way. In order: an "always"
 * entry of the approved-rules file, an approval remembered for this session, the auto-reviewer,
 * then a human (elicitation to the calling session, else the approval queue). The wait is bounded
 * by `approval.timeout` and ends early when the client cancels the call (the upstream closes the
 * connection), the session ends or the gateway shuts down — each of those is a deny with its reason.
 */
import type { ProgressToken } from '@modelcontextprotocol/sdk/types.js';
import type { ArgumentsMode } from '../audit/redact.js';
import type { ReferenceResolver } from '../secrets/resolve.js';
import type { ApprovalChannel, ApprovalConfig } from '../config/types.js';
import { elicit, InputRequired, sample, type Caller } from '../caller/caller.js';
import type { Verdict } from '../policy/verdict.js';
import type { Redactor } from '../secrets/redactor.js';
import type { Logger } from '../telemetry/logger.js';
import { CLIENT_DISCONNECTED, type CancelSignal } from '../caller/cancelSignal.js';
import { mayAnswer } from '../policy/layers.js';
import { alwaysBarrier } from './alwaysCoverage.js';
import { AlwaysRules } from './alwaysRules.js';
import { askReason, deny, ended, WaitEnded, type ApprovalAnswer, type ApprovalScope, type ReloadDenial } from './answer.js';
import { askedServer, destinationOf, memoryKey, type Asked, type AskedDestination } from './asked.js';
import { describeAsk, reviewInput, type DescribeOptions } from './describeAsk.js';
import { elicitationParams, readElicitation, type HumanAnswer } from './elicitation.js';
import { answerCommands, ApprovalQueue } from './queue.js';
import { RecentCalls } from './recentCalls.js';
import { createReviewer, webhookHeaders, type Reviewer, type SamplingRequester } from './reviewer.js';
import { SessionMemory } from './sessionMemory.js';
import { parseHost, type Host } from '../network/address.js';
import { printable } from '../printable.js';
import { messageOf } from '../errors.js';

/** One call (or connection) waiting for approval. */
export interface AskContext {
  /** Who is calling; for a network ask, the caller whose call is in flight on that server, if known. */
  readonly caller: Caller | undefined;
  readonly asked: Asked;
  readonly verdict: Verdict;
  /** Aborts when the client cancels the call (network ask: when the upstream closes the connection). */
  readonly signal: CancelSignal;
  /** The client's progress token for this call, if it gave one: a queued wait is then reported as progress. */
  readonly progressToken?: ProgressToken | undefined;
}

/** What the broker needs from the gateway. */
export interface ApprovalBrokerOptions {
  readonly config: ApprovalConfig;
  readonly configDir: string;
  /** Per-server `approval.channel` overrides. */
  readonly serverChannels: ReadonlyMap<string, ApprovalChannel>;
  readonly redactor: Redactor;
  readonly argumentsMode: ArgumentsMode;
  readonly maxArgumentBytes: number;
  readonly logger: Logger;
  /** Resolves `${env:}`/`${file:}` references in the webhook reviewer's headers. */
  readonly resolver: ReferenceResolver;
}

/** The keys of mcpgate's own questions to a caller (stable across rounds: docs/protocol.md §7.1). */
const APPROVAL_KEY = 'mcpgate:approval';
const REVIEW_KEY = 'mcpgate:review';

/** How often a client waiting on the queue hears that it still waits (when it gave a progress token). */
const PROGRESS_EVERY_MS = 5000;

/** Client requests are bounded by the approval timeout, not by the SDK's default. */
const CLIENT_REQUEST_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Answers `ask` decisions. */
export class ApprovalBroker {
  /** The session context the auto-reviewer sees; an event sink, present only with autoReview. */
  readonly recent: RecentCalls | undefined;
  readonly queue = new ApprovalQueue();
  private readonly memory: SessionMemory;
  private readonly always: AlwaysRules | undefined;
  private readonly reviewer: Reviewer | undefined;
  /** The admin endpoint that serves the queue (src/admin, opened by `serve`); without one the queue cannot be answered. */
  private admin: { readonly listening: boolean } | undefined;
  private readonly waits = new Map<string, Set<AbortController>>();
  /** Every ask waiting for an answer, by the controller that ends its wait (see `revisit`). */
  private readonly asks = new Map<AbortController, AskContext>();
  private readonly inflight = new Set<Promise<unknown>>();
  private started: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private options: ApprovalBrokerOptions) {
    const { config } = options;
    this.memory = new SessionMemory(config.sessionScope);
    if (config.allowAlways) {
      this.always = new AlwaysRules(config.rulesFile, options.configDir, (message) => options.logger.error({ file: config.rulesFile }, message));
    }
    if (config.autoReview) {
      this.reviewer = createReviewer(config.autoReview, config.autoReview.kind === 'url' ? webhookHeaders(config.autoReview, options.resolver, options.redactor) : undefined);
      this.recent = new RecentCalls(config.autoReview.recentCalls);
    }
  }

  /** The queue is answered through `admin` (src/admin/adminEndpoint.ts): asked only while it listens. */
  serveQueueAt(admin: { readonly listening: boolean }): void {
    this.admin = admin;
  }

  /**
   * A reloaded `approval` section (src/reload): `channel`, `timeout` and `allowAlways` apply to
   * the next ask; the rest (sessionScope, rulesFile, adminDir, autoReview) at the next start.
   */
  reconfigure(config: ApprovalConfig): void {
    this.options = { ...this.options, config: { ...config, sessionScope: this.options.config.sessionScope, rulesFile: this.options.config.rulesFile, adminDir: this.options.config.adminDir } };
  }

  /** How asks are described to reviewers: arguments as the audit log records them. */
  private get describeOptions(): DescribeOptions {
    const { redactor, argumentsMode, maxArgumentBytes } = this.options;
    return { redactor, argumentsMode, maxArgumentBytes, recent: this.recent };
  }

  /** Loads the approved-rules file. */
  start(): Promise<void> {
    this.started = Promise.resolve(this.always?.refresh()).then(() => undefined);
    return this.started;
  }

  /** Decides an ask; never rejects (fail closed). */
  decide(ctx: AskContext): Promise<ApprovalAnswer> {
    const decided = this.decideOnce(ctx).catch((error: unknown) => {
      if (error instanceof InputRequired) throw error; // a 2026-07-28 caller is asked in its result (src/caller/caller.ts)
      return deny('default', `approval failed: ${messageOf(error)}: denied (fail closed)`, 0, 'none');
    });
    this.inflight.add(decided);
    void decided.finally(() => this.inflight.delete(decided));
    return decided;
  }

  /** The session ended: its pending approvals are cancelled and its session approvals forgotten. */
  sessionClosed(session: string): void {
    for (const controller of this.waits.get(session) ?? []) controller.abort(new WaitEnded('disconnected'));
    this.waits.delete(session);
    this.memory.forget(session);
  }

  /**
   * After a configuration reload: each pending ask `deniedNow` returns a denial for (the new
   * configuration denies it, or no longer offers the tool) is denied at once with it; the others
   * keep waiting for their answer (a reload never approves). docs/decisions.md.
   */
  revisit(deniedNow: (ctx: AskContext) => ReloadDenial | undefined): void {
    for (const [controller, ctx] of this.asks) {
      const denial = deniedNow(ctx);
      if (denial) controller.abort(new WaitEnded('reloaded', denial));
    }
  }

  /** Denies everything pending (the gateway is stopping) and waits until those calls are answered. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const controllers of this.waits.values()) for (const controller of controllers) controller.abort(new WaitEnded('shutdown'));
    if (this.inflight.size === 0) return;
    await Promise.all([...this.inflight]);
    // let the denied results be written before the transports close
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }

  /** Denies everything pending. */
  async close(): Promise<void> {
    await this.shutdown();
  }

  private async decideOnce(ctx: AskContext): Promise<ApprovalAnswer> {
    const { caller, asked, verdict } = ctx;
    await this.started;
    const managed = (verdict.decidedBy as string) === 'managed';
    const subject = caller?.identity.authenticated?.subject;
    // The same test `mcpgate tools` shows (alwaysCoverage.ts): never a managed ask or a changed pinned tool.
    // allowAlways is read per ask: a reload (or new managed requirements) that turns it off stops honouring the file at once
    if (this.always && this.options.config.allowAlways && alwaysBarrier(verdict) === undefined) {
      const rule = await this.alwaysRule(asked, subject);
      if (rule !== undefined) return { decision: 'allow', decidedBy: 'user', scope: 'always', reason: `always allowed (${rule})`, waitMs: 0, via: 'always', rule };
    }
    const remembered = memoryKey(asked);
    if (caller && mayAnswer(verdict, 'session') && this.memory.has(caller.identity.key, remembered.name, remembered.args)) {
      return { decision: 'allow', decidedBy: 'user', scope: 'session', reason: 'allowed for this session by an earlier approval', waitMs: 0, via: 'session' };
    }
    const why = askReason(verdict.reason);
    if (this.closing) return deny('default', `${why}; the gateway is shutting down`, 0, 'none');
    const channel = this.options.serverChannels.get(askedServer(asked)) ?? this.options.config.channel;
    if (channel === 'none') return deny(verdict.decidedBy, `${why}; no approval channel is configured (approval.channel: none)`, 0, 'none');
    const human =
      caller && channel !== 'queue' && supportsFormElicitation(caller.capabilities)
        ? 'elicitation'
        : channel !== 'elicitation' && this.admin?.listening
          ? 'queue'
          : undefined;

    const started = performance.now();
    const waited = () => Math.round(performance.now() - started);
    const controller = new AbortController();
    // Waits without a session (a network ask with no call in flight) end with their connection.
    const waitKey = caller?.identity.key ?? '';
    let controllers = this.waits.get(waitKey);
    if (!controllers) this.waits.set(waitKey, (controllers = new Set()));
    controllers.add(controller);
    this.asks.set(controller, ctx);
    const timer = setTimeout(() => controller.abort(new WaitEnded('timeout')), this.options.config.timeoutMs);
    // A closing transport aborts its requests before the session hears of the close: look a
    // microtask later, so a disconnect is recorded as one rather than as a cancellation.
    // An HTTP client whose response closed is cancelled with CLIENT_DISCONNECTED: also a disconnect.
    const onCancel = () =>
      queueMicrotask(() => controller.abort(new WaitEnded(caller?.closed || ctx.signal.reason === CLIENT_DISCONNECTED ? 'disconnected' : 'cancelled')));
    ctx.signal.addEventListener('abort', onCancel);
    if (ctx.signal.aborted) onCancel();
    try {
      let escalated = '';
      // A reviewer is user configuration: it may answer the user's own asks, never a managed one (src/policy/layers.ts mayAnswer).
      if (this.reviewer && mayAnswer(verdict, 'reviewer')) {
        const review = await this.reviewer(reviewInput(ctx.asked, ctx.verdict, ctx.caller, this.describeOptions), controller.signal, this.sampler(ctx));
        if (controller.signal.aborted) throw controller.signal.reason;
        if (review.ok && review.verdict.outcome === 'approve') {
          const { risk_level, rationale } = review.verdict;
          return { decision: 'allow', decidedBy: 'auto_review', scope: 'once', reason: `approved by the auto-reviewer (risk ${risk_level}): ${rationale}`, waitMs: waited(), via: 'auto_review' };
        }
        escalated = review.ok ? `the auto-reviewer escalated (risk ${review.verdict.risk_level}): ${review.verdict.rationale}` : review.problem;
        this.options.logger.debug({ server: askedServer(asked), escalated }, 'auto-review escalated');
      }
      if (!human) {
        const none =
          channel === 'elicitation'
            ? caller
              ? 'the client does not support elicitation (approval.channel: elicitation)'
              : 'no client call is in flight on this server to ask through elicitation (approval.channel: elicitation)'
            : 'no approval channel is available (the approval queue is not running)';
        return deny(verdict.decidedBy, `${why}; ${escalated ? `${escalated}; ` : ''}${none}`, waited(), 'none');
      }
      // "Always" is the user's own allow rule, which never applies to a managed ask: not offered there.
      const allowAlways = this.options.config.allowAlways && !managed;
      const answer = human === 'elicitation' ? await this.elicit(ctx, ctx.caller as Caller, controller.signal, allowAlways) : await this.enqueue(ctx, controller.signal, allowAlways, escalated);
      if (!answer.allow) return deny(answer.failed ? 'default' : 'user', answer.reason, waited(), human);
      const scope = await this.remember(ctx, answer.scope);
      return { decision: 'allow', decidedBy: 'user', scope, reason: `approved by the user (${scope})`, waitMs: waited(), via: human };
    } catch (error) {
      if (!(error instanceof WaitEnded)) throw error;
      return ended(error, this.options.config.timeoutMs, waited(), human ?? 'none', asked.kind);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onCancel);
      controllers.delete(controller);
      this.asks.delete(controller);
      if (controllers.size === 0 && this.waits.get(waitKey) === controllers) this.waits.delete(waitKey);
    }
  }

  /** The "always allow" entry that answers this ask, as its rule text; undefined: none. */
  private async alwaysRule(asked: Asked, subject: string | undefined): Promise<string | undefined> {
    const always = this.always as AlwaysRules;
    if (asked.kind === 'network') return always.allowsNetwork(asked.server, hostOf(asked), asked.port, subject);
    const name = asked.entry.publicName;
    return (await always.allows(name, subject)) ? always.ruleText(name, subject) : undefined;
  }

  /**
   * Applies a scope; an "always" that cannot be written falls back to the session. Without a
   * session (a network ask with no call in flight) "for this session" can only mean this once.
   */
  private async remember(ctx: AskContext, scope: ApprovalScope): Promise<ApprovalScope> {
    if (scope === 'once') return scope;
    const { caller, asked } = ctx;
    if (scope === 'always' && this.always) {
      try {
        const info = caller?.identity.clientInfo ?? {};
        const authenticated = caller?.identity.authenticated;
        const who = {
          approvedAt: new Date().toISOString(),
          ...(caller ? { session: caller.identity.key } : {}),
          // authenticated: the answer is this subject's, not every user's of a shared gateway
          ...(authenticated ? { subject: authenticated.subject } : {}),
          ...(info.name ? { client: `${info.name}${info.version ? ` ${info.version}` : ''}` } : {}),
        };
        if (asked.kind === 'network') await this.always.addNetwork({ destination: destinationOf(asked), server: asked.server, ...who });
        else await this.always.add({ tool: asked.entry.publicName, server: asked.entry.upstream.name, ...who });
        return 'always';
      } catch (error) {
        this.options.logger.error({ file: this.options.config.rulesFile }, `could not persist "always allow" (kept for this session): ${messageOf(error)}`);
      }
    }
    // No session to remember it for: a network ask without a call, or a caller key naming no one client.
    if (!caller || !caller.identity.specific) return 'once';
    const remembered = memoryKey(asked);
    this.memory.remember(caller.identity.key, remembered.name, remembered.args, caller.generation === 'modern');
    return 'session';
  }

  private async elicit(ctx: AskContext, caller: Caller, signal: AbortSignal, allowAlways: boolean): Promise<HumanAnswer> {
    // A stateless caller whose key names no one client cannot hold "for this session" (docs/protocol.md §7.4).
    const params = elicitationParams(describeAsk(ctx.asked, ctx.verdict, this.options.redactor), allowAlways, caller.identity.specific);
    try {
      // A 2026-07-28 caller answers on a retry: its input() throws InputRequired, which ends this round.
      const result = await elicit(caller, APPROVAL_KEY, params as unknown as Record<string, unknown>, { signal, timeoutMs: CLIENT_REQUEST_TIMEOUT_MS });
      return readElicitation(result, allowAlways);
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      if (signal.aborted) throw signal.reason;
      return { allow: false, reason: `the approval request to the client failed (${messageOf(error)}): denied (fail closed)`, failed: true };
    }
  }

  /**
   * Says that an ask waits in the queue: one log line with the exact commands that answer it, and
   * progress notifications to a client that gave a progress token (at once, then every few seconds).
   */
  private announce(ctx: AskContext, id: string, what: string): NodeJS.Timeout | undefined {
    const { approve, deny } = answerCommands(id, this.options.configDir);
    const client = ctx.caller?.identity.clientInfo.name;
    this.options.logger.info(
      {
        approval: id,
        server: askedServer(ctx.asked),
        ...(ctx.asked.kind === 'tool' ? { tool: ctx.asked.entry.publicName } : { destination: destinationOf(ctx.asked) }),
        ...(ctx.caller ? { session: ctx.caller.identity.key } : {}),
        ...(client ? { client: printable(client) } : {}),
      },
      `approval needed for ${printable(what)}; to answer: ${approve}  (or: ${deny})`,
    );
    const token = ctx.progressToken;
    const caller = ctx.caller;
    if (token === undefined || caller === undefined) return undefined;
    const started = Date.now();
    let progress = 0;
    const tell = () =>
      caller.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: ++progress, message: `waiting for approval (${Math.round((Date.now() - started) / 1000)}s): ${approve}` },
      });
    tell();
    const ticker = setInterval(tell, PROGRESS_EVERY_MS);
    ticker.unref();
    return ticker;
  }

  private async enqueue(ctx: AskContext, signal: AbortSignal, allowAlways: boolean, escalated: string): Promise<HumanAnswer> {
    const described = describeAsk(ctx.asked, ctx.verdict, this.options.redactor);
    const info = ctx.caller?.identity.clientInfo ?? {};
    const common = {
      session: ctx.caller?.identity.key ?? '',
      client: info.name ? `${info.name}${info.version ? ` ${info.version}` : ''}` : '',
      server: described.server,
      rule: described.rule,
      ...(escalated ? { review: escalated } : {}),
    };
    const cause = ctx.asked.kind === 'network' ? ctx.asked.cause : undefined;
    let ticker: NodeJS.Timeout | undefined;
    const answer = await this.queue.wait(
      'kind' in described
        ? { ...common, kind: 'network', destination: described.destination, tool: cause?.tool ?? '', public_name: cause?.tool ?? '', arguments: '' }
        : {
            ...common,
            tool: described.tool,
            public_name: described.publicName,
            arguments: described.argumentSummary,
            ...(described.argumentsCut ? { arguments_cut: described.argumentsCut } : {}),
            arguments_full: described.fullArguments,
            ...(described.fullTruncated ? { arguments_truncated: true } : {}),
          },
      signal,
      allowAlways,
      (id) => (ticker = this.announce(ctx, id, 'kind' in described ? `a connection to ${described.destination}` : `${described.publicName}(${described.argumentSummary})`)),
    ).finally(() => clearInterval(ticker));
    if (answer.decision === 'allow') return { allow: true, scope: answer.scope };
    return { allow: false, reason: answer.reason ? `denied by an administrator: ${answer.reason}` : 'denied by an administrator' };
  }


  private sampler(ctx: AskContext): SamplingRequester | undefined {
    const caller = ctx.caller;
    if (caller?.capabilities.sampling === undefined) return undefined;
    // A stateless caller is never sent a request; review rounds over input_required are not built yet (the review escalates).
    if (caller.generation === 'modern') return () => Promise.reject(new Error('sampling a 2026-07-28 caller for the review is not supported yet'));
    return (params, signal) => sample(caller, REVIEW_KEY, params as unknown as Record<string, unknown>, { signal, timeoutMs: CLIENT_REQUEST_TIMEOUT_MS });
  }
}

/** The canonical host of a network ask (built by the proxy from a parsed host: never an error). */
function hostOf(asked: AskedDestination): Host {
  const host = parseHost(asked.host);
  return 'error' in host ? { kind: 'name', name: asked.host } : host;
}

/** Form-mode elicitation: `elicitation: {}` (the 2025-06-18 form) or `elicitation: { form: {} }`. */
function supportsFormElicitation(capabilities: Record<string, unknown>): boolean {
  const elicitation = capabilities.elicitation as Record<string, unknown> | undefined;
  if (elicitation === undefined || elicitation === null || typeof elicitation !== 'object') return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}
