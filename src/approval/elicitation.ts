/**
 * Asking the calling client's user through MCP elicitation (`elicitation/create`): the message
 * names the server, the tool, the arguments and the asking rule; the form has one choice.
 */
import { z } from 'zod';
import type { ApprovalScope } from './answer.js';
import { printable } from '../printable.js';

/** What the approval form offers. */
const CHOICES = [
  { const: 'once', title: 'Allow once' },
  { const: 'session', title: 'Allow for this session' },
  { const: 'always', title: 'Always allow' },
  { const: 'deny', title: 'Deny' },
] as const;

/** What the user answered: allow with a scope, or deny with a reason for the agent (`failed`: no answer could be had). */
export type HumanAnswer =
  | { readonly allow: true; readonly scope: ApprovalScope }
  | { readonly allow: false; readonly reason: string; readonly failed?: boolean };

/** What the message describes. */
export interface AskedCall {
  readonly server: string;
  readonly tool: string;
  readonly publicName: string;
  readonly argumentSummary: string;
  readonly rule: string;
}

const ElicitResult = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

/** The `elicitation/create` params for one ask. */
export function elicitationParams(call: AskedCall, allowAlways: boolean): Record<string, unknown> {
  const choices = CHOICES.filter((choice) => allowAlways || choice.const !== 'always');
  return {
    mode: 'form',
    message:
      `mcpgate: approve this tool call?\n` +
      // one line each, whatever the upstream named its tool (summary.ts: printable)
      `Server: ${call.server}\nTool: ${printable(call.tool)} (${printable(call.publicName)})\n` +
      `Arguments: ${call.argumentSummary}\nAsked because: ${printable(call.rule)}`,
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
