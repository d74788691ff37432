/**
 * Asking the calling client's user through MCP elicitation (`elicitation/create`): the message
 * names the server, the tool, the arguments and the asking rule (and, when the arguments line
 * had to cut something, shows all the arguments below it); for a network ask: the server, the
 * destination and the tool call in flight. The form has one choice.
 */
import { z } from 'zod';
import type { ApprovalScope } from './answer.js';
import { printable, printableJson } from '../printable.js';

/** What the approval form offers (an upstream's elicitation may not offer the same: upstreamElicitation.ts). */
export const APPROVAL_CHOICES = [
  { const: 'once', title: 'Allow once' },
  { const: 'session', title: 'Allow for this session' },
  { const: 'always', title: 'Always allow' },
  { const: 'deny', title: 'Deny' },
] as const;

/** What the user answered: allow with a scope, or deny with a reason for the agent (`failed`: no answer could be had). */
export type HumanAnswer =
  | { readonly allow: true; readonly scope: ApprovalScope }
  | { readonly allow: false; readonly reason: string; readonly failed?: boolean };

/** What the message describes: a tool call … */
export interface AskedCall {
  readonly server: string;
  readonly tool: string;
  readonly publicName: string;
  /** One line (summary.ts). */
  readonly argumentSummary: string;
  /** Characters the summary line leaves out; the message then shows the full arguments. */
  readonly argumentsCut?: number;
  /** The arguments in full, secrets redacted. */
  readonly fullArguments?: unknown;
  /** Even the full arguments were cut (more than 4 MiB). */
  readonly fullTruncated?: boolean;
  readonly rule: string;
}

/** … or a connection an upstream opens through the egress proxy. */
export interface AskedConnection {
  readonly kind: 'network';
  readonly server: string;
  /** `host:port` */
  readonly destination: string;
  /** The public name and call id of the tool call in flight on that server, when one is. */
  readonly cause?: string;
  readonly rule: string;
}

/** The longest rendering of the full arguments put in a message; beyond it, head and tail. */
const MAX_FULL_IN_MESSAGE = 16_000;

const ElicitResult = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

/** The `elicitation/create` params for one ask. */
export function elicitationParams(asked: AskedCall | AskedConnection, allowAlways: boolean, allowSession = true): Record<string, unknown> {
  const choices = APPROVAL_CHOICES.filter((choice) => (allowAlways || choice.const !== 'always') && (allowSession || choice.const !== 'session'));
  return {
    mode: 'form',
    // one line each, whatever the upstream named its tool or host (summary.ts: printable)
    message:
      'kind' in asked
        ? `mcpgate: allow this network connection?\nServer: ${asked.server}\nDestination: ${printable(asked.destination)}\n` +
          `During: ${asked.cause ? printable(asked.cause) : '(no tool call in flight on this server)'}\nAsked because: ${printable(asked.rule)}`
        : `mcpgate: approve this tool call?\n` +
          `Server: ${asked.server}\nTool: ${printable(asked.tool)} (${printable(asked.publicName)})\n` +
          `Arguments: ${asked.argumentSummary}\nAsked because: ${printable(asked.rule)}` +
          fullArguments(asked),
    requestedSchema: {
      type: 'object',
      properties: {
        decision: {
          type: 'string',
          title: 'Decision',
          description: 'Allow this call once, for the rest of this session, always, or deny it',
          oneOf: choices.map((choice) => ({ ...choice })),
          default: 'once',
        },
      },
      required: ['decision'],
    },
  };
}

/**
 * When the Arguments line left something out: says how much, then the full arguments (secrets
 * redacted, as JSON whose strings cannot hold a raw line break, invisible characters escaped).
 * A rendering too long even for that keeps its head and tail and says what is missing.
 */
function fullArguments(call: AskedCall): string {
  if (!call.argumentsCut) return '';
  let json = printableJson(call.fullArguments, 2);
  let note = call.fullTruncated ? ' (long strings in them were cut to fit 4 MiB)' : '';
  if (json.length > MAX_FULL_IN_MESSAGE) {
    const head = Math.floor((MAX_FULL_IN_MESSAGE * 2) / 3);
    const tail = MAX_FULL_IN_MESSAGE - head;
    const missing = json.length - head - tail;
    json = `${json.slice(0, head)}\n…[${missing} chars cut: too long to show here; deny the call if you cannot judge it without them]…\n${json.slice(json.length - tail)}`;
    note += `, ${missing} characters of them cut in the middle`;
  }
  return `\nThe Arguments line above leaves out ${call.argumentsCut} characters (marked …[N chars cut]…). All arguments, secrets redacted${note}:\n${json}`;
}

/** Reads the client's answer; anything but accept + an allow choice is a deny with a reason. */
export function readElicitation(result: unknown, allowAlways: boolean): HumanAnswer {
  const parsed = ElicitResult.safeParse(result);
  if (!parsed.success) return { allow: false, reason: 'the approval answer was malformed: denied (fail closed)', failed: true };
  const { action, content } = parsed.data;
  if (action === 'decline') return { allow: false, reason: 'the user declined the approval request' };
  if (action === 'cancel') return { allow: false, reason: 'the user dismissed the approval request' };
  const choice = content?.decision;
  switch (choice) {
    case 'once':
    case 'session':
      return { allow: true, scope: choice };
    case 'always':
      return { allow: true, scope: allowAlways ? 'always' : 'session' };
    case 'deny':
      return { allow: false, reason: 'the user denied the call' };
    default:
      return { allow: false, reason: 'the approval answer named no choice: denied (fail closed)', failed: true };
  }
}
