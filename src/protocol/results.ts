/**
 * What every modern result carries: `resultType` (MUST), mcpgate's `serverInfo` in `_meta`
 * (SHOULD; it replaces an upstream's: the client talks to mcpgate), and on cacheable results the
 * caching hints. The hints are always `ttlMs: 0`, `cacheScope: "private"`: what mcpgate lists or
 * reads can change with any policy, pin, approval or upstream change, none of which a TTL can
 * predict, and differs per caller (`clients:` rules, auth). Clients learn of changes through
 * `subscriptions/listen` instead (docs/protocol.md "Caching").
 */
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { MetaKeys } from './revisions.js';

/** Results that carry caching hints (server/utilities/caching). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

const SERVER_INFO = Object.freeze({ name: GATEWAY_NAME, version: GATEWAY_VERSION });

/** The hints mcpgate promises: none (see the module comment). */
export const CACHE_HINTS = Object.freeze({ ttlMs: 0, cacheScope: 'private' as const });

/**
 * A result as a modern client receives it: `resultType` kept when the upstream set one (an
 * `input_required` or `task` passes through), else `complete`; serverInfo stamped; hints added
 * for cacheable methods.
 */
export function modernResult(method: string, result: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const meta = typeof result._meta === 'object' && result._meta !== null ? (result._meta as Record<string, unknown>) : {};
  const resultType = typeof result.resultType === 'string' ? result.resultType : 'complete';
  const out: Record<string, unknown> = { ...result, resultType, _meta: { ...meta, [MetaKeys.serverInfo]: SERVER_INFO } };
  if (CACHEABLE_METHODS.has(method) && resultType === 'complete') {
    out.ttlMs = CACHE_HINTS.ttlMs;
    out.cacheScope = CACHE_HINTS.cacheScope;
  }
  return out;
}
