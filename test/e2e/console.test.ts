/**
 * The web console (src/admin/console) in a real headless Chromium, in front of a real gateway
 * process whose client cannot elicit (its asks wait in the queue): log in through the one-time
 * link `mcpgate console` prints, approve a waiting call by clicking (the agent's call completes),
 * see a new ask appear live (SSE) and deny it with a reason (the agent reads it); and the
 * refusals: no cookie, a foreign Origin or Host, a missing CSRF token, a login code used twice;
 * a network ask approved by a click; "Always allow" (the approved-rules entry); logging out.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startOrigin, type Origin } from '../support/origins.js';
import {
  decisionWithMessage,
  fixtureServer,
  makeConfig,
  pendingApproval,
  pendingApprovals,
  REPO,
  runMcpgate,
  startHttpGateway,
  textOf,
  waitFor,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

describe('web console in Chromium', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let client: Client;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let site: Origin;
  const problems: string[] = [];

  async function loginLink(): Promise<string> {
    const out = await runMcpgate(['console', '--config', config.dir]);
    expect(out.code, out.stderr).toBe(0);
    const link = /http:\/\/127\.0\.0\.1:\d+\/console\/login\?code=[\w-]+/.exec(out.stdout)?.[0];
    expect(link, out.stdout).toBeDefined();
    return link as string;
  }

  beforeAll(async () => {
    config = await makeConfig({
      // the reviewer escalates every echo call to a person, with its rationale (shown in the console)
      gateway: { approval: { timeout: '60s', autoReview: { command: ['node', join(REPO, 'test/fixtures/reviewers/readLike.mjs')], timeout: '10s' } } },
      servers: {
        echo: fixtureServer('echo', { tools: { ask: ['echo'] } }),
        // every address here is loopback, denied unless named: the ask rule names the test origin's
        netprobe: fixtureServer('netprobe', { tools: { allow: ['*'] }, network: { default: 'deny', ask: ['127.0.0.4'] } }),
      },
    });
    site = await startOrigin('127.0.0.4');
    gateway = await startHttpGateway(config.dir);
    client = await gateway.connect();
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    // Any CSP violation or script error on the console's pages fails the test.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await site?.close();
    await config?.cleanup();
  });

  it('logs in through the one-time link: the code leaves the address bar, the cookie is HttpOnly and SameSite=Strict', async () => {
    const link = await loginLink();
    origin = new URL(link).origin;
    const response = await page.goto(link);
    expect(page.url()).toBe(`${origin}/console/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'mcpgate_console', httpOnly: true, sameSite: 'Strict' });
    await page.waitForSelector('#live:not([hidden])');
    expect(await page.textContent('#live')).toBe('live');
    // health, upstreams and the agent's session, as the gateway sees them
    expect(await page.textContent('#health')).toContain('ok');
    expect(await page.locator('#upstreams tr[data-server="echo"]').innerText()).toMatch(/^echo stdio\tready\t0\tbwrap\t\d+/);
    expect(await page.locator('#sessions tbody tr').innerText()).toContain('mcpgate-test 1.0.0');
    // the code was for one use only
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(401);
  }, 60_000);

  it('approving a waiting call by clicking completes the agent call; its context (rule, auto-reviewer rationale, full redacted arguments) is shown escaped', async () => {
    const hostile = '<img src=x onerror=alert(1)>\u202egnp.exe';
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'console-1', note: hostile, password: 'hunter2' } });
    const item = await pendingApproval(config.dir, 'console-1');
    const article = page.locator(`article[data-key="${item.id}"]`);
    await article.waitFor({ timeout: 15_000 }); // arrives live over SSE, no reload
    const text = await article.innerText();
    expect(text).toContain('echo / echo');
    expect(text).toContain('tools.ask[0]');
    expect(text).toContain('the auto-reviewer escalated (risk medium): echo changes state');
    expect(text).toContain('<img src=x onerror=alert(1)>\\u202egnp.exe'); // markup shown as text, the bidi override visible
    expect(text).not.toContain('hunter2');
    expect(await page.locator('article img').count()).toBe(0);
    await article.getByRole('button', { name: 'Approve once' }).click();
    expect(textOf(await call)).toBe('console-1');
    await page.waitForSelector('.flash');
    expect(await page.textContent('.flash')).toContain(`Approved ${item.id} (once)`);
    expect(await decisionWithMessage(config.auditFile, 'console-1')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'queue' });
    await page.locator(`article[data-key="${item.id}"]`).waitFor({ state: 'detached' });
  }, 60_000);

  it('a deny with a reason reaches the agent', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'console-2' } });
    const item = await pendingApproval(config.dir, 'console-2');
    const article = page.locator(`article[data-key="${item.id}"]`);
    await article.waitFor({ timeout: 15_000 });
    await article.getByLabel('Reason').fill('not during the freeze');
    await article.getByRole('button', { name: 'Deny' }).click();
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('denied by an administrator: not during the freeze');
    expect(await decisionWithMessage(config.auditFile, 'console-2')).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'queue' });
  }, 60_000);

  it('a network ask shows the server and destination and the call in flight; approving it opens the connection', async () => {
    const destination = `127.0.0.4:${site.port}`;
    const call = client.callTool({ name: 'netprobe__fetch', arguments: { url: site.url } });
    let id = '';
    await waitFor(async () => {
      id = (await pendingApprovals(config.dir)).find((p) => p.kind === 'network')?.id ?? '';
      return id !== '';
    }, 60_000, () => 'a pending network ask');
    const article = page.locator(`article[data-key="${id}"]`);
    await article.waitFor({ timeout: 15_000 });
    const text = await article.innerText();
    expect(text).toContain(`netprobe → ${destination}`);
    expect(text).toContain('network');
    expect(text).toMatch(/During\s+netprobe__fetch/);
    await article.getByRole('button', { name: 'Approve once' }).click();
    expect(textOf(await call)).toBe('HTTP 200: hello from 127.0.0.4');
    expect(site.requests()).toBe(1);
  }, 90_000);

  it('the audit page filters the log', async () => {
    await page.goto(`${origin}/console/audit?tool=echo__echo&decision=deny`);
    const rows = await page.locator('table.audit tbody tr').allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).toContain('denied by an administrator: not during the freeze');
    expect(rows.join('\n')).not.toContain('approved by the user');
    await page.goto(`${origin}/console/audit?decision=maybe`);
    expect(await page.textContent('.error')).toContain('decision must be allow, ask or deny');
  }, 60_000);

  it('refuses requests without the cookie, from a foreign Origin or Host, and forms without the CSRF token', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'console-3' } });
    const item = await pendingApproval(config.dir, 'console-3');
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await page.goto(`${origin}/console/`).then(() => page.locator('input[name=csrf]').first().inputValue());
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${origin}/console/approvals/${item.id}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

    expect((await fetch(`${origin}/console/`)).status).toBe(401);
    expect((await post({ origin }, form({ csrf, decision: 'allow-once' }))).status).toBe(401); // no cookie
    expect((await post({ cookie, origin: 'http://evil.example' }, form({ csrf, decision: 'allow-once' }))).status).toBe(403);
    expect((await post({ cookie }, form({ csrf, decision: 'allow-once' }))).status).toBe(403); // no Origin at all
    expect((await post({ cookie, origin }, form({ decision: 'allow-once' }))).status).toBe(403); // no CSRF token
    expect((await post({ cookie, origin }, form({ csrf: `${csrf}x`, decision: 'allow-once' }))).status).toBe(403);
    expect((await fetch(`${origin}/console/`, { headers: { cookie, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(`${origin}/console/`, { headers: { cookie, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect(await rawGet(new URL(origin).port, '/console/', { host: `evil.example:${new URL(origin).port}`, cookie })).toBe(403);
    expect((await fetch(`${origin}/console/`, { headers: { cookie } })).status).toBe(200);
    // none of that answered the call: it still waits
    expect((await pendingApproval(config.dir, 'console-3')).id).toBe(item.id);
    expect((await post({ cookie, origin }, form({ csrf, decision: 'deny', reason: 'cleanup' }))).status).toBe(303);
    expect((await call).isError).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it('"Always allow" writes the approved-rules entry: the next call runs without asking', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'console-4' } });
    const item = await pendingApproval(config.dir, 'console-4');
    await page.goto(`${origin}/console/`);
    await page.locator(`article[data-key="${item.id}"]`).getByRole('button', { name: 'Always allow' }).click();
    expect(textOf(await call)).toBe('console-4');
    expect(await decisionWithMessage(config.auditFile, 'console-4')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'always' });
    expect(await readFile(join(config.dir, 'rules.d/approved.yaml'), 'utf8')).toContain('echo__echo');
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'console-5' } }))).toBe('console-5');
    expect(await decisionWithMessage(config.auditFile, 'console-5')).toMatchObject({ decision: 'allow', scope: 'always', approval_channel: 'always' });
  }, 60_000);

  it('logging out ends the session: the old cookie no longer opens a page', async () => {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await page.goto(`${origin}/console/`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${origin}/console/`);
    expect(await page.textContent('main')).toContain('You are not logged in');
    expect(await context.cookies()).toEqual([]);
    expect((await fetch(`${origin}/console/`, { headers: { cookie } })).status).toBe(401);
  }, 60_000);
});

function rawGet(port: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: Number(port), path, method: 'GET', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
