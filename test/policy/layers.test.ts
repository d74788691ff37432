/** The one combine rule of the policy layers, and the policy version. */
import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.js';
import { combine, LAYERS } from '../../src/policy/layers.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { defaultVerdict, FAIL_CLOSED_VERDICT, ruleVerdict, type Verdict } from '../../src/policy/verdict.js';

const ref = (where: string) => ({ source: 'servers.d/s.yaml', where, text: 'x' });
const userAllow = ruleVerdict('allow', ref('tools.allow[0]'), undefined);
const userAsk = ruleVerdict('ask', ref('tools.ask[0]'), undefined);
const userDeny = ruleVerdict('deny', ref('tools.deny[0]'), undefined);
const defaultDeny = defaultVerdict('deny', 'policy.default');
const managed = (decision: 'ask' | 'deny'): Verdict => ({ decision, decidedBy: 'managed', reason: `managed ${decision}` });
const pin: Verdict = { decision: 'ask', decidedBy: 'rule', reason: 'approval required: changed', humanOnly: true };
const clientAllow = ruleVerdict('allow', ref('clients[0].allow[0]'), undefined);

describe('combine: the stricter decision wins, with two traits', () => {
  it('a layer that says nothing changes nothing', () => {
    expect(combine(userAllow, undefined, LAYERS.managed)).toBe(userAllow);
  });

  it('stricter wins in every layer; looser never does', () => {
    expect(combine(userAllow, managed('deny'), LAYERS.managed)).toEqual(managed('deny'));
    expect(combine(userDeny, managed('ask'), LAYERS.managed)).toBe(userDeny);
    expect(combine(userAllow, pin, LAYERS.pins)).toBe(pin);
    expect(combine(userDeny, pin, LAYERS.pins)).toBe(userDeny);
    expect(combine(userAsk, clientAllow, LAYERS.clients)).toBe(userAsk);
  });

  it('managed and pins win ties: their ask is the one reported', () => {
    expect(combine(userAsk, managed('ask'), LAYERS.managed)).toEqual(managed('ask'));
    expect(combine(userAsk, pin, LAYERS.pins)).toBe(pin);
    expect(combine(userAsk, ruleVerdict('ask', ref('clients[0].ask[0]'), undefined), LAYERS.clients)).toBe(userAsk);
  });

  it('clients loosen a default only', () => {
    expect(combine(defaultDeny, clientAllow, LAYERS.clients)).toBe(clientAllow);
    expect(combine(defaultDeny, clientAllow, LAYERS.managed)).toBe(defaultDeny);
  });

  it('a fail-closed verdict is final, whichever side it is on', () => {
    expect(combine(FAIL_CLOSED_VERDICT, clientAllow, LAYERS.clients)).toBe(FAIL_CLOSED_VERDICT);
    expect(combine(userAllow, FAIL_CLOSED_VERDICT, LAYERS.clients)).toBe(FAIL_CLOSED_VERDICT);
  });
});

describe('policy version', () => {
  const config = (deny: string[]): Pick<GatewayConfig, 'policy' | 'servers'> => ({
    policy: { default: 'ask', allow: [], ask: [], deny: deny.map((rule, i) => ({ rule, source: 'gateway.yaml', where: `policy.deny[${i}]` })), showDenied: false },
    servers: [],
  });

  it('is a content digest: equal for equal configurations, changed by any rule change', () => {
    const a = compilePolicy(config(['*/delete_*'])).version;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(compilePolicy(config(['*/delete_*'])).version).toBe(a);
    expect(compilePolicy(config(['*/drop_*'])).version).not.toBe(a);
    expect(compilePolicy({ ...config(['*/delete_*']), clients: [{ subject: 'ci', where: 'clients[0]', policy: { allow: [], ask: [], deny: [] } }] }).version).not.toBe(a);
  });

  it('folds in the pins in force, in any order', () => {
    const policy = compilePolicy(config([]));
    expect(policy.versionWith([])).toBe(policy.version);
    expect(policy.versionWith(['a__x', 'b__y'])).toBe(policy.versionWith(['b__y', 'a__x']));
    expect(policy.versionWith(['a__x'])).not.toBe(policy.version);
  });
});
