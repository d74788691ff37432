/** Planning an import: server names, merged scopes, one keychain secret per value, files that load. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ErrorCodes } from '../../src/errors.js';
import type { SourceServer } from '../../src/import/model.js';
import { planImport, sanitiseName } from '../../src/import/plan.js';

const options = { format: 'Claude Code', file: '/home/me/.claude.json', schemaRef: '../schema/server.schema.json' };

function stdio(sourceName: string, extra: Partial<SourceServer> = {}, env: Record<string, string> = {}): SourceServer {
  return { sourceName, transport: { kind: 'stdio', command: 'npx', args: ['-y', sourceName], env }, enabled: true, denyTools: [], needsSecrets: [], notes: [], disabledBecause: [], ...extra };
}

describe('planImport', () => {
  it('sanitises names and resolves collisions deterministically, in source order', () => {
    expect(sanitiseName('GitHub Tools')).toBe('github-tools');
    expect(sanitiseName('@scope/Server.v2')).toBe('scope-server-v2');
    expect(sanitiseName('Ünïcödé')).toBe('unicode');
    expect(sanitiseName('***')).toBe('server');
    const plan = planImport([stdio('GitHub'), stdio('github'), stdio('git hub'), stdio('github-2')], options);
    expect(plan.servers.map((s) => s.name)).toEqual(['github', 'github-2', 'git-hub', 'github-2-2']);
    expect(plan.servers[1]?.notes[0]).toBe('named github-2: "github" was taken by an earlier server (as github)');
  });

  it('writes a server defined identically in several scopes once, naming every scope', () => {
    const plan = planImport([stdio('pw', { origin: 'project /a' }), stdio('pw', { origin: 'project /b' }), stdio('pw', { origin: 'project /c', enabled: false })], options);
    expect(plan.servers.map((s) => [s.name, s.origins])).toEqual([
      ['pw', ['project /a', 'project /b']],
      ['pw-2', ['project /c']],
    ]);
    expect(plan.servers[0]?.text).toContain('(project /a; project /b)');
  });

  it('stores one secret per distinct value and references it wherever the value appears', () => {
    const token = 'ghp_FAKEfakeFAKEfake0123456789abcdefABCD';
    const plan = planImport([stdio('a', {}, { GITHUB_TOKEN: token }), stdio('b', {}, { GH_TOKEN: token, OTHER_TOKEN: 'another-value' })], options);
    expect(plan.secrets.map((s) => [s.name, s.where, s.server])).toEqual([
      ['a/GITHUB_TOKEN', 'env.GITHUB_TOKEN', 'a'],
      ['b/OTHER_TOKEN', 'env.OTHER_TOKEN', 'b'],
    ]);
    expect(plan.servers[1]?.reused).toEqual([{ name: 'a/GITHUB_TOKEN', where: 'env.GH_TOKEN' }]);
    const b = parse(plan.servers[1]?.text ?? '') as { env: Record<string, string> };
    expect(b.env).toEqual({ GH_TOKEN: '${secret:a/GITHUB_TOKEN}', OTHER_TOKEN: '${secret:b/OTHER_TOKEN}' });
    for (const server of plan.servers) expect(server.text).not.toContain(token);
    // the values print as [REDACTED] wherever they could leak
    expect(JSON.stringify(plan.secrets)).not.toContain(token);
    expect(`${plan.secrets[0]?.value}`).toBe('[REDACTED]');
  });

  it('writes a safe default policy, the $schema line and a provenance header; source text cannot break out of a comment', () => {
    const plan = planImport([stdio('evil\nurl: https://attacker.example/', { notes: ['a\nenabled: true'] })], options);
    const text = plan.servers[0]?.text ?? '';
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/server.schema.json');
    expect(text).toContain('# Imported by `mcpgate import` from Claude Code /home/me/.claude.json, server "evil\\nurl: https://attacker.example/".');
    const parsed = parse(text) as Record<string, unknown>;
    expect(parsed.url).toBeUndefined();
    expect(parsed.enabled).toBeUndefined();
    expect(parsed.tools).toEqual({ default: 'ask' });
  });

  it('refuses, before anything is written, a server mcpgate could not load', () => {
    const remote: SourceServer = { ...stdio('api'), transport: { kind: 'url', url: 'https://${env:API_HOST}/mcp', headers: {} } };
    expect(() => planImport([remote], options)).toThrow(expect.objectContaining({ code: ErrorCodes.IMPORT_INVALID, message: expect.stringMatching(/servers\.d\/api\.yaml would not be valid: url:/) }));
  });
});
