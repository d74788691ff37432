/**
 * What the approval stage answers for one `ask`, and the names of the ways a wait can end.
 * Pure data: the broker builds these, the pipeline records them.
 */
import type { DecidedBy } from '../telemetry/events.js';

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

/** Why a wait ended without an answer. */
export type WaitEnd = 'timeout' | 'cancelled' | 'disconnected' | 'shutdown' | 'reloaded';

/** Thrown into a waiting channel when its wait ends without an answer. */
export class WaitEnded extends Error {
  readonly end: WaitEnd;
  /** `reloaded`: who denies the call now, and why (the reloaded configuration's verdict). */
  readonly denial: { readonly decidedBy: DecidedBy; readonly reason: string } | undefined;

  constructor(end: WaitEnd, denial?: { readonly decidedBy: DecidedBy; readonly reason: string }) {
    super(`approval wait ended: ${end}`);
    this.name = 'WaitEnded';
    this.end = end;
    this.denial = denial;
  }
}
