/**
 * What the approval stage answers for one `ask`, and the names of the ways a wait can end.
 * Pure: the broker builds these, the pipeline records them.
 */
import type { DecidedBy } from '../telemetry/events.js';
import type { Asked } from './asked.js';

/** How long an approval is remembered. */
export type ApprovalScope = 'once' | 'session' | 'always';

/** Which channel answered (recorded in the audit log as `approval_channel`). */
export type AnsweredVia = 'elicitation' | 'queue' | 'auto_review' | 'session' | 'always' | 'none';

/** The outcome of the approval stage for one call. */
export interface ApprovalAnswer {
  readonly decision: 'allow' | 'deny';
  readonly decidedBy: DecidedBy;
  readonly scope?: ApprovalScope;
  /** Shown to the agent (deny) and recorded. */
  readonly reason: string;
  readonly waitMs: number;
  readonly via: AnsweredVia;
  /** Set when the rule that allowed is not the policy's (an "always" rules-file entry). */
  readonly rule?: string;
  /** The client cancelled the call (or went away): it gets no result. */
  readonly cancelled?: boolean;
}

/** A pending ask the reloaded configuration denies: who denies it now, and why (src/reload/revisit.ts). */
export interface ReloadDenial {
  readonly decidedBy: DecidedBy;
  readonly reason: string;
}

/** Why a wait ended without an answer. */
export type WaitEnd = 'timeout' | 'cancelled' | 'disconnected' | 'shutdown' | 'reloaded';

/** Thrown into a waiting channel when its wait ends without an answer. */
export class WaitEnded extends Error {
  readonly end: WaitEnd;
  /** `reloaded`: who denies the call now, and why (the reloaded configuration's verdict). */
  readonly denial: ReloadDenial | undefined;

  constructor(end: WaitEnd, denial?: ReloadDenial) {
    super(`approval wait ended: ${end}`);
    this.name = 'WaitEnded';
    this.end = end;
    this.denial = denial;
  }
}

/** A deny answer. */
export function deny(decidedBy: ApprovalAnswer['decidedBy'], reason: string, waitMs: number, via: ApprovalAnswer['via']): ApprovalAnswer {
  return { decision: 'deny', decidedBy, reason, waitMs, via };
}

/** The answer of a wait that ended without one: every end is a deny, a cancel or disconnect also gets no result. */
export function ended(error: WaitEnded, timeoutMs: number, waitMs: number, via: ApprovalAnswer['via'], kind: Asked['kind']): ApprovalAnswer {
  const what = kind === 'network' ? 'connection' : 'call';
  switch (error.end) {
    case 'timeout':
      return deny('timeout', `no approval within ${formatSeconds(timeoutMs)} (approval.timeout): denied (fail closed)`, waitMs, via);
    case 'shutdown':
      return deny('default', `the gateway shut down while the ${what} waited for approval: denied`, waitMs, via);
    case 'reloaded':
      return deny(error.denial?.decidedBy ?? 'default', error.denial?.reason ?? 'the configuration was reloaded while it waited for approval: denied', waitMs, via);
    case 'disconnected':
      return { ...deny('user', `the client disconnected while the ${what} waited for approval`, waitMs, via), cancelled: true };
    default:
      return {
        ...deny('user', kind === 'network' ? 'the upstream closed the connection while it waited for approval' : 'the client cancelled the call while it waited for approval', waitMs, via),
        cancelled: true,
      };
  }
}

/** The reason an ask gives, starting with "approval required". */
export function askReason(reason: string): string {
  return reason.startsWith('approval required') ? reason : `approval required: ${reason}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

