import { describe, expect, it } from 'vitest';
import type { Decision, RuleInput } from '../../src/config/schema.js';
import type { GatewayConfig, PolicySection, ServerConfig, SourcedRule } from '../../src/config/types.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { describeRule } from '../../src/policy/verdict.js';

type Kind = 'allow' | 'ask' | 'deny';
type SectionInput = Partial<Record<Kind, RuleInput[]>> & { default?: Decision; defaultAt?: string };

/** A policy section as `loadConfig` builds it: every rule with its file and field path. */
function section(source: string, prefix: string, input: SectionInput): PolicySection {
  const sourced = (kind: Kind): SourcedRule[] =>
    (input[kind] ?? []).map((rule, i) => ({ rule, source, where: `${prefix}.${kind}[${i}]`, line: 10 + i }));
  return {
    ...(input.default ? { default: input.default } : {}),
    ...(input.default && input.defaultAt !== '' ? { defaultSource: { source, where: input.defaultAt ?? `${prefix}.default` } } : {}),
    allow: sourced('allow'),
    ask: sourced('ask'),
    deny: sourced('deny'),
  };
}

function server(name: string, tools: SectionInput = {}): ServerConfig {
  return {
    name,
    file: `servers.d/${name}.yaml`,
    target: { kind: 'stdio', command: 'true', args: [], env: {}, cwd: '/tmp' },
    enabled: true,
    timeoutMs: 60_000,
    startupTimeoutMs: 30_000,
    concurrency: 8,
    prefix: name,
    tools: section(`servers.d/${name}.yaml`, 'tools', tools),
  };
}

function config(global: SectionInput, ...servers: ServerConfig[]): Pick<GatewayConfig, 'policy' | 'servers'> {
  return { policy: { ...section('gateway.yaml', 'policy', global), showDenied: false }, servers };
}

const decide = (cfg: Pick<GatewayConfig, 'policy' | 'servers'>, srv: string, tool: string, args?: Record<string, unknown>) =>
  compilePolicy(cfg).forTool(srv, tool).decide(args);

describe('server tool globs', () => {
  const github = server('github', {
    allow: ['get_*', 'list_?', 'file.read'],
    ask: ['create_*'],
    deny: ['delete_*'],
  });
  const cfg = config({}, github);

  it.each([
    ['get_issue', 'allow', 'allowed by servers.d/github.yaml tools.allow[0] (get_*)'],
    ['list_x', 'allow', 'allowed by servers.d/github.yaml tools.allow[1] (list_?)'],
    ['file.read', 'allow', 'allowed by servers.d/github.yaml tools.allow[2] (file.read)'],
    ['create_issue', 'ask', 'approval required (servers.d/github.yaml tools.ask[0] (create_*))'],
    ['delete_repo', 'deny', 'denied by servers.d/github.yaml tools.deny[0] (delete_*)'],
  ])('%s → %s', (tool, decision, reason) => {
    const verdict = decide(cfg, 'github', tool);
    expect(verdict).toMatchObject({ decision, decidedBy: 'rule', reason });
    expect(verdict.rule?.source).toBe('servers.d/github.yaml');
  });

  it.each(['list_xy', 'list_', 'fileXread', 'getissue'])('%s matches no rule and falls to the default', (tool) => {
    expect(decide(cfg, 'github', tool)).toEqual({ decision: 'ask', decidedBy: 'default', reason: 'ask by default (built-in default)' });
  });

  it('keeps the rule line and the rule text in the explanation', () => {
    const verdict = decide(cfg, 'github', 'delete_repo');
    expect(verdict.rule).toEqual({ source: 'servers.d/github.yaml', where: 'tools.deny[0]', line: 10, text: 'delete_*' });
    expect(describeRule(verdict.rule)).toBe('servers.d/github.yaml tools.deny[0] (delete_*)');
    expect(describeRule(undefined)).toBe('default');
  });

  it('uses the rule reason for deny and ask', () => {
    const cfg2 = config({}, server('fs', { deny: [{ tool: 'rm', reason: 'never delete' }], ask: [{ tool: 'mv', reason: 'moves need a look' }] }));
    expect(decide(cfg2, 'fs', 'rm').reason).toBe('never delete');
    expect(decide(cfg2, 'fs', 'mv').reason).toBe('moves need a look');
  });
});

