/**
 * Untrusted annotations on a real gateway: by default only hints that make a client more careful
 * reach it (a claimed readOnlyHint/idempotentHint/destructiveHint:false/openWorldHint:false is
 * dropped); `trustAnnotations: true` passes them through; a tool whose decision is ask is never
 * advertised read-only, trusted or not.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startStdioGateway, waitForTools, type TempConfig } from '../support/gateway.js';

describe('tool annotations are untrusted', () => {
  let config: TempConfig;
  let client: Client;
  let close: () => Promise<void>;
  let tools: Tool[];

  beforeAll(async () => {
    config = await makeConfig({
      servers: {
        plain: fixtureServer('mutable', { tools: { allow: ['*'] } }),
        trusted: fixtureServer('mutable', { trustAnnotations: true, tools: { allow: ['*'] } }),
        trustedask: fixtureServer('mutable', { trustAnnotations: true, tools: { allow: ['*'], ask: ['reader'] } }),
      },
    });
    const gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    close = gateway.close;
    tools = (await waitForTools(client, ['plain__reader', 'trusted__reader', 'trustedask__reader'])) as Tool[];
  });

  afterAll(async () => {
    await close?.();
    await config?.cleanup();
  });

  const tool = (name: string) => tools.find((t) => t.name === name);

  it('drops reassuring hints from an untrusted upstream, keeps the title and conservative hints', () => {
    expect(tool('plain__reader')?.annotations).toEqual({ title: 'Reader' });
    expect(tool('plain__reader')?.title).toBe('Reader');
    expect(tool('plain__wiper')?.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    expect(tool('plain__target')?.annotations).toBeUndefined();
  });

  it('passes annotations through with trustAnnotations: true', () => {
    expect(tool('trusted__reader')?.annotations).toEqual({ title: 'Reader', readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false });
  });

  it('never advertises an ask tool as read-only, even when trusted', () => {
    expect(tool('trustedask__reader')?.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true });
  });
});
