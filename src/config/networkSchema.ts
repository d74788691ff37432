/**
 * zod schema of the `network` section (gateway.yaml: the defaults and the egress proxy's limits;
 * servers.d/NAME.yaml: one server's own rules). Kept apart from schema.ts like authSchema.ts;
 * every rule is checked with the same parser the proxy compiles it with (src/network/rules.ts).
 */
import { z } from 'zod';
import { parseNetworkRule } from '../network/rules.js';
import type { DurationSchema as Duration } from './ruleSchema.js';

/** One network rule: `host-glob[:port]`, an IP literal or a CIDR range (`[v6]:port` for IPv6 with a port). */
export const NetworkRuleSchema = z
  .string()
  .describe('Host glob (*.example.com), IP literal or CIDR range (10.0.0.0/8, fd00::/8), with an optional :port or :low-high')
  .superRefine((text, ctx) => {
    const parsed = parseNetworkRule(text);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

const rules = {
  default: z.enum(['allow', 'ask', 'deny']).optional().describe('Decision for destinations no rule names (unset: the global default, else ask)'),
  allow: z.array(NetworkRuleSchema).default([]),
  ask: z.array(NetworkRuleSchema).default([]).describe('Destinations that need approval (same channels as tool asks)'),
  deny: z.array(NetworkRuleSchema).default([]),
};

/** servers.d `network`: the server's own rules, merged with gateway.yaml's (deny > ask > allow > default). */
export const ServerNetworkSchema = z.strictObject(rules).describe("Egress policy of this server's connections through the gateway's proxy");

/** gateway.yaml `network`: rules for every server, and the egress proxy's limits. */
export const gatewayNetworkSchema = (DurationSchema: typeof Duration) =>
  z
    .strictObject({
      ...rules,
      maxConnections: z.number().int().min(1).max(10_000).default(64).describe('Open proxied connections per server; more are refused'),
      idleTimeout: DurationSchema.default('5m').describe('Close a proxied connection with no traffic either way for this long'),
      connectTimeout: DurationSchema.default('10s').describe('Time allowed to resolve and connect to a destination'),
    })
    .default({ allow: [], ask: [], deny: [], maxConnections: 64, idleTimeout: '5m', connectTimeout: '10s' })
    .describe("Egress policy for every server's connections (merged with each server's own network section) and the proxy's limits");
