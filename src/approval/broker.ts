/**
 * The approval stage: answers an `ask` with allow or deny, failing closed. In order: an "always"
 * entry of the approved-rules file, an approval remembered for this session, the auto-reviewer,
 * then a human (elicitation to the calling session, else the approval queue). The wait is bounded
 * by `approval.timeout` and ends early when the client cancels the call, the session ends or the
 * gateway shuts down — each of those is a deny with its reason.
 */
import type { ProgressToken, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { recordArguments, type ArgumentsMode } from '../audit/redact.js';
import type { ToolEntry } from '../catalog/catalog.js';
import { resolveTarget, type ReferenceResolver } from '../config/references.js';
import type { ApprovalChannel, ApprovalConfig, ServerConfig } from '../config/types.js';
import type { ClientSession } from '../downstream/session.js';
import { describeRule, type Verdict } from '../policy/policy.js';
import type { Redactor } from '../secrets/redactor.js';
import type { Logger } from '../telemetry/logger.js';
import { CLIENT_DISCONNECTED, type CancelSignal } from '../upstream/cancelSignal.js';
import { AdminEndpoint } from './adminEndpoint.js';
import { alwaysBarrier } from './alwaysCoverage.js';
import { AlwaysRules } from './alwaysRules.js';
import { WaitEnded, type ApprovalAnswer, type ApprovalScope } from './answer.js';
import { elicitationParams, readElicitation, type HumanAnswer } from './elicitation.js';
import { answerCommands, ApprovalQueue } from './queue.js';
import { RecentCalls } from './recentCalls.js';
import { createReviewer, type HeaderSource, type Reviewer, type SamplingRequester } from './reviewer.js';
import { SessionMemory } from './sessionMemory.js';
import { printable, summariseArguments } from './summary.js';
import { messageOf } from '../errors.js';

/** One call waiting for approval. */
export interface AskContext {
  readonly session: ClientSession;
  readonly call: string;
  readonly entry: ToolEntry;
  readonly args: Readonly<Record<string, unknown>> | undefined;
  readonly verdict: Verdict;
  readonly signal: CancelSignal;
  readonly requestId: RequestId;
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

const PassThrough = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null);

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
  private readonly admin: AdminEndpoint | undefined;
  private readonly waits = new Map<string, Set<AbortController>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private started: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly options: ApprovalBrokerOptions) {
    const { config } = options;
    this.memory = new SessionMemory(config.sessionScope);
    if (config.allowAlways) {
      this.always = new AlwaysRules(config.rulesFile, options.configDir, (message) => options.logger.error({ file: config.rulesFile }, message));
    }
    if (config.autoReview) {
      this.reviewer = createReviewer(config.autoReview, config.autoReview.kind === 'url' ? this.webhookHeaders(config.autoReview) : undefined);
      this.recent = new RecentCalls(config.autoReview.recentCalls);
    }
    const channels = [config.channel, ...options.serverChannels.values()];
    if (channels.some((channel) => channel === 'auto' || channel === 'queue')) {
      this.admin = new AdminEndpoint({ queue: this.queue, dir: config.adminDir, configDir: options.configDir, logger: options.logger });
    }
  }

  /** The webhook's headers, references resolved on first use (and registered for redaction). */
  private webhookHeaders(review: { url: string; headers: Readonly<Record<string, string>> }): HeaderSource {
    let resolved: Promise<Readonly<Record<string, string>>> | undefined;
    const pseudo = {
      name: 'approval.autoReview',
      file: 'gateway.yaml',
      target: { kind: 'http' as const, url: review.url, headers: review.headers },
    } as unknown as ServerConfig;
    return () =>
      (resolved ??= resolveTarget(pseudo, this.options.resolver).then(({ target, values }) => {
        this.options.redactor.add(values);
        return (target as { headers: Readonly<Record<string, string>> }).headers;
      })).catch((error: unknown) => {
        resolved = undefined;
        throw error;
      });
  }

  /** Loads the approved-rules file and opens the admin endpoint (for `mcpgate approvals`). */
  start(): Promise<void> {
    this.started = Promise.all([
      this.always?.refresh(),
      this.admin?.start().catch((error: unknown) => {
        this.options.logger.error({ dir: this.options.config.adminDir }, `approval queue unavailable: ${messageOf(error)}`);
      }),
    ]).then(() => undefined);
    return this.started;
  }

  /** Decides an ask; never rejects (fail closed). */
  decide(ctx: AskContext): Promise<ApprovalAnswer> {
    const decided = this.decideOnce(ctx).catch((error: unknown) => deny('default', `approval failed: ${messageOf(error)}: denied (fail closed)`, 0, 'none'));
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

  /** Denies everything pending (the gateway is stopping) and waits until those calls are answered. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const controllers of this.waits.values()) for (const controller of controllers) controller.abort(new WaitEnded('shutdown'));
    if (this.inflight.size === 0) return;
    await Promise.all([...this.inflight]);
    // let the denied results be written before the transports close
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }

  /** Closes the admin endpoint. */
  async close(): Promise<void> {
    await this.shutdown();
    await this.admin?.close();
  }

  private async decideOnce(ctx: AskContext): Promise<ApprovalAnswer> {
    const { entry, session, args, verdict } = ctx;
    await this.started;
    const managed = (verdict.decidedBy as string) === 'managed';
    // A pinned tool whose definition changed: what was approved before was the old definition.
    const humanOnly = verdict.humanOnly === true;
    const subject = session.identity?.subject;
    // The same test `mcpgate tools` shows (alwaysCoverage.ts): never a managed ask or a changed pinned tool.
    if (this.always && alwaysBarrier(verdict) === undefined && (await this.always.allows(entry.publicName, subject))) {
      const rule = this.always.ruleText(entry.publicName, subject);
      return { decision: 'allow', decidedBy: 'user', scope: 'always', reason: `always allowed (${rule})`, waitMs: 0, via: 'always', rule };
    }
    if (!humanOnly && this.memory.has(session.id, entry.publicName, args)) {
      return { decision: 'allow', decidedBy: 'user', scope: 'session', reason: 'allowed for this session by an earlier approval', waitMs: 0, via: 'session' };
    }
    const asked = askReason(verdict.reason);
    if (this.closing) return deny('default', `${asked}; the gateway is shutting down`, 0, 'none');
    const channel = this.options.serverChannels.get(entry.upstream.name) ?? this.options.config.channel;
    if (channel === 'none') return deny(verdict.decidedBy, `${asked}; no approval channel is configured (approval.channel: none)`, 0, 'none');
    const human =
      channel !== 'queue' && supportsFormElicitation(session.clientCapabilities)
        ? 'elicitation'
        : channel !== 'elicitation' && this.admin?.listening
          ? 'queue'
          : undefined;

    const started = performance.now();
    const waited = () => Math.round(performance.now() - started);
    const controller = new AbortController();
    let controllers = this.waits.get(session.id);
    if (!controllers) this.waits.set(session.id, (controllers = new Set()));
    controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new WaitEnded('timeout')), this.options.config.timeoutMs);
    // A closing transport aborts its requests before the session hears of the close: look a
    // microtask later, so a disconnect is recorded as one rather than as a cancellation.
    // An HTTP client whose response closed is cancelled with CLIENT_DISCONNECTED: also a disconnect.
    const onCancel = () =>
      queueMicrotask(() => controller.abort(new WaitEnded(session.isClosed || ctx.signal.reason === CLIENT_DISCONNECTED ? 'disconnected' : 'cancelled')));
    ctx.signal.addEventListener('abort', onCancel);
    if (ctx.signal.aborted) onCancel();
    try {
      let escalated = '';
      // A reviewer is user configuration: it may answer the user's own asks, never a managed one.
      if (this.reviewer && !managed && !humanOnly) {
        const review = await this.reviewer(this.reviewInput(ctx), controller.signal, this.sampler(ctx));
        if (controller.signal.aborted) throw controller.signal.reason;
        if (review.ok && review.verdict.outcome === 'approve') {
          const { risk_level, rationale } = review.verdict;
          return { decision: 'allow', decidedBy: 'auto_review', scope: 'once', reason: `approved by the auto-reviewer (risk ${risk_level}): ${rationale}`, waitMs: waited(), via: 'auto_review' };
        }
        escalated = review.ok ? `the auto-reviewer escalated (risk ${review.verdict.risk_level}): ${review.verdict.rationale}` : review.problem;
        this.options.logger.debug({ tool: entry.publicName, escalated }, 'auto-review escalated');
      }
      if (!human) {
        const why =
          channel === 'elicitation'
            ? 'the client does not support elicitation (approval.channel: elicitation)'
            : 'no approval channel is available (the approval queue is not running)';
        return deny(verdict.decidedBy, `${asked}; ${escalated ? `${escalated}; ` : ''}${why}`, waited(), 'none');
      }
      // "Always" is the user's own allow rule, which never applies to a managed ask: not offered there.
      const allowAlways = this.options.config.allowAlways && !managed;
      const answer = human === 'elicitation' ? await this.elicit(ctx, controller.signal, allowAlways) : await this.enqueue(ctx, controller.signal, allowAlways);
      if (!answer.allow) return deny(answer.failed ? 'default' : 'user', answer.reason, waited(), human);
      const scope = await this.remember(ctx, answer.scope);
      return { decision: 'allow', decidedBy: 'user', scope, reason: `approved by the user (${scope})`, waitMs: waited(), via: human };
    } catch (error) {
      if (!(error instanceof WaitEnded)) throw error;
      return ended(error, this.options.config.timeoutMs, waited(), human ?? 'none');
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onCancel);
      controllers.delete(controller);
      if (controllers.size === 0 && this.waits.get(session.id) === controllers) this.waits.delete(session.id);
    }
  }

  /** Applies a scope; an "always" that cannot be written falls back to the session. */
  private async remember(ctx: AskContext, scope: ApprovalScope): Promise<ApprovalScope> {
    if (scope === 'once') return scope;
    if (scope === 'always' && this.always) {
      try {
        const info = ctx.session.clientInfo;
        await this.always.add({
          tool: ctx.entry.publicName,
          server: ctx.entry.upstream.name,
          approvedAt: new Date().toISOString(),
          session: ctx.session.id,
          // authenticated: the answer is this subject's, not every user's of a shared gateway
          ...(ctx.session.identity ? { subject: ctx.session.identity.subject } : {}),
          ...(info.name ? { client: `${info.name}${info.version ? ` ${info.version}` : ''}` } : {}),
        });
        return 'always';
      } catch (error) {
        this.options.logger.error({ file: this.options.config.rulesFile }, `could not persist "always allow" (kept for this session): ${messageOf(error)}`);
      }
    }
    this.memory.remember(ctx.session.id, ctx.entry.publicName, ctx.args);
    return 'session';
  }

  private async elicit(ctx: AskContext, signal: AbortSignal, allowAlways: boolean): Promise<HumanAnswer> {
    const params = elicitationParams(this.askedCall(ctx), allowAlways);
    try {
      const result = await ctx.session.server.request({ method: 'elicitation/create', params } as never, PassThrough, {
        signal,
        timeout: CLIENT_REQUEST_TIMEOUT_MS,
        relatedRequestId: ctx.requestId,
      });
      return readElicitation(result, allowAlways);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      return { allow: false, reason: `the approval request to the client failed (${messageOf(error)}): denied (fail closed)`, failed: true };
    }
  }

  /**
   * Makes a queued call visible: one log line with the exact commands that answer it, and, when
   * the client gave a progress token, a progress notification now and every PROGRESS_EVERY_MS
   * while it waits. Returns the timer of those notifications.
   */
  private announce(ctx: AskContext, id: string, argumentSummary: string): NodeJS.Timeout | undefined {
    const { approve, deny } = answerCommands(id, this.options.configDir);
    const client = ctx.session.clientInfo.name;
    this.options.logger.info(
      { approval: id, tool: ctx.entry.publicName, session: ctx.session.id, ...(client ? { client: printable(client) } : {}) },
      `approval needed for ${ctx.entry.publicName}(${argumentSummary}); to answer: ${approve}  (or: ${deny})`,
    );
    const token = ctx.progressToken;
    if (token === undefined) return undefined;
    const started = Date.now();
    let progress = 0;
    const tell = () =>
      ctx.session.notify(
        { method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: `waiting for approval (${Math.round((Date.now() - started) / 1000)}s): ${approve}` } },
        ctx.requestId,
      );
    tell();
    const ticker = setInterval(tell, PROGRESS_EVERY_MS);
    ticker.unref();
    return ticker;
  }

  private async enqueue(ctx: AskContext, signal: AbortSignal, allowAlways: boolean): Promise<HumanAnswer> {
    const asked = this.askedCall(ctx);
    let ticker: NodeJS.Timeout | undefined;
    const info = ctx.session.clientInfo;
    const answer = await this.queue.wait(
      {
        session: ctx.session.id,
        client: info.name ? `${info.name}${info.version ? ` ${info.version}` : ''}` : '',
        server: asked.server,
        tool: asked.tool,
        public_name: asked.publicName,
        arguments: asked.argumentSummary,
        rule: asked.rule,
      },
      signal,
      allowAlways,
      (id) => (ticker = this.announce(ctx, id, asked.argumentSummary)),
    ).finally(() => clearInterval(ticker));
    if (answer.decision === 'allow') return { allow: true, scope: answer.scope };
    return { allow: false, reason: answer.reason ? `denied by an administrator: ${answer.reason}` : 'denied by an administrator' };
  }

  private askedCall(ctx: AskContext) {
    return {
      server: ctx.entry.upstream.name,
      tool: ctx.entry.name,
      publicName: ctx.entry.publicName,
      argumentSummary: summariseArguments(ctx.args, this.options.redactor),
      rule: ctx.verdict.rule ? describeRule(ctx.verdict.rule) : ctx.verdict.reason,
    };
  }

  private reviewInput(ctx: AskContext) {
    const recorded = recordArguments(ctx.args ?? {}, this.options.argumentsMode, { maxBytes: this.options.maxArgumentBytes, redactor: this.options.redactor });
    const tool = ctx.entry.publicTool;
    return {
      server: ctx.entry.upstream.name,
      tool: ctx.entry.name,
      public_name: ctx.entry.publicName,
      ...recorded,
      // As the upstream declared them, and whether an admin vouched for them (trustAnnotations):
      // what clients are shown is filtered, and an ask is never advertised read-only.
      ...(ctx.entry.declaredAnnotations ? { annotations: ctx.entry.declaredAnnotations } : {}),
      annotations_trusted: ctx.entry.upstream.config.trustAnnotations === true,
      ...(tool.description ? { description: tool.description } : {}),
      asking_rule: ctx.verdict.rule ? describeRule(ctx.verdict.rule) : ctx.verdict.reason,
      reason: ctx.verdict.reason,
      session: { id: ctx.session.id, ...(ctx.session.clientInfo.name ? { client: ctx.session.clientInfo.name } : {}) },
      recent_calls: this.recent?.of(ctx.session.id) ?? [],
    };
  }

  private sampler(ctx: AskContext): SamplingRequester | undefined {
    if (ctx.session.clientCapabilities.sampling === undefined) return undefined;
    return (params, signal) =>
      ctx.session.server.request({ method: 'sampling/createMessage', params } as never, PassThrough, {
        signal,
        timeout: CLIENT_REQUEST_TIMEOUT_MS,
        relatedRequestId: ctx.requestId,
      });
  }
}

