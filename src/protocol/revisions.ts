/**
 * The two MCP generations mcpgate speaks, and the rule that tells them apart. A message is
 * "modern" (2026-07-28, stateless, `_meta` on every request) iff its `params._meta` holds the
 * reserved protocol-version key, whatever its value: the claim rule of the SDK v2
 * (`hasEnvelopeClaim`), so mcpgate and SDK-built peers never disagree. Once claimed, a malformed
 * envelope is an error of the modern path, never a silent fall back to legacy handling.
 */

/** The modern revision mcpgate implements. */
export const MODERN_VERSION = '2026-07-28';

/** Protocol versions a modern request may name (what `server/discover` lists). */
export const MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

/** Revisions that use `initialize` and sessions. */
export const LEGACY_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** The reserved `_meta` keys of the 2026-07-28 revision, plus mcpgate's own optional session key. */
export const MetaKeys = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
  /** mcpgate's own: a client-chosen id that narrows the caller key (docs/protocol.md "Sessions"). */
  session: 'dev.mcpgate/session',
} as const;

/** Which generation a message belongs to. */
export type Generation = 'legacy' | 'modern';

/** True when the message claims the modern envelope (`params._meta` holds the protocol-version key). */
export function hasModernClaim(message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return false;
  const meta = (params as { _meta?: unknown })._meta;
  return typeof meta === 'object' && meta !== null && Object.hasOwn(meta, MetaKeys.protocolVersion);
}

/**
 * True when an `MCP-Protocol-Version` header names a modern revision: anything that is not one of
 * the legacy versions (a claim-less POST with such a header is a modern request missing its `_meta`).
 */
export function isModernHeaderVersion(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !LEGACY_VERSIONS.includes(value);
}

/** Methods a 2026-07-28 server answers with 404 -32601 although a 2025 session knows them. */
export const REMOVED_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'tasks/result',
  'tasks/list',
]);

/** Requests that may be answered with `input_required` (basic/patterns/mrtr). */
export const INPUT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

