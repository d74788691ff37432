/** gateway.yaml `auth:` and `clients:`: validation with file:line: field messages, and normalisation. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigReport } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/types.js';

const dirs: string[] = [];
async function configDir(gateway: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-identity-'));
  dirs.push(dir);
  await mkdir(join(dir, 'servers.d'));
  await writeFile(join(dir, 'gateway.yaml'), gateway);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('auth and clients in gateway.yaml', () => {
  it('normalises auth (defaults included) and clients with rule provenance', async () => {
    const config = await loadConfig(
      await configDir(
        [
          'auth:',
          '  issuer: https://idp.example.test',
          '  audience: mcpgate',
          '  secret: ${secret:jwt-hmac}',
          'clients:',
          '  - subject: alice',
          '    allow: ["github/*"]',
          '  - group: contractors',
          '    deny: [{ tool: "*/delete_*", reason: "ask an employee" }]',
          '',
        ].join('\n'),
      ),
    );
    expect(config.auth).toEqual({
      issuer: 'https://idp.example.test',
      audience: ['mcpgate'],
      key: { kind: 'secret', value: '${secret:jwt-hmac}' },
      algorithms: ['HS256', 'HS384', 'HS512'],
      clockToleranceSec: 30,
      subjectClaim: 'sub',
      groupsClaim: 'groups',
      authorizationServers: ['https://idp.example.test'],
    });
    expect(config.clients?.[0]).toMatchObject({ subject: 'alice', where: 'clients[0]', policy: { allow: [{ rule: 'github/*', source: 'gateway.yaml', where: 'clients[0].allow[0]', line: 7 }] } });
    expect(config.clients?.[1]).toMatchObject({ group: 'contractors', policy: { deny: [{ where: 'clients[1].deny[0]', line: 9 }] } });
  });

  it('reports each problem with file, line and field', async () => {
    const report = await loadConfigReport(
      await configDir(
        [
          'auth:',
          '  issuer: https://idp.example.test',
          '  audience: mcpgate',
          '  secret: plain-text-key-in-the-file',
          '  jwksUrl: https://idp.example.test/jwks',
          'clients:',
          '  - subject: alice',
          '    group: admins',
          '  - subject: bob',
          '    deny: ["delete_*"]',
          '',
        ].join('\n'),
      ),
    );
    expect(report.config).toBeUndefined();
    const lines = report.problems.map(formatProblem);
    expect(lines).toContain('gateway.yaml:4: auth.secret: set exactly one of jwksUrl, publicKey or secret');
    expect(lines).toContain('gateway.yaml:4: auth.secret: write the HMAC key as a reference (${secret:NAME}, ${file:PATH} or ${env:NAME}), not in the file');
    expect(lines).toContain('gateway.yaml:7: clients[0]: set exactly one of subject or group');
  });

  it('requires server/tool globs in clients rules and checks auth references', async () => {
    const report = await loadConfigReport(
      await configDir(['auth:', '  issuer: i', '  audience: a', '  publicKey: ${nope:x}', 'clients:', '  - subject: bob', '    deny: ["delete_*"]', ''].join('\n')),
    );
    const lines = report.problems.map(formatProblem);
    expect(lines).toContain('gateway.yaml:7: clients[0].deny[0]: global rules name "server/tool" (e.g. "*/delete_*" or "github/delete_*")');
    expect(lines.some((l) => l.startsWith('gateway.yaml:4: auth.publicKey: unknown reference ${nope:x}'))).toBe(true);
  });
});
