/**
 * Upstream metadata served to the agent without invisible characters. Tool, prompt and resource
 * names, titles, descriptions and schemas are written by the upstream, and the agent reads them
 * raw: a bidi override or zero-width characters can make a tool read as something else to a
 * person reviewing it, and tag characters can carry a whole hidden instruction. Every string and
 * key of a listed item loses its control and invisible characters (src/printable.ts; tabs and line
 * feeds stay). A resource's URI is its address, so it cannot be rewritten: a resource or template
 * whose URI holds such characters is not listed. Runs when the catalog is rebuilt, never per call;
 * an item that returns unchanged is the same object.
 */
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { withoutInvisible } from '../printable.js';

/** Deeper than this, an item is not walked: it is left out (the caller lists it no further). */
const MAX_DEPTH = 256;

/** Thrown for an item too deep to clean; the catalog leaves it out (fail closed). */
export class TooDeepToSanitize extends Error {
  constructor() {
    super(`nested more than ${MAX_DEPTH} levels deep`);
  }
}

/**
 * A tool, prompt or other metadata value with every string and key cleaned; the value itself
 * when nothing changed. Throws {@link TooDeepToSanitize} for a value nested too deep.
 * @example sanitizeMetadata({ name: 'ls\u202e', description: 'a\u200bb' }) // { name: 'ls', description: 'ab' }
 */
export function sanitizeMetadata<T>(value: T): T {
  return clean(value, 0) as T;
}

/** The tool as listed: see {@link sanitizeMetadata}. */
export function sanitizeTool(tool: Tool): Tool {
  return sanitizeMetadata(tool);
}

/** The prompt as listed: see {@link sanitizeMetadata}. */
export function sanitizePrompt(prompt: Prompt): Prompt {
  return sanitizeMetadata(prompt);
}

/** The resource as listed, or undefined when its URI holds invisible characters (not listed). */
export function sanitizeResource(resource: Resource): Resource | undefined {
  return withoutInvisible(resource.uri) === resource.uri ? sanitizeMetadata(resource) : undefined;
}

/** The template as listed, or undefined when its URI template holds invisible characters. */
export function sanitizeTemplate(template: ResourceTemplate): ResourceTemplate | undefined {
  return withoutInvisible(template.uriTemplate) === template.uriTemplate ? sanitizeMetadata(template) : undefined;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return withoutInvisible(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new TooDeepToSanitize();
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, index) => {
      const cleaned = clean(item, depth + 1);
      if (cleaned !== item) (out ??= [...value])[index] = cleaned;
    });
    return out ?? value;
  }
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const cleanKey = withoutInvisible(key);
    const cleaned = clean(item, depth + 1);
    if (cleanKey !== key || cleaned !== item) changed = true;
    return [cleanKey, cleaned] as const;
  });
  return changed ? Object.fromEntries(entries) : value;
}
