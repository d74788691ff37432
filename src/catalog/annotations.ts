/**
 * Tool annotations are untrusted (the MCP spec says so), and clients act on them: some skip their
 * own confirmation for read-only tools. So, unless the server file says `trustAnnotations: true`,
 * a hint is advertised only when it makes a client *more* careful:
 *   readOnlyHint   kept only when false      (true is a claim: dropped)
 *   idempotentHint kept only when false      (true is a claim: dropped)
 *   destructiveHint kept only when true      (false is a claim: dropped; absent means true)
 *   openWorldHint  kept only when true       (false is a claim: dropped; absent means true)
 * `title` and unknown keys pass. Whatever the trust, a tool that is not allowed unconditionally
 * (ask, deny shown, or argument rules) is never advertised read-only. Computed per catalog
 * rebuild, not per call.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolPolicy } from '../policy/layers.js';

/** Which value of each hint is the conservative one (the one kept from an untrusted upstream). */
const CONSERVATIVE: Readonly<Record<string, boolean>> = {
  readOnlyHint: false,
  idempotentHint: false,
  destructiveHint: true,
  openWorldHint: true,
};

/**
 * The tool as advertised to clients under its public name.
 * @example advertisedTool({ name: 'ls', inputSchema, annotations: { readOnlyHint: true } }, 'fs__ls', false, policy).annotations // undefined
 */
export function advertisedTool(tool: Tool, publicName: string, trust: boolean, policy: ToolPolicy): Tool {
  const { annotations, ...rest } = tool;
  if (!annotations) return { ...rest, name: publicName };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (trust || !(key in CONSERVATIVE) || value === CONSERVATIVE[key]) out[key] = value;
  }
  const allowedOutright = policy.listing.decision === 'allow' && !policy.conditional;
  if (!allowedOutright && out.readOnlyHint === true) out.readOnlyHint = false;
  return Object.keys(out).length ? { ...rest, name: publicName, annotations: out as Tool['annotations'] } : { ...rest, name: publicName };
}
