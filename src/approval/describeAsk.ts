/**
 * How an ask is put to whoever answers it: the lines a person reads (elicitation, the queue) and
 * the JSON an auto-reviewer receives, for a tool call (`kind: "tool"`) or an upstream's network
 * connection (`kind: "network"`). Pure apart from reading the caller's recent calls.
 */
import { recordArguments, type ArgumentsMode } from '../audit/redact.js';
import type { Caller } from '../caller/caller.js';
import { describeRule, type Verdict } from '../policy/verdict.js';
import type { Redactor } from '../secrets/redactor.js';
import { causeText, destinationOf, type Asked, type AskedDestination, type AskedTool } from './asked.js';
import type { AskedCall, AskedConnection } from './elicitation.js';
import type { RecentCalls } from './recentCalls.js';
import type { ReviewInput } from './reviewer.js';
import { viewArguments } from './summary.js';

/** What describing needs from the broker. */
export interface DescribeOptions {
  readonly redactor: Redactor;
  readonly argumentsMode: ArgumentsMode;
  readonly maxArgumentBytes: number;
  readonly recent: RecentCalls | undefined;
}

/** What a person is shown (elicitation message, queue entry). */
export function describeAsk(asked: Asked, verdict: Verdict, redactor: Redactor): AskedCall | AskedConnection {
  const rule = verdict.rule ? describeRule(verdict.rule) : verdict.reason;
  if (asked.kind === 'network') {
    const cause = causeText(asked);
    return { kind: 'network', server: asked.server, destination: destinationOf(asked), rule, ...(cause ? { cause } : {}) };
  }
  const view = viewArguments(asked.args, redactor);
  return {
    server: asked.entry.upstream.name,
    tool: asked.entry.name,
    publicName: asked.entry.publicName,
    argumentSummary: view.summary,
    ...(view.cut ? { argumentsCut: view.cut } : {}),
    fullArguments: view.full,
    ...(view.fullTruncated ? { fullTruncated: true } : {}),
    rule,
  };
}

/** What the auto-reviewer receives. */
export function reviewInput(asked: Asked, verdict: Verdict, caller: Caller | undefined, options: DescribeOptions): ReviewInput {
  const key = caller?.identity.key;
  const client = caller?.identity.clientInfo.name;
  const common = {
    asking_rule: verdict.rule ? describeRule(verdict.rule) : verdict.reason,
    reason: verdict.reason,
    recent_calls: key !== undefined ? (options.recent?.of(key) ?? []) : [],
  };
  const who = key !== undefined ? { id: key, ...(client ? { client } : {}) } : undefined;
  if (asked.kind === 'network') return { ...networkInput(asked), ...common, ...(who ? { session: who } : {}) };
  return { ...toolInput(asked, options), ...common, session: who ?? { id: '' } };
}

function toolInput(asked: AskedTool, options: DescribeOptions) {
  const { entry } = asked;
  const recorded = recordArguments(asked.args ?? {}, options.argumentsMode, { maxBytes: options.maxArgumentBytes, redactor: options.redactor });
  const tool = entry.publicTool;
  return {
    kind: 'tool' as const,
    server: entry.upstream.name,
    tool: entry.name,
    public_name: entry.publicName,
    ...recorded,
    // As the upstream declared them, and whether an admin vouched for them (trustAnnotations):
    // what clients are shown is filtered, and an ask is never advertised read-only.
    ...(entry.declaredAnnotations ? { annotations: entry.declaredAnnotations } : {}),
    annotations_trusted: entry.upstream.config.trustAnnotations === true,
    ...(tool.description ? { description: tool.description } : {}),
  };
}

function networkInput(asked: AskedDestination) {
  const { tool, call } = asked.cause ?? {};
  return {
    kind: 'network' as const,
    server: asked.server,
    host: asked.host,
    port: asked.port,
    destination: destinationOf(asked),
    ...(tool ? { tool } : {}),
    ...(call ? { call } : {}),
  };
}
