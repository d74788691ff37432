/** The egress policy, pure: rule syntax, globs, CIDR, ports, special ranges, precedence, allowOnly, remote URLs. */
import { describe, expect, it } from 'vitest';
import type { PolicySection, SourcedRule } from '../../src/config/types.js';
import { parseHost, parseIP, type Address, type Host } from '../../src/network/address.js';
import { NetworkPolicy, type NetworkSources } from '../../src/network/policy.js';
import { covers, parseNetworkRule, type NetworkRule } from '../../src/network/rules.js';

const host = (text: string): Host => parseHost(text) as Host;
const addrs = (...texts: string[]): Address[] => texts.map((t) => parseIP(t)!);

function section(source: string, rules: { default?: 'allow' | 'ask' | 'deny'; allow?: string[]; ask?: string[]; deny?: string[] }): PolicySection {
  const list = (kind: 'allow' | 'ask' | 'deny') => (rules[kind] ?? []).map((rule, i): SourcedRule => ({ rule, source, where: `network.${kind}[${i}]` }));
  return { ...(rules.default ? { default: rules.default, defaultSource: { source, where: 'network.default' } } : {}), allow: list('allow'), ask: list('ask'), deny: list('deny') };
}

function policy(server: Parameters<typeof section>[1], global: Parameters<typeof section>[1] = {}, managed?: { deny?: string[]; allowOnly?: string[] }): NetworkPolicy {
  const sources: NetworkSources = {
    global: section('gateway.yaml', global),
    server: section('servers.d/s.yaml', server),
    ...(managed
      ? {
          managed: {
            file: '/etc/mcpgate/requirements.yaml',
            deny: (managed.deny ?? []).map((rule, i) => ({ rule, source: '/etc/mcpgate/requirements.yaml', where: `network.deny[${i}]` })),
            ...(managed.allowOnly ? { allowOnly: managed.allowOnly.map((rule, i) => ({ rule, source: '/etc/mcpgate/requirements.yaml', where: `network.allowOnly[${i}]` })) } : {}),
          },
        }
      : {}),
  };
  return new NetworkPolicy(sources);
}

const PUBLIC = '140.82.112.3';

describe('network rule syntax', () => {
  it.each([
    ['api.github.com', 'glob'],
    ['*.githubusercontent.com:443', 'glob'],
    ['registry.npmjs.org:8000-8100', 'glob'],
    ['10.1.2.0/24', 'cidr'],
    ['10.1.2.0/24:443', 'cidr'],
    ['fd00::/8', 'cidr'],
    ['[::1]:8080', 'cidr'],
    ['0x7f.1', 'cidr'],
    ['*.bücher.de', 'glob'],
  ])('%s is a %s rule', (text, kind) => {
    expect((parseNetworkRule(text) as NetworkRule).target.kind).toBe(kind);
  });

  it.each([
    ['https://api.github.com/x', 'write a host (e.g. "api.github.com"), not a URL'],
    ['api.github.com:0', 'the port must be 1..65535'],
    ['api.github.com:70000', 'the port must be 1..65535'],
    ['a.com:9-1', 'the port must be 1..65535'],
    ['10.0.0.1/8', 'host bits set'],
    ['a b.com', 'not a host glob'],
    ['[::1', 'missing "]"'],
    ['', 'empty network rule'],
  ])('%j is refused: %s', (text, message) => {
    expect((parseNetworkRule(text) as { error: string }).error).toContain(message);
  });

  it('covers: globs by text, ranges by containment, ports by range', () => {
    const r = (text: string) => parseNetworkRule(text) as NetworkRule;
    expect(covers(r('*.github.com'), r('api.github.com:443'))).toBe(true);
    expect(covers(r('api.github.com:443'), r('api.github.com'))).toBe(false);
    expect(covers(r('10.0.0.0/8'), r('10.1.2.0/24'))).toBe(true);
    expect(covers(r('10.1.2.0/24'), r('10.0.0.0/8'))).toBe(false);
    expect(covers(r('10.0.0.0/8'), r('internal.example'))).toBe(false);
    expect(covers(r('*'), r('10.1.2.3'))).toBe(true);
  });
});

