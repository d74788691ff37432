/**
 * What a tool definition is, for pinning: sha256 over a canonical rendering (keys sorted) of the
 * fields an upstream could change to steer an agent — description, inputSchema, annotations,
 * title, outputSchema — plus one hash per field, so a change can say which fields moved. Pure.
 */
import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../canonicalJson.js';

/** The pinned fields of a tool definition. */
export const PINNED_FIELDS = ['description', 'inputSchema', 'annotations', 'title', 'outputSchema'] as const;
export type PinnedField = (typeof PINNED_FIELDS)[number];

/** Pins written before outputSchema was pinned hashed only these. */
const LEGACY_FIELDS: ReadonlySet<PinnedField> = new Set(['description', 'inputSchema', 'annotations', 'title']);

/** Hash of a whole definition and of each pinned field. */
export interface ToolDigest {
  readonly sha256: string;
  /** The hash a pin written before outputSchema was pinned holds for the same definition. */
  readonly legacySha256: string;
  readonly fields: Readonly<Record<PinnedField, string>>;
}

/** The pinned fields of a tool as stored in the pin file (to serve while a change waits). */
export type PinnedDefinition = Partial<Record<PinnedField, unknown>>;

/**
 * The pinned fields the tool has.
 * @example pinnedDefinition({ name: 'x', description: 'd', inputSchema: { type: 'object' } }) // { description: 'd', inputSchema: { type: 'object' } }
 */
export function pinnedDefinition(tool: Readonly<Record<string, unknown>>): PinnedDefinition {
  const out: PinnedDefinition = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) out[field] = tool[field];
  return out;
}

const cache = new WeakMap<Tool, ToolDigest>();

/**
 * The digest of a tool (cached per definition object: lists are re-read only on change).
 * @example toolDigest({ name: 'x', inputSchema: { type: 'object' } }).sha256.length // 64
 */
export function toolDigest(tool: Tool): ToolDigest {
  let digest = cache.get(tool);
  if (!digest) {
    const fields = {} as Record<PinnedField, string>;
    let whole = '';
    let legacy = '';
    for (const field of PINNED_FIELDS) {
      const text = canonicalJson(tool[field] ?? null);
      fields[field] = sha256(text);
      whole += `${JSON.stringify(field)}:${text};`;
      if (LEGACY_FIELDS.has(field)) legacy += `${JSON.stringify(field)}:${text};`;
    }
    digest = Object.freeze({ sha256: sha256(whole), legacySha256: sha256(legacy), fields: Object.freeze(fields) });
    cache.set(tool, digest);
  }
  return digest;
}

/** The fields whose hashes differ (all of them when either side lacks per-field hashes). */
export function changedFields(before: Partial<Record<string, string>> | undefined, after: Readonly<Record<PinnedField, string>>): PinnedField[] {
  return PINNED_FIELDS.filter((field) => before?.[field] !== after[field]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
