/**
 * Hosts and IP addresses as the egress policy sees them. Pure: no DNS, no sockets.
 *
 * Every host an upstream names goes through {@link parseHost} first, which canonicalises it the
 * way a browser's URL parser does (lowercase, IDN → punycode, a trailing dot dropped) and turns
 * every spelling of an IPv4 address (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) into its
 * dotted form, so no spelling of an address can slip past a rule written for another. Addresses
 * are compared as numbers; an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address
 * it maps (and NAT64 / 6to4 addresses are classified by the IPv4 address they embed).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An IP address: IPv4 as a 32-bit value, IPv6 as a 128-bit value (never an IPv4-mapped one). */
export interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
  /** Canonical text: dotted IPv4, compressed lowercase IPv6. */
  readonly text: string;
}

/** A canonical host: a DNS name, or an IP literal with its address. */
export type Host = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'ip'; readonly address: Address };

/** The longest DNS name accepted (RFC 1035: 253 characters without the trailing dot). */
export const MAX_HOST_LENGTH = 253;

/** Characters that never belong in a host (userinfo, paths, ports, percent-encoding, spaces, controls). */
const FORBIDDEN = /[\s\u0000-\u001f\u007f@/\\?#%:[\]<>^|"'`{}]/u;

/**
 * Canonicalises a host as named by a client (CONNECT authority, absolute URL, SOCKS5 domain),
 * or returns why it is not one. IPv6 literals may be given with or without brackets.
 * @example parseHost('0x7f.1') // { kind: 'ip', address: { text: '127.0.0.1', … } }
 * @example parseHost('API.GitHub.com.') // { kind: 'name', name: 'api.github.com' }
 */
export function parseHost(raw: string): Host | { readonly error: string } {
  if (raw.length === 0) return { error: 'empty host' };
  if (raw.length > MAX_HOST_LENGTH + 2) return { error: `host longer than ${MAX_HOST_LENGTH} characters` };
  const bracketed = raw.startsWith('[') && raw.endsWith(']');
  const inner = bracketed ? raw.slice(1, -1) : raw;
  if (inner.includes(':')) {
    const address = parseIPv6(inner);
    return address ? { kind: 'ip', address } : { error: `"${shown(raw)}" is not a valid IPv6 address (zone ids are not accepted)` };
  }
  if (bracketed || FORBIDDEN.test(raw)) return { error: `"${shown(raw)}" is not a host name` };
  let canonical: string;
  try {
    // The WHATWG host parser: IDNA, lowercase, and the legacy IPv4 forms getaddrinfo also accepts.
    canonical = new URL(`http://${raw}/`).hostname;
  } catch {
    return { error: `"${shown(raw)}" is not a valid host name or IPv4 address` };
  }
  if (isIPv4(canonical)) return { kind: 'ip', address: parseIPv4(canonical) as Address };
  const name = canonical.endsWith('.') ? canonical.slice(0, -1) : canonical;
  if (name.length === 0 || name.length > MAX_HOST_LENGTH) return { error: `host name longer than ${MAX_HOST_LENGTH} characters` };
  if (name.split('.').some((label) => label.length === 0 || label.length > 63)) return { error: `"${shown(raw)}" has an empty label or one longer than 63 characters` };
  return { kind: 'name', name };
}

/** The host as text: the name, or the address (IPv6 without brackets). */
export function hostText(host: Host): string {
  return host.kind === 'name' ? host.name : host.address.text;
}

/** `host:port`, IPv6 in brackets. */
export function destinationText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Parses a dotted-quad IPv4 address (strict: four decimal parts).
 * @example parseIPv4('10.0.0.1')?.value // 167772161n
 */
export function parseIPv4(text: string): Address | undefined {
  if (!isIPv4(text)) return undefined;
  const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  return { family: 4, value, text };
}

/**
 * Parses an IPv6 address (optionally with an embedded IPv4 tail); an IPv4-mapped address becomes
 * the IPv4 address it maps.
 * @example parseIPv6('::ffff:127.0.0.1')?.text // '127.0.0.1'
 */
export function parseIPv6(text: string): Address | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let source = text.toLowerCase();
  const lastColon = source.lastIndexOf(':');
  const tail = source.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (!v4) return undefined;
    source = `${source.slice(0, lastColon + 1)}${((v4.value >> 16n) & 0xffffn).toString(16)}:${(v4.value & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = source.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(zeros).fill('0'), ...right];
  if (all.length !== 8) return undefined;
  const value = all.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
  if (value >> 32n === 0xffffn) return ipv4From(value & 0xffffffffn);
  return { family: 6, value, text: formatIPv6(value) };
}

/** Any IP literal (IPv4 dotted, or IPv6 with or without brackets). */
export function parseIP(text: string): Address | undefined {
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return parseIPv4(inner) ?? parseIPv6(inner);
}

/** The IPv4 address with this 32-bit value. */
export function ipv4From(value: bigint): Address {
  const text = [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  return { family: 4, value, text };
}

/** RFC 5952 text of a 128-bit value: lowercase, longest run of zero groups compressed. */
function formatIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

/** A CIDR range (an address is a /32 or /128). */
export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly prefix: number;
}

/**
 * Parses `a.b.c.d/n` or `v6/n` (or a bare address); undefined when malformed. Host bits set in
 * the base are an error (`10.0.0.1/8` is almost always a typo for `10.0.0.0/8`).
 * @example parseCidr('10.0.0.0/8') // { family: 4, base: 167772160n, prefix: 8 }
 */
export function parseCidr(text: string): Cidr | { readonly error: string } | undefined {
  const slash = text.indexOf('/');
  const address = parseIP(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = address.family === 4 ? 32 : 128;
  if (slash < 0) return { family: address.family, base: address.value, prefix: bits };
  const prefixText = text.slice(slash + 1);
  const mappedShift = address.family === 4 && text.slice(0, slash).includes(':') ? 96 : 0;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) - mappedShift : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return { error: `prefix length must be 0..${bits + mappedShift}` };
  const hostBits = BigInt(bits - prefix);
  if ((address.value & ((1n << hostBits) - 1n)) !== 0n) return { error: `${text} has host bits set; write ${ipv4Or6(address.family, (address.value >> hostBits) << hostBits)}/${prefix + mappedShift}` };
  return { family: address.family, base: address.value, prefix };
}

function ipv4Or6(family: 4 | 6, value: bigint): string {
  return family === 4 ? ipv4From(value).text : formatIPv6(value);
}

/** True if the range holds the address. */
export function cidrContains(range: Cidr, address: Address): boolean {
  if (range.family !== address.family) return false;
  const shift = BigInt((range.family === 4 ? 32 : 128) - range.prefix);
  return address.value >> shift === range.base >> shift;
}

/** Why an address is special (never reached unless a rule names it), by kind. */
export type SpecialKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'cloud metadata'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking';

const special = (text: string, kind: SpecialKind): { range: Cidr; kind: SpecialKind } => ({ range: parseCidr(text) as Cidr, kind });

/** Specific entries first: the first range that holds an address names its kind. */
const SPECIAL_RANGES = [
  special('169.254.169.254/32', 'cloud metadata'), // AWS, GCP, Azure, OpenStack…
  special('169.254.170.2/32', 'cloud metadata'), // AWS ECS task credentials
  special('100.100.100.200/32', 'cloud metadata'), // Alibaba Cloud
  special('192.0.0.192/32', 'cloud metadata'), // Oracle Cloud
  special('fd00:ec2::254/128', 'cloud metadata'), // AWS IMDS over IPv6
  special('0.0.0.0/8', 'unspecified'),
  special('10.0.0.0/8', 'private'),
  special('100.64.0.0/10', 'shared (CGNAT)'),
  special('127.0.0.0/8', 'loopback'),
  special('169.254.0.0/16', 'link-local'),
  special('172.16.0.0/12', 'private'),
  special('192.0.0.0/24', 'reserved'),
  special('192.0.2.0/24', 'documentation'),
  special('192.88.99.0/24', 'reserved'),
  special('192.168.0.0/16', 'private'),
  special('198.18.0.0/15', 'benchmarking'),
  special('198.51.100.0/24', 'documentation'),
  special('203.0.113.0/24', 'documentation'),
  special('224.0.0.0/4', 'multicast'),
  special('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
  special('::/128', 'unspecified'),
  special('::1/128', 'loopback'),
  special('::/96', 'reserved'), // IPv4-compatible (deprecated)
  special('64:ff9b:1::/48', 'private'), // local-use NAT64
  special('100::/64', 'reserved'), // discard
  special('2001::/23', 'reserved'), // IETF protocol assignments, Teredo
  special('2001:db8::/32', 'documentation'),
  special('fc00::/7', 'private'), // unique local
  special('fe80::/10', 'link-local'),
  special('fec0::/10', 'private'), // site-local (deprecated)
  special('ff00::/8', 'multicast'),
];

/** IPv6 prefixes that carry an IPv4 address a router may translate to: judged by that address too. */
const EMBEDDING = [
  { range: parseCidr('64:ff9b::/96') as Cidr, embedded: (value: bigint) => value & 0xffffffffn }, // NAT64
  { range: parseCidr('2002::/16') as Cidr, embedded: (value: bigint) => (value >> 80n) & 0xffffffffn }, // 6to4
];

/**
 * Why an address must not be reached unless a rule names it, or undefined for an ordinary one.
 * @example specialKind(parseIP('169.254.169.254')!) // 'cloud metadata'
 * @example specialKind(parseIP('64:ff9b::7f00:1')!) // 'loopback' (NAT64 of 127.0.0.1)
 */
export function specialKind(address: Address): SpecialKind | undefined {
  for (const { range, kind } of SPECIAL_RANGES) if (cidrContains(range, address)) return kind;
  if (address.family === 6) {
    for (const { range, embedded } of EMBEDDING) {
      if (cidrContains(range, address)) return specialKind(ipv4From(embedded(address.value)));
    }
  }
  return undefined;
}

/** Names that point at a cloud provider's metadata service or at this machine, whatever DNS says. */
const SPECIAL_NAMES: ReadonlyMap<string, SpecialKind> = new Map([
  ['metadata.google.internal', 'cloud metadata'],
  ['metadata.goog', 'cloud metadata'],
  ['metadata', 'cloud metadata'],
  ['instance-data', 'cloud metadata'],
  ['instance-data.ec2.internal', 'cloud metadata'],
  ['metadata.azure.internal', 'cloud metadata'],
  ['localhost', 'loopback'],
]);

/**
 * Why a host name is special before it is even resolved (metadata names, `localhost` and
 * `*.localhost`, RFC 6761), or undefined.
 * @example specialName('Metadata.Google.Internal') // 'cloud metadata'
 */
export function specialName(name: string): SpecialKind | undefined {
  const lower = name.toLowerCase();
  return SPECIAL_NAMES.get(lower) ?? (lower.endsWith('.localhost') ? 'loopback' : undefined);
}

function shown(text: string): string {
  const cut = text.length > 80 ? `${text.slice(0, 79)}…` : text;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