/** Form-mode elicitation: `elicitation: {}` (the 2025-06-18 form) or `elicitation: { form: {} }`. */
function supportsFormElicitation(capabilities: Record<string, unknown>): boolean {
  const elicitation = capabilities.elicitation as Record<string, unknown> | undefined;
  if (elicitation === undefined || elicitation === null || typeof elicitation !== 'object') return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

function deny(decidedBy: ApprovalAnswer['decidedBy'], reason: string, waitMs: number, via: ApprovalAnswer['via']): ApprovalAnswer {
  return { decision: 'deny', decidedBy, reason, waitMs, via };
}

function ended(error: WaitEnded, timeoutMs: number, waitMs: number, via: ApprovalAnswer['via']): ApprovalAnswer {
  switch (error.end) {
    case 'timeout':
      return deny('timeout', `no approval within ${formatSeconds(timeoutMs)} (approval.timeout): denied (fail closed)`, waitMs, via);
    case 'shutdown':
      return deny('default', 'the gateway shut down while the call waited for approval: denied', waitMs, via);
    case 'disconnected':
      return { ...deny('user', 'the client disconnected while the call waited for approval', waitMs, via), cancelled: true };
    default:
      return { ...deny('user', 'the client cancelled the call while it waited for approval', waitMs, via), cancelled: true };
  }
}

/** The reason an ask gives, starting with "approval required". */
export function askReason(reason: string): string {
  return reason.startsWith('approval required') ? reason : `approval required: ${reason}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

