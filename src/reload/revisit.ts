/**
 * A pending approval across a reload (docs/decisions.md): re-decided by the reloaded
 * configuration, it is denied at once when that denies it or no longer offers its tool; otherwise
 * it keeps waiting (a reload never approves). Pure: the gateway gives the lookups.
 */
import type { ReloadDenial } from '../approval/answer.js';
import type { AskContext } from '../approval/broker.js';
import type { ToolEntry } from '../catalog/catalog.js';
import type { Verdict } from '../policy/verdict.js';

/** A tool call's arguments. */
export type Arguments = Readonly<Record<string, unknown>> | undefined;

const WHILE_WAITING = 'the configuration was reloaded while the call waited for approval';

/**
 * The denial of the pending ask `ctx` under the reloaded configuration, or undefined (it keeps
 * waiting). `tool` finds a public tool in the reloaded catalog; `decide` is the caller's verdict
 * for it (every policy layer, the caller's `clients:` rules included).
 */
export function deniedAfterReload(
  ctx: AskContext,
  tool: (publicName: string) => ToolEntry | undefined,
  decide: (entry: ToolEntry, args: Arguments, ctx: AskContext) => Verdict,
): ReloadDenial | undefined {
  if (ctx.asked.kind !== 'tool') return undefined; // a network ask ends with its connection
  const { entry: asked, args } = ctx.asked;
  const entry = tool(asked.publicName);
  if (!entry || entry.upstream.name !== asked.upstream.name) return { decidedBy: 'default', reason: `${asked.publicName} is no longer offered: ${WHILE_WAITING}` };
  const verdict = decide(entry, args, ctx);
  if (verdict.decision !== 'deny') return undefined;
  return { decidedBy: verdict.decidedBy, reason: `${verdict.reason} (${WHILE_WAITING})` };
}
