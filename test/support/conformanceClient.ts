/**
 * The conformance suite's client under test, played by mcpgate's upstream side: the suite runs
 * `node --import tsx test/support/conformanceClient.ts <server-url>` (it appends the URL of the
 * mock server it started, and names the scenario in MCP_CONFORMANCE_SCENARIO). This wrapper points
 * a servers.d entry (`prefix: ""`, every tool allowed) at that URL, starts `mcpgate serve` over
 * stdio, and as the agent makes the calls the scenario expects; what the suite judges is what
 * mcpgate sent upstream. Run: `npm run conformance:client` (scenarios of the 2026-07-28 set that
 * need no authorization server).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeConfig, startStdioGateway, waitForTools } from './gateway.js';

const url = process.argv[2];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as { toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }> };

/** What the agent does through the gateway, per scenario. */
async function play(client: Client): Promise<void> {
  const tools = (await client.listTools()).tools;
  switch (scenario) {
    case 'tools_call':
      if (tools[0]) await client.callTool({ name: tools[0].name, arguments: { a: 2, b: 3 } });
      return;
    case 'http-custom-headers':
      for (const call of context.toolCalls ?? []) {
        if (tools.some((t) => t.name === call.name)) await client.callTool(call);
      }
      return;
    case 'http-invalid-tool-headers':
      // every tool mcpgate lists is called: the suite fails any call of a tool whose x-mcp-header is invalid
      for (const tool of tools) await client.callTool({ name: tool.name, arguments: { region: 'us-west1' } });
      return;
    case 'http-standard-headers': {
      for (const tool of tools) await client.callTool({ name: tool.name, arguments: {} });
      const resources = (await client.listResources().catch(() => ({ resources: [] }))).resources;
      for (const resource of resources) await client.readResource({ uri: resource.uri });
      const prompts = (await client.listPrompts().catch(() => ({ prompts: [] }))).prompts;
      for (const prompt of prompts) await client.getPrompt({ name: prompt.name });
      return;
    }
    case 'sep-2322-client-request-state':
      for (const name of ['test_mrtr_echo_state', 'test_mrtr_unrelated', 'test_mrtr_no_state', 'test_mrtr_no_result_type']) {
        if (tools.some((t) => t.name === name)) await client.callTool({ name, arguments: {} });
      }
      return;
    default: // request-metadata, json-schema-ref-no-deref, initialize: listing is the whole flow
      return;
  }
}

async function main(): Promise<void> {
  if (!url) throw new Error('usage: conformanceClient.ts <server-url> (the conformance suite appends it)');
  // validateArguments off: the suite's calls (e.g. a null for a boolean x-mcp-header argument) must reach it as the agent made them
  const config = await makeConfig({ servers: { target: { url, prefix: '', tools: { default: 'allow' }, validateArguments: false } } });
  const gateway = await startStdioGateway(config.dir, { capabilities: { elicitation: {} } }, { MCPGATE_LOG_LEVEL: 'warn' });
  // The agent accepts every elicitation the upstream's call bridges to it (MRTR scenarios confirm).
  gateway.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { confirmed: true } }));
  try {
    await waitForTools(gateway.client, [], 15_000);
    await play(gateway.client);
  } finally {
    await gateway.close();
    process.stderr.write(gateway.stderr());
    await config.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(`conformance client (${scenario}) failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
