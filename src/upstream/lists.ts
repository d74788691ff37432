/**
 * Reading what an upstream offers: every page of tools, prompts, resources and resource
 * templates, validated with the SDK's schemas (this is not the hot path), guarding against
 * cursors that never end.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  type Prompt,
  type Resource,
  type ResourceTemplate,
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

/** Reads the given lists (those the server's capabilities declare); the others are left out. */
export async function readLists(client: Client, kinds: readonly ListKind[], timeoutMs: number): Promise<Partial<UpstreamLists>> {
  const caps = client.getServerCapabilities() ?? {};
  const out: Partial<UpstreamLists> = {};
  const jobs: Promise<void>[] = [];
  if (kinds.includes('tools') && caps.tools) {
    jobs.push(readAll(client, 'tools/list', ListToolsResultSchema, 'tools', timeoutMs).then((items) => void (out.tools = items as Tool[])));
  }
  if (kinds.includes('prompts') && caps.prompts) {
    jobs.push(readAll(client, 'prompts/list', ListPromptsResultSchema, 'prompts', timeoutMs).then((items) => void (out.prompts = items as Prompt[])));
  }
  if (kinds.includes('resources') && caps.resources) {
    jobs.push(
      readAll(client, 'resources/list', ListResourcesResultSchema, 'resources', timeoutMs).then((items) => void (out.resources = items as Resource[])),
      readAll(client, 'resources/templates/list', ListResourceTemplatesResultSchema, 'resourceTemplates', timeoutMs).then(
        (items) => void (out.resourceTemplates = items as ResourceTemplate[]),
      ),
    );
  }
  await Promise.all(jobs);
  return out;
}

async function readAll(client: Client, method: string, schema: z.ZodType, key: string, timeoutMs: number): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const params = cursor === undefined ? {} : { cursor };
    const result = (await client.request({ method, params } as never, schema as never, { timeout: timeoutMs })) as Record<string, unknown>;
    const pageItems = result[key];
    if (Array.isArray(pageItems)) items.push(...pageItems);
    const next = result.nextCursor;
    if (typeof next !== 'string' || next === '' || seen.has(next)) break;
    seen.add(next);
    cursor = next;
  }
  return items;
}
