/** `${env:…}`, `${file:…}`, `${secret:…}` resolution: values substituted, errors that name but never reveal. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findReferences } from '../../src/config/references.js';
import { defaultResolver, resolveTarget } from '../../src/secrets/resolve.js';
import type { ServerConfig } from '../../src/config/types.js';
import { ErrorCodes } from '../../src/errors.js';

const SECRET = 'sk-live-0123456789abcdef';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgate-refs-'));
  await writeFile(join(dir, 'token.txt'), `${SECRET}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const server = (target: ServerConfig['target']): ServerConfig => ({
  name: 'gh', file: 'servers.d/gh.yaml', target, enabled: true, timeoutMs: 1000, startupTimeoutMs: 1000, concurrency: 1, prefix: 'gh',
  tools: { allow: [], ask: [], deny: [] },
});

describe('references', () => {
  it('substitutes env and file references anywhere in a string and returns the values', async () => {
    const resolver = defaultResolver(dir, { API_HOST: 'api.example.test', TOKEN: SECRET });
    const { target, values } = await resolveTarget(
      server({ kind: 'stdio', command: 'x', args: ['--host=${env:API_HOST}', '$${literal}'], env: { T: '${file:token.txt}', U: 'Bearer ${env:TOKEN}' }, cwd: dir }),
      resolver,
    );
    expect(target).toMatchObject({ args: ['--host=api.example.test', '${literal}'], env: { T: SECRET, U: `Bearer ${SECRET}` } });
    expect([...values].sort()).toEqual(['api.example.test', SECRET, SECRET].sort());
  });

  it('resolves url and headers of remote upstreams', async () => {
    const resolver = defaultResolver(dir, { HOST: 'mcp.example.test' });
    const { target } = await resolveTarget(server({ kind: 'http', url: 'https://${env:HOST}/mcp', headers: { Authorization: 'Bearer ${file:token.txt}' } }), resolver);
    expect(target).toEqual({ kind: 'http', url: 'https://mcp.example.test/mcp', headers: { Authorization: `Bearer ${SECRET}` } });
  });

  it('names a missing variable or file without revealing any value', async () => {
    const resolver = defaultResolver(dir, { PRESENT: SECRET });
    const missingEnv = await resolveTarget(server({ kind: 'stdio', command: 'x', args: [], env: { A: '${env:PRESENT}', B: '${env:ABSENT}' }, cwd: dir }), resolver).catch((e) => e);
    expect(missingEnv).toMatchObject({ code: ErrorCodes.REFERENCE_UNRESOLVED });
    expect(missingEnv.message).toContain('${env:ABSENT} is not set');
    expect(missingEnv.message).not.toContain(SECRET);
    const missingFile = await resolveTarget(server({ kind: 'stdio', command: 'x', args: ['${file:nope.txt}'], env: {}, cwd: dir }), resolver).catch((e) => e);
    expect(missingFile.message).toMatch(/\$\{file:nope\.txt\} cannot be read \(ENOENT\)/);
  });

  it('resolves ${secret:…} from the secret store and names a missing one with the command that sets it', async () => {
    // A fake store (a Map): the real keychain is exercised end to end in test/e2e/secrets.test.ts.
    const fakeStore = { description: 'fake store', values: new Map([['github-token', SECRET]]) };
    const store = {
      description: fakeStore.description,
      get: async (name: string) => fakeStore.values.get(name),
      set: async () => undefined,
      delete: async () => false,
      list: async () => [...fakeStore.values.keys()],
    };
    const found = await resolveTarget(server({ kind: 'stdio', command: 'x', args: [], env: { K: 'token ${secret:github-token}' }, cwd: dir }), defaultResolver(dir, {}, store));
    expect(found.target).toMatchObject({ env: { K: `token ${SECRET}` } });
    expect(found.values).toEqual([SECRET]);
    const error = await resolveTarget(server({ kind: 'stdio', command: 'x', args: [], env: { K: '${secret:absent}' }, cwd: dir }), defaultResolver(dir, {}, store)).catch((e) => e);
    expect(error).toMatchObject({ code: ErrorCodes.SECRET_NOT_FOUND });
    expect(error.message).toMatch(/server "gh": secret "absent" \(\$\{secret:absent\}\) is not in the fake store: set it with `mcpgate secrets set absent`/);
    expect(() => findReferences('${secret:bad name}')).toThrow(/invalid secret name/);
  });

  it('finds references and rejects malformed ones', () => {
    expect(findReferences('a ${env:A} b ${file:/run/secrets/x} $${not}')).toEqual([{ kind: 'env', name: 'A' }, { kind: 'file', name: '/run/secrets/x' }]);
    expect(() => findReferences('${nope:x}')).toThrow(/unknown reference/);
    expect(() => findReferences('${env:}')).toThrow(/empty reference/);
    expect(() => findReferences('${env:X')).toThrow(/unterminated/);
  });
});
