/**
 * The audit report in plain words: who decided a call, how an approval was given and for how long,
 * as an auditor reads them ("approved by a person from the terminal queue, for this call only"),
 * instead of the record's codes (`decided_by: user`, `approval_channel: queue`, `scope: once`).
 * Pure.
 */

const DECIDED: Record<string, Record<string, string>> = {
  allow: {
    rule: 'allowed by a rule',
    default: 'allowed by the default decision',
    managed: 'allowed under managed requirements',
    user: 'approved by a person',
    auto_review: 'approved by the automatic reviewer',
  },
  deny: {
    rule: 'denied by a rule',
    default: 'denied: no way to ask anyone, or the gateway stopped (fail closed)',
    managed: 'denied by managed requirements',
    user: 'denied by a person (or the client cancelled)',
    auto_review: 'denied by the automatic reviewer',
    timeout: 'denied: nobody answered in time',
  },
};

/** `allowed by a rule`, `denied: nobody answered in time`… for a decision and its `decided_by`. */
export function decisionWords(decision: string, decidedBy: string): string {
  return DECIDED[decision]?.[decidedBy] ?? `${decision} (decided by ${decidedBy})`;
}

const CHANNEL: Record<string, string> = {
  queue: 'from the terminal queue (mcpgate approve)',
  elicitation: "in the agent's own prompt",
  always: 'by an earlier "always allow" answer',
  session: 'by an earlier "allow for this session" answer',
};

const SCOPE: Record<string, string> = {
  once: 'for this call only',
  session: 'for the rest of the session',
  always: 'always (an allow entry was written)',
};

/** How an allowed `ask` was approved: `approved by a person from the terminal queue, for this call only (alice)`. */
export function approvalWords(decidedBy: string, channel: string | undefined, scope: string | undefined, subject: string | undefined): string {
  const who = decidedBy === 'auto_review' ? 'approved by the automatic reviewer' : channel === 'always' || channel === 'session' ? 'allowed' : 'approved by a person';
  const how = decidedBy === 'auto_review' || channel === undefined ? '' : ` ${CHANNEL[channel] ?? `via ${channel}`}`;
  const remembered = channel === 'always' || channel === 'session';
  const long = scope === undefined || remembered ? '' : `, ${SCOPE[scope] ?? scope}`;
  return `${who}${how}${long}${subject === undefined ? '' : ` (${subject})`}`;
}
