/**
 * The managed layer's network part applied to a loaded configuration (pure). A user `allow`
 * rule outside `network.allowOnly` is refused (an error naming file:line, and left out of the
 * running policy, which is then only stricter); every user rule or default a managed rule
 * overrides is named in a warning, for `mcpgate check`.
 */
import type { ConfigProblem, PolicySection, ServerConfig, SourcedRule } from '../config/types.js';
import { compileNetworkRules, covers, type NetworkRule } from '../network/rules.js';
import type { ManagedRequirements } from './types.js';

/** The sections with refused rules left out, and the problems that say what was refused or overridden. */
export interface NetworkApplied {
  readonly servers: ServerConfig[];
  readonly global: PolicySection;
  readonly problems: ConfigProblem[];
}

/** Applies managed `network.deny` / `network.allowOnly` to the servers' and gateway.yaml's network sections. */
export function applyNetworkRequirements<G extends PolicySection>(servers: readonly ServerConfig[], global: G, requirements: ManagedRequirements): NetworkApplied & { global: G } {
  const problems: ConfigProblem[] = [];
  const managed = requirements.network ?? { deny: [] };
  const deny = compileNetworkRules(managed.deny.map((r) => r.rule as string));
  const allowOnly = managed.allowOnly ? compileNetworkRules(managed.allowOnly.map((r) => r.rule as string)) : undefined;
  const file = requirements.file;
  const capText = managed.allowOnly?.map((r) => r.rule as string).join(', ') ?? '';
  const section = <S extends PolicySection>(policy: S, source: string): S => {
    const kept = (kind: 'allow' | 'ask') =>
      policy[kind].filter((sourced) => {
        const rule = compileNetworkRules([sourced.rule as string])[0] as NetworkRule;
        deny.forEach((d, i) => {
          if (overlaps(d, rule)) problems.push(at(sourced, source, 'warning', `managed: ${file} network.deny[${i}] (${d.text}) overrides this ${kind} rule (${rule.text}) for the destinations both name`));
        });
        if (!allowOnly || allowOnly.some((cap) => covers(cap, rule))) return true;
        if (kind === 'ask') {
          problems.push(at(sourced, source, 'warning', `ask rule "${rule.text}" is outside the managed allow-list (${file} network.allowOnly: ${capText}): those destinations are denied, never asked`));
          return true;
        }
        // An error for `check` (exit 1), but the server keeps serving: without the rule it is only stricter.
        problems.push(at(sourced, source, 'error', `allow rule "${rule.text}" refused: it is outside the managed allow-list (${file} network.allowOnly: ${capText}); remove it or ask the administrator`));
        return false;
      });
    const allow = kept('allow');
    const ask = kept('ask');
    if (allowOnly && policy.default !== undefined && policy.default !== 'deny') {
      problems.push({
        file: source,
        field: policy.defaultSource?.where ?? 'network.default',
        severity: 'warning',
        message: `default ${policy.default} applies only inside the managed allow-list (${file} network.allowOnly: ${capText}); other destinations are denied`,
      });
    }
    return { ...policy, allow, ask };
  };
  const capped = servers.map((server) => (server.network ? { ...server, network: section(server.network, server.file) } : server));
  return { servers: capped, global: section(global, 'gateway.yaml'), problems };
}

function at(rule: SourcedRule, file: string, severity: 'error' | 'warning', message: string): ConfigProblem {
  return { file, ...(rule.line === undefined ? {} : { line: rule.line }), field: rule.where, message, severity };
}

/** Two rules may name a common destination (approximate, like the tool rules' overlap check). */
function overlaps(a: NetworkRule, b: NetworkRule): boolean {
  const ports = (r: NetworkRule) => r.ports ?? [0, 65535];
  const [a0, a1] = ports(a);
  const [b0, b1] = ports(b);
  if (a1 < b0 || b1 < a0) return false;
  const anyPort = (r: NetworkRule): NetworkRule => {
    const { ports: _ignored, ...rest } = r;
    return rest;
  };
  return covers(anyPort(a), anyPort(b)) || covers(anyPort(b), anyPort(a));
}
