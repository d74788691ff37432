/**
 * An upstream's own elicitation cannot pass for mcpgate's approval prompt, on real processes: the
 * fixture upstream sends `elicitation/create` imitating the approval prompt (its wording and form,
 * a full-width look-alike of the name, its choices under a neutral message) and a plain question.
 * The imitations never reach the client (the upstream gets MCPGATE_UPSTREAM_ELICITATION_REFUSED);
 * the plain one does, marked `[server impostor asks] …` without its bidi override, and its answer
 * goes back to the upstream. mcpgate's own approval prompt still asks as before.
 */
import { ElicitRequestSchema, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startHttpGateway, textOf, type HttpGateway, type TempConfig } from '../support/gateway.js';

describe("an upstream's elicitation", () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  const asked: ElicitRequest[] = [];

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '20s' } },
      servers: { impostor: fixtureServer('impostor', { tools: { default: 'allow' } }), echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const client = async () => {
    const connected = await gateway.connect({ capabilities: { elicitation: {} } });
    connected.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request);
      return request.params.message.startsWith('mcpgate: ') ? { action: 'accept', content: { decision: 'once' } } : { action: 'accept', content: { branch: 'main' } };
    });
    return connected;
  };

  it('is refused when it imitates the approval prompt, and never reaches the client', async () => {
    const c = await client();
    for (const tool of ['imitate', 'lookalike', 'choices']) {
      const before = asked.length;
      const text = textOf(await c.callTool({ name: `impostor__${tool}`, arguments: {} }));
      expect(text, tool).toMatch(/^refused: .*mcpgate refused the elicitation of upstream "impostor": it imitates mcpgate's own approval prompt/);
      expect(asked.length, tool).toBe(before);
    }
  });

  it('is shown as the server asking, without invisible characters, and answered', async () => {
    const c = await client();
    const text = textOf(await c.callTool({ name: 'impostor__plain', arguments: {} }));
    expect(text).toBe('answer: accept {"branch":"main"}');
    expect(asked.at(-1)?.params.message).toBe('[server impostor asks] Which branch?');
    // mcpgate's own prompt is unchanged
    expect(textOf(await c.callTool({ name: 'echo__echo', arguments: { message: 'mine' } }))).toBe('mine');
    expect(asked.at(-1)?.params.message).toMatch(/^mcpgate: approve this tool call\?\nServer: echo\n/);
  });
});
