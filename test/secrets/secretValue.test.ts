/** The Secret type: a resolved key travels redacted until the crypto that uses it reveals it. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveSecret, type ReferenceResolver } from '../../src/secrets/resolve.js';
import { Secret } from '../../src/secrets/secretValue.js';

const VALUE = 'hmac-key-7f3a9c2e5b1d4e6f8a0b2c4d6e8f0a1b';

describe('Secret', () => {
  it('prints as [REDACTED] however it is printed or serialised, and reveals on purpose only', () => {
    const secret = new Secret(VALUE);
    expect(`${secret}`).toBe('[REDACTED]');
    expect(String(secret)).toBe('[REDACTED]');
    expect(JSON.stringify({ key: secret })).toBe('{"key":"[REDACTED]"}');
    expect(inspect({ key: secret })).not.toContain(VALUE);
    expect(secret.reveal()).toBe(VALUE);
    expect(secret.equals(VALUE)).toBe(true);
  });

  it('resolveSecret hands a resolved reference over as a Secret, and still reports the value for redaction', async () => {
    const resolver: ReferenceResolver = { resolve: async (kind, name) => (kind === 'env' && name === 'KEY' ? VALUE : '') };
    const values: string[] = [];
    const secret = await resolveSecret('${env:KEY}', { name: 'auth', file: 'gateway.yaml' }, resolver, values);
    expect(secret).toBeInstanceOf(Secret);
    expect(JSON.stringify(secret)).toBe('"[REDACTED]"');
    expect(secret.reveal()).toBe(VALUE);
    expect(values).toEqual([VALUE]);
  });
});
