/**
 * Network rules as written in `network.allow/ask/deny` (and `allowOnly`, and "always" entries):
 * a host glob, an IP literal or a CIDR range, each with an optional `:port` or `:low-high`.
 * Pure: parsing and matching only.
 *
 *   api.github.com            exact host, any port
 *   *.githubusercontent.com   any subdomain (not the domain itself), any port
 *   registry.npmjs.org:443    one port
 *   10.1.2.0/24   fd00::/8    CIDR ranges;   [::1]:8080  an IPv6 literal with a port
 */
import { domainToASCII } from 'node:url';
import { compileGlob, type Matcher } from '../policy/glob.js';
import { cidrContains, parseCidr, parseHost, type Address, type Cidr, type Host } from './address.js';

/** One compiled network rule. */
export interface NetworkRule {
  /** The rule as written. */
  readonly text: string;
  readonly target:
    | { readonly kind: 'glob'; readonly pattern: string; readonly exact: boolean; readonly match: Matcher }
    | { readonly kind: 'cidr'; readonly range: Cidr };
  /** Inclusive port range; absent: any port. */
  readonly ports?: readonly [number, number];
}

const GLOB_CHARS = /^[a-z0-9._*?-]+$/;

/**
 * Compiles a rule, or returns why it is not one (for config checks, with a fix in the message).
 * @example parseNetworkRule('*.example.com:443') // { text, target: { kind: 'glob', … }, ports: [443, 443] }
 */
export function parseNetworkRule(text: string): NetworkRule | { readonly error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'empty network rule' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { error: `write a host (e.g. "${hostOfUrl(trimmed)}"), not a URL` };
  const split = splitPort(trimmed);
  if ('error' in split) return split;
  const { host, ports } = split;
  const withPorts = <T extends object>(rule: T) => (ports ? { ...rule, ports } : rule);
  const cidr = parseCidr(host);
  if (cidr && 'error' in cidr) return { error: `"${host}": ${cidr.error}` };
  if (cidr) return withPorts({ text, target: { kind: 'cidr' as const, range: cidr } });
  // Another spelling of an IPv4 address (`0x7f.1`, `2130706433`): the address it spells.
  const literal = /[*?]/.test(host) ? undefined : parseHost(host);
  if (literal && 'kind' in literal && literal.kind === 'ip') {
    const { family, value } = literal.address;
    return withPorts({ text, target: { kind: 'cidr' as const, range: { family, base: value, prefix: family === 4 ? 32 : 128 } } });
  }
  if (host.includes(':') || host.includes('/')) return { error: `"${host}" is neither a host name nor an IP address or CIDR range` };
  const pattern = globToAscii(host.toLowerCase().replace(/\.$/, ''));
  if (pattern === undefined || !GLOB_CHARS.test(pattern)) {
    return { error: `"${host}" is not a host glob (letters, digits, ".", "-", "_", "*" and "?" only; IDN names are accepted)` };
  }
  const exact = !/[*?]/.test(pattern);
  return withPorts({ text, target: { kind: 'glob' as const, pattern, exact, match: compileGlob(pattern) } });
}

/** Compiles rules that were validated at load (a rule that does not compile is a bug: thrown). */
export function compileNetworkRules(texts: readonly string[]): NetworkRule[] {
  return texts.map((text) => {
    const rule = parseNetworkRule(text);
    if ('error' in rule) throw new Error(`invalid network rule "${text}": ${rule.error}`);
    return rule;
  });
}

/** True if the rule's port part admits `port`. */
export function portMatches(rule: NetworkRule, port: number): boolean {
  return rule.ports === undefined || (port >= rule.ports[0] && port <= rule.ports[1]);
}

/** True if the rule names the host itself (a glob on a name or on an IP literal's text, or a range holding an IP literal). */
export function matchesHost(rule: NetworkRule, host: Host): boolean {
  if (rule.target.kind === 'glob') return rule.target.match(host.kind === 'name' ? host.name : host.address.text);
  return host.kind === 'ip' && cidrContains(rule.target.range, host.address);
}

/** True if the rule is an IP or CIDR rule holding the address. */
export function matchesAddress(rule: NetworkRule, address: Address): boolean {
  return rule.target.kind === 'cidr' && cidrContains(rule.target.range, address);
}

/**
 * True if the rule names this address or host *explicitly*, which a special address (loopback,
 * private, metadata…) requires: an IP literal or CIDR range holding it (not `0.0.0.0/0`/`::/0`),
 * or an exact host name (no wildcard) equal to the host asked for. A glob never does.
 */
export function namesExplicitly(rule: NetworkRule, host: Host, address: Address | undefined): boolean {
  if (rule.target.kind === 'glob') return rule.target.exact && host.kind === 'name' && rule.target.pattern === host.name;
  if (rule.target.range.prefix === 0) return false;
  const target = address ?? (host.kind === 'ip' ? host.address : undefined);
  return target !== undefined && cidrContains(rule.target.range, target);
}

/**
 * True if every destination `inner` admits is one `outer` admits (for `network.allowOnly`). Globs
 * are compared by text (the outer glob must match the inner pattern), ranges by containment;
 * a host glob is never inside a range (its addresses are unknown until it is resolved).
 * @example covers(parse('*.github.com'), parse('api.github.com:443')) // true
 */
export function covers(outer: NetworkRule, inner: NetworkRule): boolean {
  const outerPorts = outer.ports ?? [0, 65535];
  const innerPorts = inner.ports ?? [0, 65535];
  if (innerPorts[0] < outerPorts[0] || innerPorts[1] > outerPorts[1]) return false;
  if (outer.target.kind === 'glob') {
    if (inner.target.kind === 'glob') return outer.target.match(inner.target.pattern);
    // A single address can be matched by a glob on its text (`10.1.2.3` by itself or by `*`).
    const { range } = inner.target;
    const bits = range.family === 4 ? 32 : 128;
    return range.prefix === bits && outer.target.pattern === '*';
  }
  if (inner.target.kind === 'glob') return false;
  const a = outer.target.range;
  const b = inner.target.range;
  if (a.family !== b.family || b.prefix < a.prefix) return false;
  const shift = BigInt((a.family === 4 ? 32 : 128) - a.prefix);
  return a.base >> shift === b.base >> shift;
}

/** Splits `host:port`, `[v6]:port`, `host:low-high`; a bare IPv6 address or range has no port. */
function splitPort(text: string): { host: string; ports?: [number, number] } | { error: string } {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return { error: `"${text}": missing "]"` };
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { error: `"${text}": expected ":port" after "]"` };
      portText = rest.slice(1);
    }
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) [host, portText] = text.split(':') as [string, string];
  }
  if (portText === undefined) return { host };
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portText);
  const low = match ? Number(match[1]) : NaN;
  const high = match?.[2] !== undefined ? Number(match[2]) : low;
  if (!(low >= 1 && high <= 65535 && low <= high)) return { error: `"${text}": the port must be 1..65535 or a range low-high` };
  return { host, ports: [low, high] };
}

/** IDN labels to punycode; wildcard labels kept (lowercased). */
function globToAscii(pattern: string): string | undefined {
  if (/^[\x00-\x7f]*$/.test(pattern)) return pattern;
  const labels = pattern.split('.').map((label) => (/[*?]/.test(label) ? label : domainToASCII(label)));
  return labels.some((label) => label === '') ? undefined : labels.join('.');
}

function hostOfUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'example.com';
  }
}
