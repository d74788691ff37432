/** The literal-credential heuristic of `mcpgate import`: what moves to the keychain and what stays in the file. */
import { describe, expect, it } from 'vitest';
import { highEntropy, looksLikeCredential, secretsInArgs, secretsInUrl, secretsInValue } from '../../src/import/secretDetect.js';

const cut = (value: string, spans: readonly { start: number; end: number }[]) => spans.map((s) => value.slice(s.start, s.end));

describe('secretsInValue (env and headers)', () => {
  it('takes the whole value of a secret-looking key, by words or run together', () => {
    for (const key of ['GITHUB_PERSONAL_ACCESS_TOKEN', 'OPENAI_API_KEY', 'apiKey', 'X-Api-Key', 'DB_PASSWORD', 'PGPASSWORD', 'MYSECRET', 'client_secret', 'Cookie']) {
      expect(cut('hunter2-value', secretsInValue(key, 'hunter2-value')), key).toEqual(['hunter2-value']);
    }
  });

  it('leaves plain settings, and secret-looking keys holding booleans, small numbers or paths', () => {
    expect(secretsInValue('LOG_LEVEL', 'info')).toEqual([]);
    expect(secretsInValue('MAX_TOKENS', '4096')).toEqual([]);
    expect(secretsInValue('AUTH_ENABLED', 'true')).toEqual([]);
    expect(secretsInValue('TOKEN_FILE', '/run/secrets/token')).toEqual([]);
    expect(secretsInValue('API_KEY', '')).toEqual([]);
    expect(secretsInValue('SLACK_TEAM_ID', 'T00000000')).toEqual([]);
  });

  it('recognises credential shapes whatever the key is called', () => {
    for (const value of [
      'ghp_FAKEfakeFAKEfake0123456789abcdefABCD',
      'github_pat_FAKE0123456789fake0123456789FAKE0123456789',
      'xoxb-0000000000-FAKEfakeFAKE',
      'sk-proj-FAKEfake0123456789FAKEfake',
      'sk_test_FAKEfake0123456789FAKE',
      'AKIAABCDEFGHIJKLMNOP',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGV4In0.c2lnbmF0dXJl',
    ]) {
      expect(looksLikeCredential(value), value).toBe(true);
      expect(cut(value, secretsInValue('SOMETHING', value)), value).toEqual([value]);
    }
  });

  it('takes long high-entropy strings, but not UUIDs, hex-free words or paths', () => {
    expect(highEntropy('k8Zq2Lw9Xv4Tn7Rb1Hc6Jm3Pd5Fs0Gy8')).toBe(true);
    expect(highEntropy('550e8400-e29b-41d4-a716-446655440000')).toBe(false);
    expect(highEntropy('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1')).toBe(false);
    expect(highEntropy('/usr/local/lib/node_modules/some-package/x1')).toBe(false);
    expect(cut('k8Zq2Lw9Xv4Tn7Rb1Hc6Jm3Pd5Fs0Gy8', secretsInValue('PROJECT', 'k8Zq2Lw9Xv4Tn7Rb1Hc6Jm3Pd5Fs0Gy8'))).toEqual(['k8Zq2Lw9Xv4Tn7Rb1Hc6Jm3Pd5Fs0Gy8']);
  });

  it('keeps an Authorization scheme and takes only the credential', () => {
    expect(cut('Bearer abc.def-123', secretsInValue('Authorization', 'Bearer abc.def-123'))).toEqual(['abc.def-123']);
    expect(cut('Basic dXNlcjpwYXNz', secretsInValue('Proxy-Authorization', 'Basic dXNlcjpwYXNz'))).toEqual(['dXNlcjpwYXNz']);
  });

  it('leaves values that already hold a reference', () => {
    expect(secretsInValue('API_KEY', '${env:API_KEY}')).toEqual([]);
    expect(secretsInValue('Authorization', 'Bearer ${secret:x}')).toEqual([]);
  });
});

describe('secretsInUrl', () => {
  it('takes the password of user:password@ and secret-looking query parameters only', () => {
    const url = 'postgresql://app:pg-Pass-1234@localhost:5432/app?sslmode=require&api_key=abc123&token=t0k';
    expect(cut(url, secretsInUrl(url))).toEqual(['pg-Pass-1234', 'abc123', 't0k']);
    expect(secretsInUrl('https://mcp.example.com/mcp?region=eu')).toEqual([]);
    expect(secretsInUrl('https://user@example.com/')).toEqual([]);
  });
});

describe('secretsInArgs', () => {
  it('finds --flag=VALUE, --flag VALUE, KEY=VALUE and credential-shaped arguments', () => {
    const args = ['-y', '@stripe/mcp', '--api-key=sk_test_FAKEfake0123456789FAKE', '--token', 'plain-token-value', '-e', 'GITHUB_TOKEN=abc-def', '--tools=all', 'ghp_FAKEfakeFAKEfake0123456789abcdefABCD'];
    const found = secretsInArgs(args);
    expect([...found.keys()]).toEqual([2, 4, 6, 8]);
    expect(cut(args[2] as string, found.get(2) ?? [])).toEqual(['sk_test_FAKEfake0123456789FAKE']);
    expect(cut(args[4] as string, found.get(4) ?? [])).toEqual(['plain-token-value']);
    expect(cut(args[6] as string, found.get(6) ?? [])).toEqual(['abc-def']);
  });

  it('leaves ordinary arguments (no entropy guess: commit hashes and ids are common there)', () => {
    expect(secretsInArgs(['-y', '@modelcontextprotocol/server-filesystem', '/home/me', '--project-ref=abcdefghijklmnop', 'e83c5163316f89bfbde7d9ab23ca2e25604af290']).size).toBe(0);
  });
});
