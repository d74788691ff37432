/** The `clients:` layer: which entries match an identity, and how client rules combine with the tool's verdict. */
import { describe, expect, it } from 'vitest';
import type { RuleInput } from '../../src/config/schema.js';
import type { ClientRuleSet, SourcedRule } from '../../src/config/types.js';
import { compileClients } from '../../src/policy/clients.js';
import { combine, LAYERS, type LayerTool } from '../../src/policy/layers.js';
import { callerPolicyOf } from '../../src/policy/policy.js';
import { defaultVerdict, FAIL_CLOSED_VERDICT, ruleVerdict, type Verdict } from '../../src/policy/verdict.js';

const ref = (where: string) => ({ source: 'servers.d/s.yaml', where, text: 'x' });
const base = {
  defaultAsk: defaultVerdict('ask', 'policy.default'),
  defaultDeny: defaultVerdict('deny', 'policy.default'),
  ruleAllow: ruleVerdict('allow', ref('tools.allow[0]'), undefined),
  ruleAsk: ruleVerdict('ask', ref('tools.ask[0]'), undefined),
  ruleDeny: ruleVerdict('deny', ref('tools.deny[0]'), 'no'),
};
const clientRef = (where: string) => ({ source: 'gateway.yaml', where, text: 'y' });
const client = {
  none: defaultVerdict('ask', undefined),
  allow: ruleVerdict('allow', clientRef('clients[0].allow[0]'), undefined),
  ask: ruleVerdict('ask', clientRef('clients[0].ask[0]'), undefined),
  deny: ruleVerdict('deny', clientRef('clients[0].deny[0]'), 'not for you'),
};

/** The clients layer's verdict folded onto the tool's with the one combine rule (a default verdict is no opinion). */
const combineVerdicts = (tool: Verdict, clientVerdict: Verdict) =>
  combine(tool, clientVerdict.decidedBy === 'default' && !clientVerdict.failClosed ? undefined : clientVerdict, LAYERS.clients);

describe('the clients layer combined (deny > ask > allow > default over both rule sets)', () => {
  const cases: Array<[keyof typeof base, keyof typeof client, Verdict]> = [
    ['defaultAsk', 'none', base.defaultAsk],
    ['defaultAsk', 'allow', client.allow],
    ['defaultDeny', 'allow', client.allow],
    ['defaultAsk', 'deny', client.deny],
    ['ruleAllow', 'allow', base.ruleAllow],
    ['ruleAllow', 'ask', client.ask],
    ['ruleAllow', 'deny', client.deny],
    ['ruleAsk', 'allow', base.ruleAsk],
    ['ruleAsk', 'deny', client.deny],
    ['ruleDeny', 'allow', base.ruleDeny],
    ['ruleDeny', 'deny', base.ruleDeny],
  ];
  for (const [b, c, expected] of cases) {
    it(`${b} + client ${c} → ${expected.decision} (${expected.rule?.where ?? 'default'})`, () => {
      expect(combineVerdicts(base[b], client[c])).toBe(expected);
    });
  }

  it('fails closed when the client rules could not be evaluated', () => {
    expect(combineVerdicts(base.ruleAllow, FAIL_CLOSED_VERDICT)).toBe(FAIL_CLOSED_VERDICT);
  });
});

function set(where: string, match: { subject?: string; group?: string }, rules: Partial<Record<'allow' | 'ask' | 'deny', RuleInput[]>>): ClientRuleSet {
  const sourced = (kind: 'allow' | 'ask' | 'deny'): SourcedRule[] => (rules[kind] ?? []).map((rule, i) => ({ rule, source: 'gateway.yaml', where: `${where}.${kind}[${i}]` }));
  return { ...match, where, policy: { allow: sourced('allow'), ask: sourced('ask'), deny: sourced('deny') } };
}

const tool = (server: string, name: string, listing: Verdict): LayerTool => ({
  upstream: { name: server },
  name,
  publicTool: { name: `${server}__${name}`, inputSchema: { type: 'object' } },
  policy: { listing, conditional: false, decide: () => listing },
});

describe('compileClients', () => {
  const directory = compileClients([
    set('clients[0]', { subject: 'alice' }, { allow: ['gh/*'] }),
    set('clients[1]', { group: 'contractors' }, { deny: ['*/delete_*', { tool: 'gh/push', args: { branch: 'main' } }] }),
    set('clients[2]', { subject: 'svc-*' }, { ask: ['gh/create_*'] }),
  ]);

  it('matches by subject glob or by any group, and not without an identity', () => {
    expect(directory.forIdentity(undefined)).toBeUndefined();
    expect(directory.forIdentity({ subject: 'bob', groups: ['staff'] })).toBeUndefined();
    expect(directory.forIdentity({ subject: 'alice', groups: [] })?.matched).toBe('clients[0]');
    expect(directory.forIdentity({ subject: 'alice', groups: ['contractors'] })?.matched).toBe('clients[0], clients[1]');
    expect(directory.forIdentity({ subject: 'svc-ci', groups: [] })?.matched).toBe('clients[2]');
    // one compiled layer per combination of matching entries
    expect(directory.forIdentity({ subject: 'alice', groups: [] })).toBe(directory.forIdentity({ subject: 'alice', groups: ['x'] }));
  });

  it('decides calls with argument conditions and filters the listing', () => {
    const rules = directory.forIdentity({ subject: 'alice', groups: ['contractors'] });
    if (!rules) throw new Error('no layer');
    const layer = callerPolicyOf(rules);
    const push = tool('gh', 'push', base.defaultAsk);
    expect(layer.decide(push, { branch: 'dev' }, base.defaultAsk)).toMatchObject({ decision: 'allow', rule: { where: 'clients[0].allow[0]' } });
    expect(layer.decide(push, { branch: 'main' }, base.defaultAsk)).toMatchObject({ decision: 'deny', rule: { where: 'clients[1].deny[1]' } });
    const entries = [push, tool('gh', 'delete_repo', base.ruleAllow), tool('other', 'read', base.defaultAsk)];
    expect(layer.listTools(entries, false).map((t) => t.name)).toEqual(['gh__push', 'other__read']);
    expect(layer.listTools(entries, false)).toBe(layer.listTools(entries, false)); // cached per entries array
    expect(layer.listTools(entries, true)).toHaveLength(3);
  });
});