describe('defaults', () => {
  it('prefers the server default, naming where it was set', () => {
    const cfg = config({ default: 'deny' }, server('a', { default: 'allow' }));
    expect(decide(cfg, 'a', 'anything')).toEqual({
      decision: 'allow',
      decidedBy: 'default',
      reason: 'allow by default (servers.d/a.yaml tools.default)',
    });
  });

  it('falls back to the gateway.yaml default', () => {
    const cfg = config({ default: 'deny' }, server('a'));
    expect(decide(cfg, 'a', 'anything')).toEqual({ decision: 'deny', decidedBy: 'default', reason: 'deny by default (gateway.yaml policy.default)' });
  });

  it('is ask when nothing sets a default', () => {
    const verdict = decide(config({}, server('a')), 'a', 'anything');
    expect(verdict).toEqual({ decision: 'ask', decidedBy: 'default', reason: 'ask by default (built-in default)' });
    expect(verdict.rule).toBeUndefined();
  });

  it('names the field itself when the loader gave no provenance', () => {
    const cfg = config({ default: 'allow', defaultAt: '' }, server('a', { default: 'deny', defaultAt: '' }), server('b'));
    expect(decide(cfg, 'a', 't').reason).toBe('deny by default (servers.d/a.yaml tools.default)');
    expect(decide(cfg, 'b', 't').reason).toBe('allow by default (gateway.yaml policy.default)');
  });
});

describe('precedence: deny > ask > allow > default, across server and gateway.yaml rules', () => {
  it('a global deny beats a server allow', () => {
    const cfg = config({ deny: ['*/delete_*'] }, server('github', { allow: ['*'] }));
    expect(decide(cfg, 'github', 'delete_repo')).toMatchObject({
      decision: 'deny',
      rule: { source: 'gateway.yaml', where: 'policy.deny[0]', text: '*/delete_*' },
      reason: 'denied by gateway.yaml policy.deny[0] (*/delete_*)',
    });
    expect(decide(cfg, 'github', 'get_repo').decision).toBe('allow');
  });

  it('a server ask beats a global allow, and a server deny beats both', () => {
    const cfg = config({ allow: ['github/*'] }, server('github', { ask: ['create_*'], deny: ['create_admin'] }));
    expect(decide(cfg, 'github', 'create_issue')).toMatchObject({ decision: 'ask', rule: { where: 'tools.ask[0]' } });
    expect(decide(cfg, 'github', 'create_admin')).toMatchObject({ decision: 'deny', rule: { where: 'tools.deny[0]' } });
    expect(decide(cfg, 'github', 'get_x')).toMatchObject({ decision: 'allow', rule: { source: 'gateway.yaml', where: 'policy.allow[0]' } });
  });

  it('any matching allow beats the default, even a strict default', () => {
    const cfg = config({ default: 'deny' }, server('a', { default: 'deny', allow: ['read'] }));
    expect(decide(cfg, 'a', 'read')).toMatchObject({ decision: 'allow', decidedBy: 'rule' });
  });

  it('reports the first rule of the winning kind: server file rules first, then gateway.yaml', () => {
    const cfg = config({ deny: ['*/drop_*'] }, server('db', { deny: ['drop_*', 'drop_table'] }));
    expect(decide(cfg, 'db', 'drop_table').rule).toMatchObject({ source: 'servers.d/db.yaml', where: 'tools.deny[0]' });
    const onlyGlobal = config({ deny: ['db/x', '*/drop_*'] }, server('db'));
    expect(decide(onlyGlobal, 'db', 'drop_table').rule?.where).toBe('policy.deny[1]');
  });
});

