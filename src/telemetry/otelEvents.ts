/**
 * The OpenTelemetry event sink (loaded only when telemetry is on): one log record per CONTRACT
 * event, and the event-driven metrics (decisions, approval wait, sessions, upstream state).
 * Attribute names follow the MCP/GenAI semantic conventions where they exist and are
 * `mcpgate.<field>` otherwise, so an event added later is exported without a change here.
 * Tool arguments appear only here, in the form the audit file records them (`audit.arguments`).
 */
import { context, type Counter, type Histogram, type Meter, type UpDownCounter } from '@opentelemetry/api';
import { SeverityNumber, type AnyValue, type AnyValueMap, type Logger } from '@opentelemetry/api-logs';
import type { AfterTurn } from './afterTurn.js';
import type { EventSink, GatewayEvent } from './events.js';
import { MCP_DURATION_BUCKETS } from './otelTracer.js';
import { MODERN_VERSIONS } from '../protocol/revisions.js';
import { Tally } from './tally.js';

/** Event fields renamed to semantic-convention attributes (the rest become `mcpgate.<field>`). */
const RENAMED: Readonly<Record<string, string>> = {
  session: 'mcp.session.id',
  protocol_version: 'mcp.protocol.version',
  public_name: 'gen_ai.tool.name',
  tool: 'mcpgate.upstream_tool',
  arguments: 'gen_ai.tool.call.arguments',
  error: 'error.message',
  method: 'mcp.method.name',
  // mcpgate.network.decision: the destination, by the general network conventions
  host: 'server.address',
  port: 'server.port',
  address: 'network.peer.address',
};

/** Attribute name of each event field seen so far (built once: no string per field per record). */
const attributeNames = new Map<string, string>();

function attributeName(field: string): string {
  let name = attributeNames.get(field);
  if (name === undefined) {
    name = RENAMED[field] ?? `mcpgate.${field}`;
    attributeNames.set(field, name);
  }
  return name;
}

/** Builds the log attributes of an event. */
export function logAttributes(event: GatewayEvent): AnyValueMap {
  const attributes: AnyValueMap = {};
  const fields = event as unknown as Record<string, unknown>;
  for (const field in fields) {
    const value = fields[field];
    if (field === 'event' || value === undefined) continue;
    attributes[attributeName(field)] = value as AnyValue;
  }
  // A stateless (2026-07-28) caller has no session: its record's `session` is the caller key.
  if (event.event !== 'mcpgate.session.start' && MODERN_VERSIONS.includes(fields.protocol_version as string) && 'mcp.session.id' in attributes) {
    attributes['mcpgate.caller_key'] = attributes['mcp.session.id'] as AnyValue;
    delete attributes['mcp.session.id'];
  }
  switch (event.event) {
    case 'mcpgate.tool.decision':
    case 'mcpgate.tool.result':
      attributes['mcp.method.name'] = 'tools/call';
      attributes['gen_ai.operation.name'] = 'execute_tool';
      if (event.event === 'mcpgate.tool.result' && event.outcome !== 'ok') attributes['error.type'] = event.outcome;
      break;
    case 'mcpgate.request':
      if (event.method === 'prompts/get') attributes['gen_ai.prompt.name'] = event.target;
      else if (event.method.startsWith('resources/')) attributes['mcp.resource.uri'] = event.target;
      if (event.outcome !== 'ok') attributes['error.type'] = event.outcome;
      break;
    case 'mcpgate.session.start':
    case 'mcpgate.session.end':
      attributes['network.transport'] = event.transport === 'stdio' ? 'pipe' : 'tcp';
      break;
    default:
      break;
  }
  return attributes;
}

function severityOf(event: GatewayEvent): SeverityNumber {
  switch (event.event) {
    case 'mcpgate.upstream.state':
      return event.state === 'failed' ? SeverityNumber.WARN : SeverityNumber.INFO;
    case 'mcpgate.tool.result':
    case 'mcpgate.request':
      return event.outcome === 'protocol_error' || event.outcome === 'timeout' ? SeverityNumber.WARN : SeverityNumber.INFO;
    case 'mcpgate.config.change':
      return event.failed.length > 0 || (event.failed_files?.length ?? 0) > 0 ? SeverityNumber.WARN : SeverityNumber.INFO;
    case 'mcpgate.network.decision':
      return event.decision === 'deny' ? SeverityNumber.WARN : SeverityNumber.INFO;
    default:
      return SeverityNumber.INFO;
  }
}

