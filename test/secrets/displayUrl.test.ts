import { describe, expect, it } from 'vitest';
import { displayUrl } from '../../src/secrets/displayUrl.js';

describe('displayUrl', () => {
  it('keeps scheme, host, port and path; drops credentials, query and fragment', () => {
    expect(displayUrl('https://user:s3cret@mcp.example.com:8443/mcp?token=abc#frag')).toBe('https://mcp.example.com:8443/mcp');
  });

  it('cuts an unparsable URL (an unresolved reference in the host) by hand', () => {
    expect(displayUrl('https://user:s3cret@${secret:host}/mcp?token=abc')).toBe('https://${secret:host}/mcp');
    expect(displayUrl('not a url?key=v')).toBe('not a url');
  });
});
