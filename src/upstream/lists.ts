/**
 * Reading what an upstream offers: every page of tools, prompts, resources and resource
 * templates, validated with the SDK's schemas (this is not the hot path), guarding against
 * cursors that never end.
 */
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';

/** Which of an upstream's lists changed. */
export type ListKind = 'tools' | 'prompts' | 'resources';

/** What an upstream offers. */
export interface UpstreamLists {
  tools: readonly Tool[];
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  resourceTemplates: readonly ResourceTemplate[];
}

const MAX_LIST_PAGES = 1000;

/** Where lists are read from: the SDK client of a 2025 upstream, the forwarder of a 2026 one. */
export interface ListSource {
  readonly capabilities: ServerCapabilities;
  /** One request, its result validated with `schema`. */
  request(method: string, params: Record<string, unknown>, schema: z.ZodType, timeoutMs: number): Promise<Record<string, unknown>>;
}

/** Reads the given lists (those the server's capabilities declare); the others are left out. */
export async function readLists(source: ListSource, kinds: readonly ListKind[], timeoutMs: number): Promise<Partial<UpstreamLists>> {
  const caps = source.capabilities;
  const out: Partial<UpstreamLists> = {};
  const jobs: Promise<void>[] = [];
  if (kinds.includes('tools') && caps.tools) {
    jobs.push(readAll(source, 'tools/list', ListToolsResultSchema, 'tools', timeoutMs).then((items) => void (out.tools = items as Tool[])));
  }
  if (kinds.includes('prompts') && caps.prompts) {
    jobs.push(readAll(source, 'prompts/list', ListPromptsResultSchema, 'prompts', timeoutMs).then((items) => void (out.prompts = items as Prompt[])));
  }
  if (kinds.includes('resources') && caps.resources) {
    jobs.push(
      readAll(source, 'resources/list', ListResourcesResultSchema, 'resources', timeoutMs).then((items) => void (out.resources = items as Resource[])),
      readAll(source, 'resources/templates/list', ListResourceTemplatesResultSchema, 'resourceTemplates', timeoutMs).then(
        (items) => void (out.resourceTemplates = items as ResourceTemplate[]),
      ),
    );
  }
  await Promise.all(jobs);
  return out;
}

async function readAll(source: ListSource, method: string, schema: z.ZodType, key: string, timeoutMs: number): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const params = cursor === undefined ? {} : { cursor };
    const result = await source.request(method, params, schema, timeoutMs);
    const pageItems = result[key];
    if (Array.isArray(pageItems)) items.push(...pageItems);
    const next = result.nextCursor;
    if (typeof next !== 'string' || next === '' || seen.has(next)) break;
    seen.add(next);
    cursor = next;
  }
  return items;
}

/** Re-reads lists after list_changed notifications: one read per kind at a time, a burst coalesced into one more. */
export class Relister {
  private readonly running = new Set<ListKind>();
  private readonly again = new Set<ListKind>();

  constructor(
    private readonly read: (kind: ListKind) => Promise<void>,
    private readonly failed: (kind: ListKind, error: unknown) => void,
  ) {}

  /** Re-reads `kind` now, or once more after the read in progress. */
  relist(kind: ListKind): void {
    if (this.running.has(kind)) {
      this.again.add(kind);
      return;
    }
    this.running.add(kind);
    this.read(kind)
      .catch((error: unknown) => this.failed(kind, error))
      .finally(() => {
        this.running.delete(kind);
        if (this.again.delete(kind)) this.relist(kind);
      });
  }
}