describe('gateway.yaml server/tool globs', () => {
  const cfg = config({ deny: ['*/delete_*'], allow: ['github/*'], ask: ['write_*'] }, server('github'), server('gitlab'));

  it('applies server globs by server name', () => {
    expect(decide(cfg, 'github', 'list_issues').decision).toBe('allow');
    expect(decide(cfg, 'gitlab', 'list_issues')).toMatchObject({ decision: 'ask', decidedBy: 'default' });
  });

  it('applies */tool to every server', () => {
    expect(decide(cfg, 'gitlab', 'delete_branch').decision).toBe('deny');
  });

  it('treats a pattern without a slash as */pattern', () => {
    expect(decide(cfg, 'gitlab', 'write_file')).toMatchObject({ decision: 'ask', rule: { text: 'write_*' } });
  });

  it('splits at the first slash so tool globs may contain slashes', () => {
    const slashy = config({ deny: ['git*/refs/*'] }, server('github'));
    expect(decide(slashy, 'github', 'refs/heads').decision).toBe('deny');
    expect(decide(slashy, 'github', 'heads').decision).toBe('ask');
  });

  it('applies to a server named only by string, with no servers.d file', () => {
    expect(decide(cfg, 'elsewhere', 'delete_all').decision).toBe('deny');
    expect(decide(cfg, 'elsewhere', 'x').reason).toBe('ask by default (built-in default)');
  });
});

