/**
 * Calibration only: the naive pass-through proxy the issue compares against — the SDK's
 * high-level Client (`callTool`, with its result validation) behind a Server that forwards
 * tools/list and tools/call, with no policy and no audit. Run: node --import tsx bench/naiveProxy.ts CMD ARGS…
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [command, ...args] = process.argv.slice(2);
if (!command) throw new Error('usage: naiveProxy.ts CMD ARGS…');
const upstream = new Client({ name: 'naive-proxy', version: '1.0.0' });
await upstream.connect(new StdioClientTransport({ command, args }));
const server = new Server({ name: 'naive-proxy', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async (request) => upstream.listTools(request.params));
server.setRequestHandler(CallToolRequestSchema, async (request) => upstream.callTool(request.params));
await server.connect(new StdioServerTransport());
