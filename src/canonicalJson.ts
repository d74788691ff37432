/**
 * Canonical JSON (RFC 8785 for the values JSON-RPC carries: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings as `JSON.stringify` writes them) and its SHA-256, so
 * the same arguments give the same digest whatever order a client wrote their keys in. The one
 * implementation for request_state's arguments digest, tool pins and inputSchema `uniqueItems`
 * (the audit's, src/audit/redact.ts, runs it on a defensive copy first: it records untrusted values).
 */
import { createHash } from 'node:crypto';

/** The canonical text of a JSON value (`undefined` members are left out, as JSON does). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** `sha256:<hex>` of a value's canonical JSON. */
export function jsonDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