/** Exports events as log records and metrics; never throws, never waits. */
export class OtelEventSink implements EventSink {
  /** Read by the `mcpgate.tool.decisions` / `.results` observable counters at each collection. */
  private readonly decisions = new Tally(['mcpgate.decision', 'mcpgate.decided_by', 'mcpgate.server']);
  private readonly results = new Tally(['mcpgate.outcome', 'mcpgate.server']);
  private readonly networkDecisions = new Tally(['mcpgate.decision', 'mcpgate.decided_by', 'mcpgate.server']);
  private readonly networkBytes: Counter | undefined;
  private readonly approvalWait: Histogram | undefined;
  private readonly sessionDuration: Histogram | undefined;
  private readonly activeSessions: UpDownCounter | undefined;
  private readonly upstreamChanges: Counter | undefined;
  private readonly upstreamStates = new Map<string, string>();
  private readonly openSessions = new Set<string>();

  constructor(
    private readonly logger: Logger | undefined,
    meter: Meter | undefined,
    private readonly later: AfterTurn,
  ) {
    if (!meter) return;
    // Counted per call: tallied here and observed at collection (same sums as synchronous counters).
    meter.createObservableCounter('mcpgate.tool.decisions', { description: 'tools/call decisions by decision and decided_by', unit: '{decision}' }).addCallback(this.decisions.observe);
    meter.createObservableCounter('mcpgate.tool.results', { description: 'Forwarded tools/call results by outcome', unit: '{call}' }).addCallback(this.results.observe);
    meter
      .createObservableCounter('mcpgate.network.decisions', { description: 'Egress proxy decisions (one per connection) by decision and decided_by', unit: '{connection}' })
      .addCallback(this.networkDecisions.observe);
    this.networkBytes = meter.createCounter('mcpgate.network.bytes', { description: 'Bytes through the egress proxy by server and direction (transmit: to the destination)', unit: 'By' });
    this.approvalWait = meter.createHistogram('mcpgate.approval.wait', {
      description: 'Time an ask decision waited for its answer',
      unit: 's',
      advice: { explicitBucketBoundaries: MCP_DURATION_BUCKETS },
    });
    this.sessionDuration = meter.createHistogram('mcp.server.session.duration', {
      description: 'Duration of client sessions',
      unit: 's',
      advice: { explicitBucketBoundaries: MCP_DURATION_BUCKETS },
    });
    this.activeSessions = meter.createUpDownCounter('mcpgate.sessions.active', { description: 'Open client sessions', unit: '{session}' });
    this.upstreamChanges = meter.createCounter('mcpgate.upstream.state_changes', { description: 'Upstream state transitions by new state', unit: '{change}' });
    meter
      .createObservableGauge('mcpgate.upstream.state', { description: '1 for the state each upstream is in', unit: '{upstream}' })
      .addCallback((result) => {
        for (const [server, state] of this.upstreamStates) result.observe(1, { 'mcpgate.server': server, 'mcpgate.state': state });
      });
  }

  emit(event: GatewayEvent): void {
    // Stamped and tied to the active request span now, exported after the call's response left.
    const timestamp = Date.now();
    const active = context.active();
    this.later.run(() => {
      this.logger?.emit({ eventName: event.event, body: event.event, severityNumber: severityOf(event), attributes: logAttributes(event), timestamp, context: active });
      this.record(event);
    });
  }

  private record(event: GatewayEvent): void {
    switch (event.event) {
      case 'mcpgate.tool.decision': {
        const attributes = this.decisions.add(event.decision, event.decided_by, event.server);
        // Only decisions a human, reviewer or timeout answered waited for approval.
        if (event.decided_by === 'user' || event.decided_by === 'auto_review' || event.decided_by === 'timeout') {
          this.approvalWait?.record(event.approval_wait_ms / 1000, attributes);
        }
        break;
      }
      case 'mcpgate.tool.result':
        this.results.add(event.outcome, event.server);
        break;
      case 'mcpgate.network.decision':
        this.networkDecisions.add(event.decision, event.decided_by, event.server);
        if (event.bytes_up) this.networkBytes?.add(event.bytes_up, { 'mcpgate.server': event.server, 'network.io.direction': 'transmit' });
        if (event.bytes_down) this.networkBytes?.add(event.bytes_down, { 'mcpgate.server': event.server, 'network.io.direction': 'receive' });
        break;
      case 'mcpgate.session.start':
        this.openSessions.add(event.session);
        this.activeSessions?.add(1, { 'network.transport': event.transport === 'stdio' ? 'pipe' : 'tcp' });
        break;
      case 'mcpgate.session.end': {
        const transport = { 'network.transport': event.transport === 'stdio' ? 'pipe' : 'tcp' };
        this.sessionDuration?.record(event.duration_ms / 1000, transport);
        // A session that closed before initialising was never counted as open.
        if (this.openSessions.delete(event.session)) this.activeSessions?.add(-1, transport);
        break;
      }
      case 'mcpgate.upstream.state':
        this.upstreamStates.set(event.server, event.state);
        this.upstreamChanges?.add(1, { 'mcpgate.server': event.server, 'mcpgate.state': event.state });
        break;
      default:
        break;
    }
  }
}