describe('argument conditions', () => {
  const github = server('github', {
    allow: ['*'],
    deny: [
      { tool: 'push_files', args: { branch: 'main' }, reason: 'no direct pushes to main' },
      { tool: 'push_files', args: { 'options.force': 'true', branch: 'release-*' } },
      { tool: 'update_*', args: { repo: '/^acme\\/(prod|infra)$/i' } },
      { tool: 'set_limit', args: { limit: '1??' } },
    ],
  });
  const cfg = config({}, github);

  it('denies when the argument matches the glob', () => {
    expect(decide(cfg, 'github', 'push_files', { branch: 'main' })).toMatchObject({
      decision: 'deny',
      decidedBy: 'rule',
      reason: 'no direct pushes to main',
      rule: { where: 'tools.deny[0]', text: 'push_files args{branch=main}' },
    });
    expect(decide(cfg, 'github', 'push_files', { branch: 'feature' }).decision).toBe('allow');
  });

  it('requires a full match of the glob', () => {
    expect(decide(cfg, 'github', 'push_files', { branch: 'main2' }).decision).toBe('allow');
    expect(decide(cfg, 'github', 'push_files', { branch: 'not-main' }).decision).toBe('allow');
  });

  it('walks nested paths and needs every condition to hold', () => {
    const both = { branch: 'release-2', options: { force: true } };
    expect(decide(cfg, 'github', 'push_files', both)).toMatchObject({
      decision: 'deny',
      reason: 'denied by servers.d/github.yaml tools.deny[1] (push_files args{options.force=true, branch=release-*})',
    });
    expect(decide(cfg, 'github', 'push_files', { branch: 'release-2', options: { force: false } }).decision).toBe('allow');
    expect(decide(cfg, 'github', 'push_files', { branch: 'main-ish', options: { force: true } }).decision).toBe('allow');
  });

  it('tests /regex/i patterns', () => {
    expect(decide(cfg, 'github', 'update_repo', { repo: 'ACME/Prod' }).decision).toBe('deny');
    expect(decide(cfg, 'github', 'update_repo', { repo: 'acme/production' }).decision).toBe('allow');
  });

  it('stringifies numbers', () => {
    expect(decide(cfg, 'github', 'set_limit', { limit: 150 }).decision).toBe('deny');
    expect(decide(cfg, 'github', 'set_limit', { limit: 1500 }).decision).toBe('allow');
  });

  it('does not match a missing or null value (an absent argument)', () => {
    for (const args of [{}, { branch: null }, { options: null, branch: 'release-1' }]) {
      expect(decide(cfg, 'github', 'push_files', args).decision, JSON.stringify(args)).toBe('allow');
    }
  });

  it('fails closed on an object, an array holding a match, or a non-object on the way (deny)', () => {
    expect(decide(cfg, 'github', 'push_files', { branch: { name: 'main' } })).toMatchObject({
      decision: 'deny',
      reason: 'no direct pushes to main (branch is an object, not a string: treated as matching the deny rule)',
    });
    expect(decide(cfg, 'github', 'push_files', { branch: ['dev', 'main'] })).toMatchObject({ decision: 'deny', reason: 'no direct pushes to main' });
    expect(decide(cfg, 'github', 'push_files', { options: 'x', branch: 'release-1' }).reason).toContain('options is a string, not an object: treated as matching the deny rule');
  });

  it('does not read inherited properties', () => {
    const cfg2 = config({}, server('x', { deny: [{ tool: 't', args: { 'a.constructor': '*' } }] }));
    expect(decide(cfg2, 'x', 't', { a: {} }).decision).toBe('ask');
  });

  it('is ignored for listing and for calls without arguments', () => {
    const tool = compilePolicy(cfg).forTool('github', 'push_files');
    expect(tool.conditional).toBe(true);
    expect(tool.listing).toMatchObject({ decision: 'allow', rule: { where: 'tools.allow[0]' } });
    expect(tool.decide(undefined)).toBe(tool.listing);
    expect(compilePolicy(cfg).forTool('github', 'get_issue').conditional).toBe(false);
  });

  it('reports a conditional deny written before the unconditional deny that also matches', () => {
    const cfg2 = config({ deny: ['*/push_*'] }, server('g', { deny: [{ tool: 'push_files', args: { branch: 'main' }, reason: 'main' }] }));
    const tool = compilePolicy(cfg2).forTool('g', 'push_files');
    expect(tool.listing.rule?.source).toBe('gateway.yaml');
    expect(tool.decide({ branch: 'main' }).reason).toBe('main');
    expect(tool.decide({ branch: 'dev' }).rule?.source).toBe('gateway.yaml');
  });

  it('never lets a matching conditional rule of a weaker kind beat a stronger unconditional one', () => {
    const cfg2 = config(
      { deny: ['*/push_*'] },
      server('g', { allow: [{ tool: 'push_files', args: { branch: 'dev' } }, 'read'], ask: [{ tool: 'read', args: { path: '/etc/*' } }] }),
    );
    expect(decide(cfg2, 'g', 'push_files', { branch: 'dev' })).toMatchObject({ decision: 'deny', rule: { source: 'gateway.yaml' } });
    expect(decide(cfg2, 'g', 'read', { path: '/etc/passwd' })).toMatchObject({ decision: 'ask', rule: { where: 'tools.ask[0]' } });
    expect(decide(cfg2, 'g', 'read', { path: '/home/a' })).toMatchObject({ decision: 'allow', rule: { where: 'tools.allow[1]' } });
  });

  it('lets a conditional allow lift an ask default only when it holds', () => {
    const cfg2 = config({}, server('fs', { allow: [{ tool: 'read_file', args: { path: '/srv/public/*' } }] }));
    const tool = compilePolicy(cfg2).forTool('fs', 'read_file');
    expect(tool.listing.decision).toBe('ask');
    expect(tool.decide({ path: '/srv/public/a.txt' }).decision).toBe('allow');
    expect(tool.decide({ path: '/etc/passwd' }).decision).toBe('ask');
  });

  it('fails closed on a regex that does not compile: deny holds, allow never does', () => {
    const cfg2 = config({}, server('x', { deny: [{ tool: 'd', args: { a: '/(/' } }], allow: [{ tool: 'a', args: { a: '/(/' } }] }));
    expect(decide(cfg2, 'x', 'd', { a: 'anything' }).decision).toBe('deny');
    expect(decide(cfg2, 'x', 'a', { a: 'anything' }).decision).toBe('ask');
  });

  it('fails closed when reading the arguments throws', () => {
    const hostile = Object.defineProperty({}, 'branch', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    }) as Record<string, unknown>;
    expect(decide(cfg, 'github', 'push_files', hostile)).toMatchObject({ decision: 'deny', decidedBy: 'default', reason: expect.stringMatching(/fail closed/) });
  });
});

