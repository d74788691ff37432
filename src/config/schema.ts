/**
 * zod schemas for the configuration directory: `servers.d/NAME.(yaml|yml|json)` and `gateway.yaml`.
 * These are the single source of truth: TypeScript types come from `z.infer`, and the published
 * JSON Schema (`schema/*.schema.json`) is generated from them. Unknown keys are errors.
 */
import { z } from 'zod';

/** A server name is the file stem of its servers.d file. */
export const SERVER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** `250ms`, `30s`, `5m`, `1h`, or a bare number of milliseconds. */
export const DurationSchema = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration such as 500ms, 30s, 5m or 1h'),
  ])
  .describe('A duration: 500ms, 30s, 5m, 1h, or a number of milliseconds');

/** Parses a validated duration value into milliseconds. */
export function durationToMs(value: z.infer<typeof DurationSchema>): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid duration ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** allow | ask | deny */
export const DecisionSchema = z.enum(['allow', 'ask', 'deny']);
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * A policy rule: a tool-name glob, or `{tool, args, reason}` where `args` maps an argument path
 * (`path`, `options.branch`) to a glob or `/regex/flags` the argument's string value must match.
 */
export const RuleSchema = z.union([
  z.string().min(1),
  z.strictObject({
    tool: z.string().min(1).describe('Tool-name glob (`*` any run of characters, `?` one character)'),
    args: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('Argument path → glob or /regex/ that the argument value must match'),
    reason: z.string().optional().describe('Shown to the agent and recorded in the audit log'),
  }),
]);
export type RuleInput = z.infer<typeof RuleSchema>;

/** Per-server tool policy. */
export const ToolPolicySchema = z.strictObject({
  default: DecisionSchema.optional().describe('Decision for tools no rule names (unset: the global default, else ask)'),
  allow: z.array(RuleSchema).default([]),
  ask: z.array(RuleSchema).default([]),
  deny: z.array(RuleSchema).default([]),
});
export type ToolPolicyInput = z.infer<typeof ToolPolicySchema>;

/** One `servers.d/NAME.yaml` file: one upstream MCP server. */
export const ServerFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    description: z.string().optional(),
    command: z.string().min(1).optional().describe('Executable of a stdio upstream'),
    args: z.array(z.string()).default([]).describe('Arguments of a stdio upstream'),
    env: z.record(z.string().min(1), z.string()).default({}).describe('Environment of a stdio upstream (nothing else is inherited but HOME, LOGNAME, PATH, SHELL, TERM, USER)'),
    cwd: z.string().optional().describe('Working directory of a stdio upstream (relative: to the config dir)'),
    url: z.string().url().optional().describe('Streamable HTTP endpoint of a remote upstream'),
    sse: z.string().url().optional().describe('Legacy HTTP+SSE endpoint of a remote upstream'),
    headers: z.record(z.string().min(1), z.string()).default({}).describe('HTTP headers sent to a url/sse upstream'),
    enabled: z.boolean().default(true),
    timeout: DurationSchema.default('60s').describe('Per-call timeout'),
    startupTimeout: DurationSchema.default('30s').describe('Time allowed to start and initialise'),
    concurrency: z.number().int().min(1).max(1024).default(8).describe('In-flight calls to this upstream'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .optional()
      .describe('Public name prefix (default: the server name); "" exposes names unchanged'),
    tools: ToolPolicySchema.default({ allow: [], ask: [], deny: [] }),
  })
  .superRefine((value, ctx) => {
    const kinds = [value.command, value.url, value.sse].filter((v) => v !== undefined).length;
    if (kinds !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: kinds === 0 ? [] : ['url'],
        message: 'set exactly one of command (stdio), url (Streamable HTTP) or sse (legacy SSE)',
      });
    }
  });
export type ServerFile = z.infer<typeof ServerFileSchema>;

/** The signals OpenTelemetry export can carry. */
export const TELEMETRY_SIGNALS = ['logs', 'traces', 'metrics'] as const;

