/** The console's login codes, sessions and CSRF tokens (pure, on an injected clock), and its HTML escaping. */
import { describe, expect, it } from 'vitest';
import { CODE_TTL_MS, COOKIE, ConsoleAuth, csrfMatches, SESSION_TTL_MS, sessionCookie } from '../../../src/admin/console/consoleAuth.js';
import { html, json } from '../../../src/admin/console/html.js';

describe('ConsoleAuth', () => {
  it('a login code works once, and only before it expires', () => {
    const clock = { now: 0 };
    const auth = new ConsoleAuth(() => clock.now);
    const { code } = auth.mintCode();
    const id = auth.redeem(code);
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(auth.redeem(code)).toBeUndefined();
    const late = auth.mintCode().code;
    clock.now += CODE_TTL_MS;
    expect(auth.redeem(late)).toBeUndefined();
    expect(auth.redeem('')).toBeUndefined();
  });

  it('a session is found by its cookie until it expires or logs out; each has its own CSRF token', () => {
    const clock = { now: 0 };
    const auth = new ConsoleAuth(() => clock.now);
    const a = auth.redeem(auth.mintCode().code) as string;
    const b = auth.redeem(auth.mintCode().code) as string;
    const sa = auth.session(`other=1; ${COOKIE}=${a}`);
    const sb = auth.session(`${COOKIE}=${b}`);
    expect(sa).toBeDefined();
    expect(sa?.csrf).not.toBe(sb?.csrf);
    expect(csrfMatches(sa as never, sa?.csrf)).toBe(true);
    expect(csrfMatches(sa as never, sb?.csrf)).toBe(false);
    expect(csrfMatches(sa as never, undefined)).toBe(false);
    expect(auth.session(`${COOKIE}=${a}x`)).toBeUndefined();
    expect(auth.session(undefined)).toBeUndefined();
    auth.logout(`${COOKIE}=${b}`);
    expect(auth.session(`${COOKIE}=${b}`)).toBeUndefined();
    expect(auth.live(sb as never)).toBe(false);
    clock.now += SESSION_TTL_MS;
    expect(auth.session(`${COOKIE}=${a}`)).toBeUndefined();
    expect(auth.live(sa as never)).toBe(false);
  });

  it('the cookie is HttpOnly, SameSite=Strict and scoped to /console', () => {
    expect(sessionCookie('x')).toBe(`${COOKIE}=x; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`);
  });
});

describe('html', () => {
  it('escapes every interpolated value and shows invisible characters', () => {
    const hostile = '<script>alert("x")</script>\u202e&\'';
    expect(html`<td title="${hostile}">${hostile}</td>`.markup).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\u202e&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\u202e&amp;&#39;</td>',
    );
    expect(html`<p>${html`<b>${'<i>'}</b>`}${['<', 1, null, undefined, false]}</p>`.markup).toBe('<p><b>&lt;i&gt;</b>&lt;1</p>');
    expect(json({ a: '</pre><script>' }).markup).not.toContain('<');
  });
});
