import { describe, expect, it } from 'vitest';
import type { GatewayConfig, PolicySection, SourcedRule } from '../../src/config/types.js';
import { compileManagedRules } from '../../src/policy/managed.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { compileUserRules } from '../../src/policy/userRules.js';
import type { ManagedRequirements } from '../../src/requirements/types.js';

const FILE = '/etc/mcpgate/requirements.yaml';
const sourced = (rules: SourcedRule['rule'][], source: string, prefix: string): SourcedRule[] => rules.map((rule, i) => ({ rule, source, where: `${prefix}[${i}]` }));

const user: Pick<GatewayConfig, 'policy' | 'servers'> = {
  policy: { allow: sourced(['*/get_*'], 'gateway.yaml', 'policy.allow'), ask: [], deny: sourced(['*/drop_*'], 'gateway.yaml', 'policy.deny'), showDenied: false },
  servers: [
    {
      name: 'db',
      file: 'servers.d/db.yaml',
      target: { kind: 'stdio', command: 'db-mcp', args: [], env: {}, cwd: '/tmp' },
      enabled: true,
      timeoutMs: 1000,
      startupTimeoutMs: 1000,
      concurrency: 1,
      prefix: 'db',
      tools: { default: 'allow', defaultSource: { source: 'servers.d/db.yaml', where: 'tools.default' }, allow: sourced(['query', 'delete_row'], 'servers.d/db.yaml', 'tools.allow'), ask: [], deny: [] },
    },
  ],
};

const managedRules: PolicySection = {
  allow: [],
  deny: sourced([{ tool: 'db/delete_*', reason: 'IT forbids deletes' }, { tool: 'db/query', args: { sql: '/\\bdrop\\b/i' } }], FILE, 'rules'),
  ask: sourced(['db/export_*', '*/get_secrets'], FILE, 'rules.ask'),
};
const requirements: ManagedRequirements = { file: FILE, text: '', rules: managedRules, approval: {}, audit: {} };
const base = compilePolicy(user);
/** The engine over the user rules with `managed` as the requirements. */
const withManagedRules = (managed: ManagedRequirements | undefined) => compilePolicy({ ...user, requirements: managed });
const policy = withManagedRules(requirements);

describe('managed rules above the user policy', () => {
  it('a managed deny beats a user allow rule and says what it overrode', () => {
    const listing = policy.forTool('db', 'delete_row').listing;
    expect(listing).toMatchObject({ decision: 'deny', decidedBy: 'managed', reason: 'IT forbids deletes', overrides: 'servers.d/db.yaml tools.allow[1] (delete_row) allow' });
    expect(listing.rule).toMatchObject({ source: FILE, where: 'rules[0]' });
  });

  it('a managed ask beats a user allow default and a global allow', () => {
    expect(policy.forTool('db', 'export_all').listing).toMatchObject({ decision: 'ask', decidedBy: 'managed', overrides: 'default allow' });
    expect(policy.forTool('db', 'get_secrets').listing).toMatchObject({ decision: 'ask', decidedBy: 'managed', overrides: 'gateway.yaml policy.allow[0] (*/get_*) allow' });
  });

  it('a user deny still denies (the managed ask cannot loosen it)', () => {
    const strict = withManagedRules({ ...requirements, rules: { allow: [], deny: [], ask: sourced(['*/drop_*'], FILE, 'rules') } });
    // equally strict or stricter: the user's deny stands; managed ask is looser than deny
    expect(strict.forTool('db', 'drop_table').listing).toMatchObject({ decision: 'deny', decidedBy: 'rule' });
  });

  it('tools no managed rule names keep the user policy itself (nothing added to their calls)', () => {
    expect(policy.forTool('db', 'get_rows').listing).toEqual(base.forTool('db', 'get_rows').listing); // the user layer's verdict, nothing folded in
    expect(policy.forTool('db', 'get_rows').listing).toMatchObject({ decision: 'allow', decidedBy: 'rule' });
  });

  it('managed argument conditions decide per call, and only tighten', () => {
    const query = policy.forTool('db', 'query');
    expect(query.conditional).toBe(true);
    expect(query.listing.decision).toBe('allow');
    expect(query.decide({ sql: 'select 1' })).toMatchObject({ decision: 'allow', decidedBy: 'rule' });
    expect(query.decide({ sql: 'DROP TABLE users' })).toMatchObject({ decision: 'deny', decidedBy: 'managed' });
    expect(query.decide(undefined).decision).toBe('allow');
  });

  it('is the user policy itself when the requirements have no rules', () => {
    expect(compileManagedRules(undefined)).toBeUndefined();
    expect(compileManagedRules({ ...requirements, rules: { allow: [], ask: [], deny: [] } })).toBeUndefined();
    expect(withManagedRules(undefined).forTool('db', 'query').listing).toEqual(compileUserRules(user).forTool('db', 'query').listing);
  });
});

describe('managed rules: fail closed, resources and prompts', () => {
  it('a managed condition that cannot judge a value matches, and says so', () => {
    const verdict = policy.forTool('db', 'query').decide({ sql: { text: 'DROP TABLE users' } });
    expect(verdict).toMatchObject({ decision: 'deny', decidedBy: 'managed' });
    expect(verdict.reason).toContain('sql is an object, not a string: treated as matching the deny rule');
    expect(policy.forTool('db', 'query').decide({ sql: ['select 1', 'drop table x'] }).decision).toBe('deny');
  });

  it('resources.deny / prompts.deny deny a server whose own settings allow them', () => {
    expect(base.content('db')).toMatchObject({ resources: { decision: 'allow', decidedBy: 'default' }, prompts: { decision: 'allow' } });
    const managed = withManagedRules({ ...requirements, content: { resources: ['d*'], prompts: [] } });
    expect(managed.content('db').resources).toMatchObject({ decision: 'deny', decidedBy: 'managed', rule: { source: FILE, where: 'resources.deny[0]', text: 'd*' } });
    expect(managed.content('db').prompts).toMatchObject({ decision: 'allow' });
    expect(managed.content('other').resources.decision).toBe('allow'); // no server file: the built-in ask default allows them
  });
});