/**
 * `gateway.yaml` `telemetry`: OpenTelemetry export over OTLP/HTTP. Fields left out fall back to
 * the standard `OTEL_*` environment variables, then to the OpenTelemetry defaults.
 */
export const TelemetrySchema = z.strictObject({
  enabled: z.boolean().default(true).describe('false turns export off even when OTEL_* variables are set'),
  endpoint: z.string().url().optional().describe('OTLP/HTTP base URL (/v1/logs, /v1/traces, /v1/metrics are appended); else OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318'),
  protocol: z.enum(['http/protobuf', 'http/json']).optional().describe('OTLP encoding; else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf'),
  headers: z.record(z.string().min(1), z.string()).optional().describe('HTTP headers sent to the collector (added to OTEL_EXPORTER_OTLP_HEADERS)'),
  serviceName: z.string().min(1).optional().describe('service.name; else OTEL_SERVICE_NAME, else mcpgate'),
  resourceAttributes: z.record(z.string().min(1), z.string()).optional().describe('Extra resource attributes (added to OTEL_RESOURCE_ATTRIBUTES)'),
  signals: z.array(z.enum(TELEMETRY_SIGNALS)).optional().describe('Signals to export (default: logs, traces, metrics)'),
  exportInterval: DurationSchema.optional().describe('Metric export interval; else OTEL_METRIC_EXPORT_INTERVAL, else 60s'),
  exportTimeout: DurationSchema.optional().describe('Timeout of one export request; else OTEL_EXPORTER_OTLP_TIMEOUT, else 10s'),
  maxQueueSize: z.number().int().min(1).max(1_000_000).optional().describe('Spans or log records buffered per signal before new ones are dropped (default 2048)'),
});
export type TelemetryInput = z.infer<typeof TelemetrySchema>;

/** `gateway.yaml`: listener, global policy, audit. */
export const GatewayFileSchema = z.strictObject({
  $schema: z.string().optional(),
  listen: z
    .strictObject({
      transport: z.enum(['stdio', 'http']).default('stdio'),
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8848),
      allowedHosts: z.array(z.string()).default([]).describe('Extra Host header values accepted (DNS-rebinding protection)'),
      allowedOrigins: z.array(z.string()).default([]).describe('Extra Origin values accepted (DNS-rebinding protection)'),
    })
    .default({ transport: 'stdio', host: '127.0.0.1', port: 8848, allowedHosts: [], allowedOrigins: [] }),
  policy: z
    .strictObject({
      default: DecisionSchema.optional().describe('Decision for tools no rule names (unset: ask)'),
      showDenied: z.boolean().default(false).describe('List denied tools in tools/list (calls still fail)'),
      allow: z.array(RuleSchema).default([]).describe('server/tool globs, e.g. "github/get_*"'),
      ask: z.array(RuleSchema).default([]),
      deny: z.array(RuleSchema).default([]),
    })
    .default({ showDenied: false, allow: [], ask: [], deny: [] }),
  audit: z
    .strictObject({
      file: z.string().default('./mcpgate-audit.log').describe('Audit log path (relative: to the config dir)'),
      arguments: z.enum(['full', 'redacted', 'hash', 'none']).default('redacted'),
      maxArgumentBytes: z.number().int().min(64).default(4096).describe('Cap on recorded argument size'),
    })
    .default({ file: './mcpgate-audit.log', arguments: 'redacted', maxArgumentBytes: 4096 }),
  upstreams: z
    .strictObject({
      restartInitialDelay: DurationSchema.default('500ms'),
      restartMaxDelay: DurationSchema.default('30s'),
    })
    .default({ restartInitialDelay: '500ms', restartMaxDelay: '30s' }),
  catalog: z
    .strictObject({
      pageSize: z.number().int().min(1).max(10_000).default(100).describe('Items per tools/prompts/resources list page'),
    })
    .default({ pageSize: 100 }),
  telemetry: TelemetrySchema.optional().describe('OpenTelemetry export (off unless this section or OTEL_EXPORTER_OTLP_*ENDPOINT is set)'),
});
export type GatewayFile = z.infer<typeof GatewayFileSchema>;
