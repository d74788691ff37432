/**
 * A pending approval across a reload (docs/decisions.md): re-decided by the reloaded
 * configuration, it is denied at once when that denies it or no longer offers its tool; otherwise
 * it keeps waiting (a reload never approves). A network ask likewise, by the reloaded network
 * policy of its server. Pure: the gateway gives the lookups.
 */
import type { ReloadDenial } from '../approval/answer.js';
import type { AskContext } from '../approval/broker.js';
import type { ToolEntry } from '../catalog/catalog.js';
import type { Verdict } from '../policy/verdict.js';

/** A tool call's arguments. */
export type Arguments = Readonly<Record<string, unknown>> | undefined;

const WHILE_WAITING = 'the configuration was reloaded while the call waited for approval';

/** What the reloaded configuration says, as {@link deniedAfterReload} needs it. */
export interface Reloaded {
  /** A public tool in the reloaded catalog. */
  tool(publicName: string): ToolEntry | undefined;
  /** The caller's verdict for a tool (every policy layer, the caller's `clients:` rules included). */
  decide(entry: ToolEntry, args: Arguments, ctx: AskContext): Verdict;
  /** A verdict when the reloaded network policy denies a destination now, else undefined. */
  networkDenies(server: string, host: string, port: number): Verdict | undefined;
}

/** The denial of the pending ask `ctx` under the reloaded configuration, or undefined (it keeps waiting). */
export function deniedAfterReload(ctx: AskContext, reloaded: Reloaded): ReloadDenial | undefined {
  if (ctx.asked.kind === 'network') {
    const { server, host, port } = ctx.asked;
    const verdict = reloaded.networkDenies(server, host, port);
    return verdict ? { decidedBy: verdict.decidedBy, reason: `${verdict.reason} (${WHILE_WAITING})` } : undefined;
  }
  const { tool, decide } = reloaded;
  const { entry: asked, args } = ctx.asked;
  const entry = tool(asked.publicName);
  if (!entry || entry.upstream.name !== asked.upstream.name) return { decidedBy: 'default', reason: `${asked.publicName} is no longer offered: ${WHILE_WAITING}` };
  const verdict = decide(entry, args, ctx);
  if (verdict.decision !== 'deny') return undefined;
  return { decidedBy: verdict.decidedBy, reason: `${verdict.reason} (${WHILE_WAITING})` };
}
