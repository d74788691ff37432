/**
 * Log-record attributes of CONTRACT events: semantic-convention names where they exist,
 * `mcpgate.<field>` for the rest (so a new event exports without a mapping), arguments as recorded.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/telemetry/events.js';
import { logAttributes } from '../../src/telemetry/otelEvents.js';

describe('log record attributes', () => {
  it('name decision fields after the MCP/GenAI conventions and keep the recorded arguments', () => {
    const attributes = logAttributes({
      event: 'mcpgate.tool.decision',
      session: 's-1',
      call: 'c-1',
      server: 'github',
      tool: 'create_issue',
      public_name: 'github__create_issue',
      decision: 'deny',
      decided_by: 'rule',
      rule: 'servers.d/github.yaml tools.deny[0] (create_*)',
      reason: 'no',
      approval_wait_ms: 0,
      arguments: { title: 'x', token: '[REDACTED]' },
      arguments_truncated: undefined,
    });
    expect(attributes).toEqual({
      'mcp.session.id': 's-1',
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'github__create_issue',
      'gen_ai.tool.call.arguments': { title: 'x', token: '[REDACTED]' },
      'mcpgate.call': 'c-1',
      'mcpgate.server': 'github',
      'mcpgate.upstream_tool': 'create_issue',
      'mcpgate.decision': 'deny',
      'mcpgate.decided_by': 'rule',
      'mcpgate.rule': 'servers.d/github.yaml tools.deny[0] (create_*)',
      'mcpgate.reason': 'no',
      'mcpgate.approval_wait_ms': 0,
    });
  });

  it('set error.type from a failed outcome and the transport from the session', () => {
    const result = logAttributes({ event: 'mcpgate.tool.result', session: 's', call: 'c', server: 'a', tool: 't', public_name: 'a__t', duration_ms: 3, outcome: 'timeout', result_size: 0, error: 'late' });
    expect(result).toMatchObject({ 'error.type': 'timeout', 'error.message': 'late', 'mcpgate.outcome': 'timeout', 'mcpgate.duration_ms': 3 });
    expect(logAttributes({ event: 'mcpgate.session.start', session: 's', transport: 'http', protocol_version: '2025-06-18' })).toMatchObject({
      'network.transport': 'tcp',
      'mcpgate.transport': 'http',
      'mcp.protocol.version': '2025-06-18',
    });
  });

  it('export fields of events it has no mapping for as mcpgate.<field>', () => {
    const future = { event: 'mcpgate.network.decision', server: 'web', host: 'example.com', port: 443, decision: 'deny' } as unknown as GatewayEvent;
    expect(logAttributes(future)).toEqual({ 'mcpgate.server': 'web', 'mcpgate.host': 'example.com', 'mcpgate.port': 443, 'mcpgate.decision': 'deny' });
  });
});
