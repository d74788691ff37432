/**
 * Which "always allow" entries answer a tool's `ask`, and why the others do not. Pure: the broker
 * asks `alwaysBarrier` before it consults the rules file, and `mcpgate tools`/`check` use the same
 * function to show what actually runs without a person, so the two cannot drift apart.
 */
import { mayAnswer } from '../policy/layers.js';
import type { GatewayConfig } from '../config/types.js';
import type { Verdict } from '../policy/verdict.js';
import type { ApprovedEntryAt } from './approvedFile.js';

/** One entry for one tool: does it answer the tool's ask, and if not, why. */
export interface AlwaysStatus {
  readonly entry: ApprovedEntryAt;
  /** True: the tool's ask is answered "allow" (for `entry.subject`'s sessions only, when set). */
  readonly applies: boolean;
  /** Why the entry does not apply (absent when it does). */
  readonly why?: string;
}

/**
 * Why no "always" entry may answer this verdict, or undefined when one may: only a user's own
 * ask can be answered (never a deny, never a managed ask, never a changed pinned tool).
 * @example alwaysBarrier({ decision: 'ask', decidedBy: 'managed', reason: '…' }) // 'a managed ask …'
 */
export function alwaysBarrier(verdict: Verdict): string | undefined {
  if (verdict.decision === 'deny') return 'the tool is denied, and "always" only answers an ask';
  if (verdict.decision === 'allow') return 'not needed: the tool is allowed without asking';
  if (mayAnswer(verdict, 'always')) return undefined;
  if (verdict.decidedBy === 'managed') return 'a managed ask (requirements file) is never answered by "always"';
  if (verdict.humanOnly) return `only a person may answer this ask (${verdict.reason.replace(/^approval required: /, '')})`;
  return undefined;
}

/**
 * Why "always" entries are not honoured at all in this configuration, or undefined when they are.
 * @example alwaysOff(config) // 'the managed requirements forbid "always" approvals (approval.allowAlways: false)'
 */
export function alwaysOff(config: Pick<GatewayConfig, 'approval' | 'requirements'>): string | undefined {
  if (config.approval.allowAlways) return undefined;
  return config.requirements?.approval.allowAlways === false
    ? `the managed requirements forbid "always" approvals (${config.requirements.file} approval.allowAlways: false)`
    : '"always" approvals are off (gateway.yaml approval.allowAlways: false)';
}

/**
 * The status of every entry naming `publicName`, given the tool's verdict and `alwaysOff`.
 * @example alwaysCoverage('x__y', askVerdict, entries, undefined)[0]?.applies // true
 */
export function alwaysCoverage(publicName: string, verdict: Verdict, entries: readonly ApprovedEntryAt[], off: string | undefined): AlwaysStatus[] {
  const why = off ?? alwaysBarrier(verdict);
  return entries.filter((entry) => entry.tool === publicName).map((entry) => (why === undefined ? { entry, applies: true } : { entry, applies: false, why }));
}
