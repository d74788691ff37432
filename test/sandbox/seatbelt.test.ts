import { describe, expect, it } from 'vitest';
import { seatbeltProfile } from '../../src/sandbox/seatbelt.js';

describe('seatbeltProfile (macOS design, text only)', () => {
  const profile = seatbeltProfile({ denyRead: ['/Users/a/.ssh', '/Users/a/mcpgate/gateway.yaml'], allowWrite: ['/Users/a/data'], tempDir: '/private/tmp/mcpgate-x', proxyPort: 3128 });

  it('denies all writes, then allows only the temp dir and allowWrite', () => {
    expect(profile).toContain('(deny file-write*)\n(allow file-write*\n  (subpath "/private/tmp/mcpgate-x")\n  (subpath "/Users/a/data")\n');
  });

  it('denies reading (and writing) the protected paths after the write allowances, so they win', () => {
    const deny = profile.indexOf('(deny file-read* file-write*\n  (subpath "/Users/a/.ssh")\n  (subpath "/Users/a/mcpgate/gateway.yaml"))');
    expect(deny).toBeGreaterThan(profile.indexOf('(allow file-write*'));
  });

  it("allows no network but the proxy's loopback port; without a proxy, none", () => {
    expect(profile).toContain('(deny network*)\n(allow network-outbound (remote ip "localhost:3128"))');
    expect(seatbeltProfile({ denyRead: [], allowWrite: [], tempDir: '/t' })).not.toContain('allow network');
  });

  it('denies the keychain services, Apple Events and other processes', () => {
    expect(profile).toMatch(/\(deny mach-lookup .*\(global-name "com\.apple\.SecurityServer"\)/);
    expect(profile).toContain('(deny appleevent-send)');
    expect(profile).toContain('(deny process-info* (target others))');
  });

  it('quotes paths as SBPL strings', () => {
    expect(seatbeltProfile({ denyRead: ['/a "b"\\c'], allowWrite: [], tempDir: '/t' })).toContain('(subpath "/a \\"b\\"\\\\c")');
  });
});
