/**
 * 2026-07-28 callers on an authenticated listener: every request needs the bearer token (no
 * session remembers it), the subject is part of the caller key, and one subject's `requestState`
 * (an approval round) is refused when another subject brings it back.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionWithMessage, fixtureServer, makeConfig, startHttpGateway, textOf, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { modernPost, modernRequest } from '../support/modern.js';

const ISSUER = 'https://issuer.mcpgate.test';
const AUDIENCE = 'mcpgate-e2e';
const HMAC_KEY = 'hmac-key-for-the-modern-auth-test-0123456789';
const ELICITATION = { elicitation: { form: {} } };

const token = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(HMAC_KEY));

describe('modern callers with bearer authentication', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { auth: { issuer: ISSUER, audience: AUDIENCE, secret: '${env:MCPGATE_TEST_HMAC}' }, approval: { channel: 'elicitation' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_TEST_HMAC: HMAC_KEY });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const call = async (subject: string | undefined, id: number, message: string, extra: Record<string, unknown> = {}) =>
    modernPost(gateway.url, modernRequest(id, 'tools/call', { name: 'echo__echo', arguments: { message }, ...extra }, ELICITATION), subject ? { authorization: `Bearer ${await token(subject)}` } : {});

  it('a modern request without a token is 401', async () => {
    const reply = await modernPost(gateway.url, modernRequest(1, 'tools/list'));
    expect(reply.status).toBe(401);
  });

  it("one subject's approval state is refused for another subject; its own retry runs the call", async () => {
    const first = (await call('alice', 2, 'alice asks')).response.result as Record<string, unknown>;
    expect(first.resultType).toBe('input_required');
    const answer = { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } };
    const stolen = await call('bob', 3, 'alice asks', { requestState: first.requestState, inputResponses: answer });
    expect(stolen.response.error).toMatchObject({ code: -32602, data: { code: 'MCPGATE_REQUEST_STATE_INVALID' } });
    expect(stolen.response.error?.message).toContain('issued to another caller');
    const own = await call('alice', 4, 'alice asks', { requestState: first.requestState, inputResponses: answer });
    expect(textOf(own.response.result)).toContain('alice asks');
    const decision = await decisionWithMessage(config.auditFile, 'alice asks');
    expect(decision).toMatchObject({ decision: 'allow', subject: 'alice', protocol_version: '2026-07-28' });
  });

  it('a subject alone is not one client by default: "for this session" is not offered', async () => {
    const first = (await call('carol', 5, 'carol asks')).response.result as Record<string, unknown>;
    expect(JSON.stringify(first.inputRequests)).not.toContain('"const":"session"');
  });
});

describe('http.statelessSessions: subject', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { auth: { issuer: ISSUER, audience: AUDIENCE, secret: '${env:MCPGATE_TEST_HMAC}' }, approval: { channel: 'elicitation' }, http: { statelessSessions: 'subject' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_TEST_HMAC: HMAC_KEY });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const call = async (subject: string, id: number, message: string, extra: Record<string, unknown> = {}) =>
    modernPost(gateway.url, modernRequest(id, 'tools/call', { name: 'echo__echo', arguments: { message }, ...extra }, ELICITATION), { authorization: `Bearer ${await token(subject)}` });

  it('offers "for this session" to a verified subject, remembers it for that subject only', async () => {
    const first = (await call('alice', 1, 'first')).response.result as Record<string, unknown>;
    expect(JSON.stringify(first.inputRequests)).toContain('"const":"session"');
    const answer = { 'mcpgate:approval': { action: 'accept', content: { decision: 'session' } } };
    expect(textOf((await call('alice', 2, 'first', { requestState: first.requestState, inputResponses: answer })).response.result)).toContain('first');
    expect(textOf((await call('alice', 3, 'second')).response.result)).toContain('second'); // not asked again
    expect(((await call('bob', 4, 'third')).response.result as Record<string, unknown>).resultType).toBe('input_required');
  });
});