describe('NetworkPolicy', () => {
  it('deny > ask > allow > default, merged across gateway.yaml and the server file', () => {
    const p = policy({ allow: ['*.example.com'], ask: ['upload.example.com'] }, { deny: ['evil.example.com'], default: 'deny' });
    expect(p.decide(host('api.example.com'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'allow', rule: { source: 'servers.d/s.yaml', where: 'network.allow[0]' } });
    expect(p.decide(host('upload.example.com'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'ask', decidedBy: 'rule' });
    expect(p.decide(host('evil.example.com'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'deny', rule: { source: 'gateway.yaml' } });
    expect(p.decide(host('other.org'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'deny', decidedBy: 'default', reason: 'deny by default (gateway.yaml network.default)' });
    expect(p.decide(host('example.com'), 443, addrs(PUBLIC)).decision).toBe('deny'); // *.x names subdomains only
  });

  it('the default is the server\'s, else gateway.yaml\'s, else ask', () => {
    expect(policy({}).decide(host('x.org'), 80, addrs(PUBLIC))).toMatchObject({ decision: 'ask', reason: 'ask by default (built-in default)' });
    expect(policy({ default: 'allow' }, { default: 'deny' }).decide(host('x.org'), 80, addrs(PUBLIC)).decision).toBe('allow');
  });

  it('ports: a rule with a port or range names only those ports', () => {
    const p = policy({ allow: ['registry.npmjs.org:443', 'dev.example.com:8000-8100'], default: 'deny' });
    expect(p.decide(host('registry.npmjs.org'), 443, addrs(PUBLIC)).decision).toBe('allow');
    expect(p.decide(host('registry.npmjs.org'), 22, addrs(PUBLIC)).decision).toBe('deny');
    expect(p.decide(host('dev.example.com'), 8080, addrs(PUBLIC)).decision).toBe('allow');
    expect(p.decide(host('dev.example.com'), 8101, addrs(PUBLIC)).decision).toBe('deny');
  });

  it('CIDR rules judge the addresses a name resolves to (deny by address, allow when every address is in range)', () => {
    const p = policy({ allow: ['140.82.112.0/20'], deny: ['140.82.127.0/24'], default: 'ask' });
    expect(p.decide(host('github.com'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'allow', reason: expect.stringContaining('github.com resolves to 140.82.112.3') });
    expect(p.decide(host('github.com'), 443, addrs(PUBLIC, '8.8.8.8')).decision).toBe('ask');
    expect(p.decide(host('x.github.com'), 443, addrs('140.82.127.9'))).toMatchObject({ decision: 'deny', reason: expect.stringContaining('x.github.com resolves to 140.82.127.9: denied by') });
  });

  it('special addresses are denied unless a rule names them explicitly (DNS rebinding: judged by the address)', () => {
    const open = policy({ default: 'allow', allow: ['*', '*.example.com', '0.0.0.0/0'] });
    expect(open.decide(host('rebind.example.com'), 80, addrs('127.0.0.1'))).toMatchObject({ decision: 'deny', decidedBy: 'default', reason: expect.stringContaining('rebind.example.com resolves to 127.0.0.1, a loopback address') });
    expect(open.decide(host('x.example.com'), 80, addrs(PUBLIC, '169.254.169.254'))).toMatchObject({ decision: 'deny', reason: expect.stringContaining('cloud metadata') });
    expect(open.decide(host('169.254.169.254'), 80, addrs('169.254.169.254')).reason).toContain('169.254.169.254 is a cloud metadata address');
    expect(open.decide(host('0x7f.1'), 80, addrs('127.0.0.1')).decision).toBe('deny');
    expect(open.decide(host('metadata.google.internal'), 80, [])).toMatchObject({ decision: 'deny', reason: expect.stringContaining('metadata.google.internal is a cloud metadata name') });
    expect(open.beforeResolving(host('metadata.google.internal'), 80)?.decision).toBe('deny'); // never even resolved
    const named = policy({ allow: ['10.1.2.0/24', 'build.internal', '[::1]:8080'], ask: ['127.0.0.4'], default: 'deny' });
    expect(named.decide(host('10.1.2.7'), 80, addrs('10.1.2.7')).decision).toBe('allow');
    expect(named.decide(host('build.internal'), 80, addrs('10.9.9.9')).decision).toBe('allow'); // an exact host names what it resolves to
    expect(named.decide(host('::1'), 8080, addrs('::1')).decision).toBe('allow');
    expect(named.decide(host('::1'), 8081, addrs('::1')).decision).toBe('deny');
    expect(named.decide(host('127.0.0.4'), 80, addrs('127.0.0.4')).decision).toBe('ask');
    expect(named.decide(host('::ffff:127.0.0.4'), 80, addrs('127.0.0.4')).decision).toBe('ask');
  });

  it('a denied name is decided before any lookup; a name that resolved to nothing is denied (fail closed)', () => {
    const p = policy({ deny: ['*.internal'], default: 'allow' });
    expect(p.beforeResolving(host('db.internal'), 5432)).toMatchObject({ decision: 'deny' });
    expect(p.beforeResolving(host('db.example.com'), 5432)).toBeUndefined();
    expect(p.decide(host('db.example.com'), 5432, [])).toMatchObject({ decision: 'deny', reason: 'the host resolved to no address: denied (fail closed)' });
  });

  it('managed denies win over every user rule; allowOnly denies anything outside it, by name or address', () => {
    const p = policy({ allow: ['*.example.com', '140.82.112.0/20'], default: 'allow' }, {}, { deny: ['secret.example.com'], allowOnly: ['*.example.com', '140.82.112.0/20'] });
    expect(p.decide(host('secret.example.com'), 443, addrs(PUBLIC))).toMatchObject({ decision: 'deny', decidedBy: 'managed', reason: 'denied by managed: /etc/mcpgate/requirements.yaml network.deny[0] (secret.example.com)' });
    expect(p.decide(host('api.example.com'), 443, addrs('8.8.8.8')).decision).toBe('allow');
    expect(p.decide(host('github.com'), 443, addrs(PUBLIC)).decision).toBe('allow'); // inside by address
    expect(p.decide(host('other.org'), 443, addrs('8.8.8.8'))).toMatchObject({ decision: 'deny', decidedBy: 'managed', reason: expect.stringContaining('outside the managed allow-list') });
    const namesOnly = policy({ default: 'allow' }, {}, { allowOnly: ['*.example.com'] });
    expect(namesOnly.beforeResolving(host('other.org'), 443)?.decidedBy).toBe('managed'); // no lookup needed
  });

  it('a remote upstream URL: named by its file (special addresses too), but every deny and allowOnly apply', () => {
    const p = policy({ deny: ['10.9.0.0/16'] }, {}, { deny: ['*.blocked.example'] });
    expect(p.checkUpstreamUrl(host('127.0.0.1'), 8080, addrs('127.0.0.1')).decision).toBe('allow');
    expect(p.checkUpstreamUrl(host('mcp.blocked.example'), 443, [])).toMatchObject({ decision: 'deny', decidedBy: 'managed' });
    expect(p.checkUpstreamUrl(host('mcp.corp'), 443, addrs('10.9.1.1'))).toMatchObject({ decision: 'deny', reason: expect.stringContaining('mcp.corp resolves to 10.9.1.1') });
  });

  it('effective() lists the rules in precedence order with where they come from', () => {
    const p = policy({ allow: ['a.com'] }, { deny: ['b.com'], default: 'deny' }, { deny: ['c.com'], allowOnly: ['a.com'] });
    expect(p.effective()).toEqual({
      default: 'deny',
      default_source: 'gateway.yaml network.default',
      deny: [
        { rule: 'c.com', source: 'managed: /etc/mcpgate/requirements.yaml network.deny[0]' },
        { rule: 'b.com', source: 'gateway.yaml network.deny[0]' },
      ],
      ask: [],
      allow: [{ rule: 'a.com', source: 'servers.d/s.yaml network.allow[0]' }],
      allow_only: [{ rule: 'a.com', source: 'managed: /etc/mcpgate/requirements.yaml network.allowOnly[0]' }],
    });
  });
});