describe('caching', () => {
  const github = server('github', { allow: ['get_*'], deny: [{ tool: 'push', args: { branch: 'main' } }] });
  const policy = compilePolicy(config({}, github));

  it('returns the same ToolPolicy for the same server and tool, by name or by config', () => {
    const first = policy.forTool(github, 'get_issue');
    expect(policy.forTool(github, 'get_issue')).toBe(first);
    expect(policy.forTool('github', 'get_issue')).toBe(first);
    expect(policy.forTool('github', 'get_pull')).not.toBe(first);
  });

  it('hands out one frozen Verdict object for unconditional decisions', () => {
    const tool = policy.forTool('github', 'get_issue');
    const verdict = tool.decide({ a: 1 });
    expect(tool.decide({ b: 2 })).toBe(verdict);
    expect(tool.decide(undefined)).toBe(verdict);
    expect(verdict).toBe(tool.listing);
    expect(Object.isFrozen(verdict)).toBe(true);
  });

  it('shares the default verdict and the rule verdicts between tools', () => {
    expect(policy.forTool('github', 'x').listing).toBe(policy.forTool('github', 'y').listing);
    expect(policy.forTool('github', 'get_a').listing).toBe(policy.forTool('github', 'get_b').listing);
  });

  it('returns cached verdicts from conditional tools too', () => {
    const tool = policy.forTool('github', 'push');
    expect(tool.decide({ branch: 'main' })).toBe(tool.decide({ branch: 'main' }));
    expect(tool.decide({ branch: 'dev' })).toBe(tool.listing);
  });

  it('uses a ServerConfig passed in even when it is not the configured one', () => {
    const other = server('github', { deny: ['*'] });
    expect(policy.forTool(other, 'get_issue').listing.decision).toBe('deny');
    expect(policy.forTool('github', 'get_issue').listing.decision).toBe('allow');
  });
});

describe('resources and prompts', () => {
  it('follow the tool default: deny denies them, allow and ask allow them', () => {
    const cfg = config({}, server('closed', { default: 'deny' }), server('open', { default: 'allow' }), server('asky', { default: 'ask' }));
    const policy = compilePolicy(cfg);
    expect(policy.content('closed').resources).toMatchObject({ decision: 'deny', decidedBy: 'default' });
    expect(policy.content('closed').resources.reason).toBe('resources denied by default, following the tool default (deny by default (servers.d/closed.yaml tools.default))');
    expect(policy.content('closed').prompts.decision).toBe('deny');
    expect(policy.content('open').resources.decision).toBe('allow');
    expect(policy.content('asky').prompts.decision).toBe('allow');
    // the global default counts when the server sets none
    expect(compilePolicy(config({ default: 'deny' }, server('x'))).content('x').resources.decision).toBe('deny');
  });

  it('a server setting wins over the default, and names itself', () => {
    const own = { ...server('notes', { default: 'deny' }), resources: 'allow' as const, prompts: 'deny' as const };
    const other = { ...server('open', { default: 'allow' }), resources: 'deny' as const };
    const policy = compilePolicy(config({}, own, other));
    expect(policy.content('notes').resources).toMatchObject({ decision: 'allow', decidedBy: 'rule', rule: { source: 'servers.d/notes.yaml', where: 'resources' } });
    expect(policy.content('notes').prompts).toMatchObject({ decision: 'deny', reason: 'prompts of notes are denied (servers.d/notes.yaml prompts: deny)' });
    expect(policy.content('open').resources.decision).toBe('deny');
  });
});
