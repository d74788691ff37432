/** BearerAuth on its own: key material from references (PEM file, HMAC), verification, caching, metadata. */
import type { IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultResolver } from '../../src/secrets/resolve.js';
import type { AuthConfig } from '../../src/config/types.js';
import { BearerAuth, isLoopbackHost } from '../../src/downstream/auth.js';
import { ErrorCodes } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgate-auth-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const base = (key: AuthConfig['key'], algorithms: string[]): AuthConfig => ({
  issuer: 'https://idp.test',
  audience: ['gw'],
  key,
  algorithms,
  clockToleranceSec: 0,
  subjectClaim: 'sub',
  groupsClaim: 'roles',
  authorizationServers: ['https://idp.test'],
  scopes: ['mcp'],
});
const request = (token?: string, host = '127.0.0.1:8848') => ({ headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) } }) as unknown as IncomingMessage;

describe('BearerAuth', () => {
  it('verifies ES256 tokens against a PEM public key read through ${file:}, with custom claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    await writeFile(join(dir, 'issuer.pem'), await exportSPKI(publicKey));
    const auth = await BearerAuth.create(base({ kind: 'publicKey', value: '${file:issuer.pem}' }, ['ES256']), defaultResolver(dir, {}));
    const token = await new SignJWT({ roles: 'admin' }).setProtectedHeader({ alg: 'ES256' }).setSubject('dave').setIssuer('https://idp.test').setAudience('gw').setExpirationTime('1m').sign(privateKey);
    const result = await auth.authenticate(request(token));
    expect(result).toEqual({ ok: true, identity: { subject: 'dave', groups: ['admin'] } });
    // the second request is answered from the cache (same frozen identity object)
    const again = await auth.authenticate(request(token));
    expect(again.ok && result.ok && again.identity === result.identity).toBe(true);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('dave').setIssuer('https://idp.test').setAudience('gw').sign(privateKey);
    expect(await auth.authenticate(request(noExp))).toMatchObject({ ok: false, error: 'invalid_token' });
    expect(await auth.authenticate(request('not-a-jwt'))).toMatchObject({ ok: false, error: 'invalid_token', description: 'the token is malformed' });
    expect(await auth.authenticate({ headers: { authorization: 'Basic abc' } } as unknown as IncomingMessage)).toMatchObject({ ok: false, error: 'invalid_request' });
  });

  it('a cached token is refused once it is older than maxTokenAge', async () => {
    const auth = await BearerAuth.create({ ...base({ kind: 'secret', value: '${env:KEY}' }, ['HS256']), maxTokenAgeSec: 2 }, defaultResolver(dir, { KEY: 'k'.repeat(40) }));
    const iat = Math.floor(Date.now() / 1000) - 1;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('erin').setIssuer('https://idp.test').setAudience('gw').setIssuedAt(iat).setExpirationTime('1h').sign(new TextEncoder().encode('k'.repeat(40)));
    expect(await auth.authenticate(request(token))).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, (iat + 3) * 1000 + 200 - Date.now()));
    expect(await auth.authenticate(request(token))).toMatchObject({ ok: false, error: 'invalid_token' });
  });

  it('serves metadata and challenges that point at it', async () => {
    const auth = await BearerAuth.create(base({ kind: 'secret', value: '${env:KEY}' }, ['HS256']), defaultResolver(dir, { KEY: 'k'.repeat(40) }));
    expect(auth.metadata(request(undefined, 'gw.example:9000'))).toEqual({
      resource: 'http://gw.example:9000/mcp',
      authorization_servers: ['https://idp.test'],
      bearer_methods_supported: ['header'],
      resource_name: 'mcpgate',
      scopes_supported: ['mcp'],
    });
    expect(auth.challenge(request(), { ok: false, status: 401, description: 'a bearer token is required' })).toBe(
      'Bearer resource_metadata="http://127.0.0.1:8848/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it('refuses unusable key material with a clear error and never echoes a value', async () => {
    const short = await BearerAuth.create(base({ kind: 'secret', value: '${env:KEY}' }, ['HS256']), defaultResolver(dir, { KEY: 'short-key' })).catch((e) => e);
    expect(short).toMatchObject({ code: ErrorCodes.AUTH_CONFIG_INVALID });
    expect(short.message).not.toContain('short-key');
    await writeFile(join(dir, 'bad.pem'), 'not a key');
    const pem = await BearerAuth.create(base({ kind: 'publicKey', value: '${file:bad.pem}' }, ['RS256']), defaultResolver(dir, {})).catch((e) => e);
    expect(pem).toMatchObject({ code: ErrorCodes.AUTH_CONFIG_INVALID });
    const unset = await BearerAuth.create(base({ kind: 'secret', value: '${env:NOPE}' }, ['HS256']), defaultResolver(dir, {})).catch((e) => e);
    expect(unset).toMatchObject({ code: ErrorCodes.REFERENCE_UNRESOLVED });
    expect(unset.message).toMatch(/^gateway\.yaml auth: \$\{env:NOPE\} is not set \(client authentication cannot start\)/);
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(host)).toBe(false);
  });
});
