/** Hosts and addresses as the egress policy sees them: canonical forms, hostile spellings, special ranges. */
import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseHost, parseIP, specialKind, specialName, type Cidr } from '../../src/network/address.js';

const ip = (text: string) => {
  const host = parseHost(text);
  return 'kind' in host && host.kind === 'ip' ? host.address.text : host;
};

describe('parseHost', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0X7F.0.0.1.', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['[::ffff:7f00:1]', '127.0.0.1'],
    ['[0:0:0:0:0:ffff:a9fe:a9fe]', '169.254.169.254'],
    ['::1', '::1'],
    ['[FD00:EC2:0:0:0:0:0:254]', 'fd00:ec2::254'],
  ])('reads the IP literal %s as %s', (text, expected) => {
    expect(ip(text)).toBe(expected);
  });

  it('canonicalises names: lowercase, trailing dot dropped, IDN to punycode', () => {
    expect(parseHost('API.GitHub.com.')).toEqual({ kind: 'name', name: 'api.github.com' });
    expect(parseHost('bücher.de')).toEqual({ kind: 'name', name: 'xn--bcher-kva.de' });
  });

  it.each([
    ['', 'empty host'],
    ['a@b.com', 'not a host name'],
    ['b.com/x', 'not a host name'],
    ['1.2.3.4.5', 'not a valid host name or IPv4 address'],
    ['1.2.3.256', 'not a valid host name or IPv4 address'],
    ['fe80::1%eth0', 'not a valid IPv6 address'],
    ['[::1', 'not a valid IPv6 address'],
    [`${'a'.repeat(64)}.com`, 'longer than 63'],
    [`${'a.'.repeat(130)}com`, 'longer than 253'],
    ['a..b', 'empty label'],
    ['host\r\nx', 'not a host name'],
  ])('refuses %j', (text, message) => {
    expect((parseHost(text) as { error: string }).error).toContain(message);
  });
});

describe('special addresses and names', () => {
  it.each([
    ['127.0.0.5', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['64:ff9b::7f00:1', 'loopback'], // NAT64 of 127.0.0.1
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['::7f00:1', 'reserved'], // IPv4-compatible
  ])('%s is %s', (text, kind) => {
    expect(specialKind(parseIP(text)!)).toBe(kind);
  });

  it.each(['8.8.8.8', '140.82.112.3', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::'])('%s is ordinary', (text) => {
    expect(specialKind(parseIP(text)!)).toBeUndefined();
  });

  it('names metadata services and localhost before any lookup', () => {
    expect(specialName('Metadata.Google.Internal')).toBe('cloud metadata');
    expect(specialName('localhost')).toBe('loopback');
    expect(specialName('anything.localhost')).toBe('loopback');
    expect(specialName('localhost.example.com')).toBeUndefined();
  });
});

describe('CIDR ranges', () => {
  it('parses IPv4/IPv6 ranges and refuses host bits and bad prefixes', () => {
    const v4 = parseCidr('10.0.0.0/8') as Cidr;
    expect(cidrContains(v4, parseIP('10.255.1.2')!)).toBe(true);
    expect(cidrContains(v4, parseIP('11.0.0.1')!)).toBe(false);
    expect(cidrContains(v4, parseIP('::ffff:10.0.0.1')!)).toBe(true);
    const v6 = parseCidr('fd00::/8') as Cidr;
    expect(cidrContains(v6, parseIP('fd12:3456::1')!)).toBe(true);
    expect(cidrContains(v6, parseIP('10.0.0.1')!)).toBe(false);
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr('10.0.0.1/8')).toEqual({ error: '10.0.0.1/8 has host bits set; write 10.0.0.0/8' });
    expect(parseCidr('10.0.0.0/33')).toEqual({ error: 'prefix length must be 0..32' });
    expect(parseCidr('example.com/8')).toBeUndefined();
  });
});
