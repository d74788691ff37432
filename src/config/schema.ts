/**
 * zod schemas for the configuration directory: `servers.d/NAME.(yaml|yml|json)` and `gateway.yaml`.
 * These are the single source of truth: TypeScript types come from `z.infer`, and the published
 * JSON Schema (`schema/*.schema.json`) is generated from them. Unknown keys are errors.
 */
import { z } from 'zod';
import { authSchema, clientsSchema } from './authSchema.js';
import { gatewayNetworkSchema, ServerNetworkSchema } from './networkSchema.js';
import { DecisionSchema, DurationSchema, RuleSchema } from './ruleSchema.js';

export {
  ArgConditionSchema,
  DecisionSchema,
  DurationSchema,
  durationToMs,
  RuleArgsSchema,
  RuleSchema,
  type ArgConditionInput,
  type Decision,
  type RuleInput,
} from './ruleSchema.js';

/** A server name is the file stem of its servers.d file. */
export const SERVER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** Per-server tool policy. */
export const ToolPolicySchema = z.strictObject({
  default: DecisionSchema.optional().describe('Decision for tools no rule names (unset: the global default, else ask)'),
  allow: z.array(RuleSchema).default([]),
  ask: z.array(RuleSchema).default([]),
  deny: z.array(RuleSchema).default([]),
});
export type ToolPolicyInput = z.infer<typeof ToolPolicySchema>;

/**
 * How an `ask` reaches a human: `auto` (elicitation when the client supports it, else the queue),
 * `elicitation` only, `queue` only (`mcpgate approve`), or `none` (an ask is a deny).
 */
export const ApprovalChannelSchema = z.enum(['auto', 'elicitation', 'queue', 'none']);

/** `approval.autoReview`: exactly one reviewer (command, url or sampling). */
export const AutoReviewSchema = z
  .strictObject({
    command: z.array(z.string().min(1)).min(1).optional().describe('Reviewer command and arguments: call JSON on stdin, verdict JSON on stdout'),
    url: z.string().url().optional().describe('Reviewer webhook: call JSON POSTed, verdict JSON answered'),
    headers: z.record(z.string().min(1), z.string()).default({}).describe('HTTP headers sent to the webhook (${env:} and ${file:} references allowed)'),
    sampling: z.boolean().optional().describe("Ask the calling client's own model through sampling/createMessage"),
    timeout: DurationSchema.default('10s').describe('Time limit of one review; past it the call escalates'),
    recentCalls: z.number().int().min(0).max(100).default(10).describe("How many of the session's last calls the reviewer sees"),
  })
  .superRefine((value, ctx) => {
    const kinds = [value.command, value.url, value.sampling || undefined].filter((v) => v !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of command, url or sampling: true' });
  });

/**
 * Default of `maxMessageBytes` (4 MiB, as the SDK's HTTP transports accept from clients): parsing
 * that much JSON takes the event loop about 6 ms for one large string (an image, a file) and
 * 15-55 ms for the worst shape (many small objects), docs/decisions.md.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** off | auto (sandbox where the platform can, else run with a warning) | required (refuse to start without one). */
export const SandboxModeSchema = z.enum(['off', 'auto', 'required']);
export type SandboxMode = z.infer<typeof SandboxModeSchema>;

/** A sandbox path: absolute, `~` / `~/…` (the server's HOME), or relative to the server's cwd. */
const SandboxPathSchema = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('~') || path === '~' || path.startsWith('~/'), 'write ~ or ~/path (the server\'s HOME); ~user is not supported');

/** `sandbox`: how a stdio upstream is confined (servers.d per server; gateway.yaml holds the default). */
export const SandboxSchema = z.strictObject({
  mode: SandboxModeSchema.optional().describe('off | auto (default: sandbox where the platform can, else run unconfined with a warning) | required (refuse to start without a sandbox)'),
  filesystem: z
    .strictObject({
      denyRead: z.array(SandboxPathSchema).optional().describe("Paths the server cannot read, added to the built-in list (mcpgate's own files, credentials); relative: to the server's cwd"),
      allowWrite: z.array(SandboxPathSchema).optional().describe("The only paths the server can write besides a private /tmp; relative: to the server's cwd; created as directories when missing"),
    })
    .optional(),
});
export type SandboxInput = z.infer<typeof SandboxSchema>;

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
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_BYTES)
      .describe('Largest message (one line) accepted from a stdio upstream; a longer one fails the call it answers'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .optional()
      .describe('Public name prefix (default: the server name); "" exposes names unchanged'),
    tools: ToolPolicySchema.default({ allow: [], ask: [], deny: [] }),
    approval: z
      .strictObject({ channel: ApprovalChannelSchema.optional().describe('How asks for this server reach a human (unset: gateway.yaml approval.channel)') })
      .optional(),
    validateArguments: z
      .boolean()
      .default(true)
      .describe("Check call arguments against the tool's inputSchema before forwarding (false: forward unchecked)"),
    resources: z
      .enum(['allow', 'deny'])
      .optional()
      .describe('resources/list, templates, read, subscribe and their completions (unset: deny when the tool default is deny, else allow)'),
    prompts: z
      .enum(['allow', 'deny'])
      .optional()
      .describe('prompts/list, prompts/get and their completions (unset: deny when the tool default is deny, else allow)'),
    trustAnnotations: z
      .boolean()
      .default(false)
      .describe("Pass the upstream's tool annotations (readOnlyHint, destructiveHint, …) through unexamined; an ask tool is still never advertised read-only"),
    network: ServerNetworkSchema.optional(),
    protocol: z
      .enum(['auto', '2025-11-25', '2026-07-28'])
      .default('auto')
      .describe('MCP revision spoken to this server; auto: probe with server/discover, speak 2026-07-28 statelessly if it is offered, else initialize (2025-11-25)'),
    sandbox: SandboxSchema.optional().describe('Confinement of a stdio upstream (unset fields: gateway.yaml sandbox, then mode auto)'),
    isolation: z
      .enum(['shared', 'session'])
      .default('shared')
      .describe('shared: one upstream for every client; session: one upstream per client session (for servers that keep per-user state or ask the client for sampling/elicitation/roots)'),
    idleTimeout: DurationSchema.default('10m').describe('isolation: session: stop a session\'s upstream after this long without a request'),
    maxInstances: z.number().int().min(1).max(1000).default(16).describe('isolation: session: most upstreams running at once (one per session); a session past it gets MCPGATE_ISOLATION_LIMIT'),
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
    if (value.sandbox && value.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sandbox'], message: 'only stdio (command) upstreams run in a sandbox; a url/sse server runs elsewhere' });
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
      fsync: z.enum(['always', 'batch']).default('batch').describe('always: each record is written and fsynced before the gateway acts on it (write-ahead); batch: written at the end of each event-loop turn, fsynced every fsyncInterval'),
      fsyncInterval: DurationSchema.default('1s').describe('batch mode: how often written records are fsynced'),
      rotate: z
        .strictObject({
          maxBytes: z.number().int().min(4096).describe('Rotate the audit file before it grows past this size'),
          keep: z.number().int().min(1).optional().describe('Rotated files to keep (unset: all); older ones are deleted'),
        })
        .optional()
        .describe('Size-based rotation; the hash chain continues across files'),
      checkpoint: z
        .strictObject({
          key: z.string().min(1).describe('Signing key as a reference: ${file:PATH}, ${env:NAME} or ${secret:NAME} (PKCS#8 PEM for EdDSA/ES256, a secret of 32+ bytes for HS256)'),
          alg: z.enum(['EdDSA', 'ES256', 'HS256']).default('EdDSA'),
          every: z.number().int().min(1).default(1000).describe('Sign a checkpoint after this many records'),
          interval: DurationSchema.default('5m').describe('… or after this long, whichever comes first'),
        })
        .optional()
        .describe('Signed checkpoints: a JWS over the chain head, written into the log'),
    })
    .default({ file: './mcpgate-audit.log', arguments: 'redacted', maxArgumentBytes: 4096, fsync: 'batch', fsyncInterval: '1s' }),
  upstreams: z
    .strictObject({
      restartInitialDelay: DurationSchema.default('500ms'),
      restartMaxDelay: DurationSchema.default('30s'),
      startupWait: DurationSchema.default('5s').describe('How long requests that arrive while upstreams are still starting wait for them (at most)'),
    })
    .default({ restartInitialDelay: '500ms', restartMaxDelay: '30s', startupWait: '5s' }),
  approval: z
    .strictObject({
      channel: ApprovalChannelSchema.default('auto'),
      timeout: DurationSchema.default('120s').describe('How long an ask waits for an answer; then it is denied'),
      allowAlways: z.boolean().default(true).describe('Offer "always allow" (persisted to approval.rulesFile) and honour that file'),
      sessionScope: z.enum(['tool', 'arguments']).default('tool').describe('What "allow for this session" remembers: the tool, or the tool with these exact arguments'),
      rulesFile: z.string().default('./rules.d/approved.yaml').describe('Where "always allow" answers are written (relative: to the config dir)'),
      adminDir: z.string().optional().describe('Where the admin endpoint file for mcpgate approvals/approve/deny is written (default: .mcpgate next to the audit log)'),
      autoReview: AutoReviewSchema.optional(),
    })
    .default({ channel: 'auto', timeout: '120s', allowAlways: true, sessionScope: 'tool', rulesFile: './rules.d/approved.yaml' }),
  catalog: z
    .strictObject({
      pageSize: z.number().int().min(1).max(10_000).default(100).describe('Items per tools/prompts/resources list page'),
    })
    .default({ pageSize: 100 }),
  http: z
    .strictObject({
      sessionIdleTimeout: DurationSchema.default('30m').describe('Close an HTTP session with no request in flight and none for this long (0: never)'),
    })
    .default({ sessionIdleTimeout: '30m' })
    .describe('Streamable HTTP listener (serve --transport http)'),
  auth: authSchema(DurationSchema).optional().describe('Bearer-JWT authentication of HTTP clients'),
  clients: clientsSchema(RuleSchema).describe('Per-subject / per-group rules (needs auth)'),
  telemetry: TelemetrySchema.optional().describe('OpenTelemetry export (off unless this section or OTEL_EXPORTER_OTLP_*ENDPOINT is set)'),
  network: gatewayNetworkSchema(DurationSchema),
  sandbox: SandboxSchema.optional().describe('Default confinement of stdio upstreams (each servers.d file may override mode and allowWrite; denyRead lists add up)'),
  reload: z
    .strictObject({
      watch: z.boolean().default(true).describe('Reload when gateway.yaml, a servers.d file, the requirements file or the approved-rules file changes (SIGHUP always reloads)'),
      debounce: DurationSchema.default('300ms').describe('Wait this long after the last change before reloading (editors write in several steps)'),
    })
    .default({ watch: true, debounce: '300ms' })
    .describe('Configuration reload while serving (docs/configuration.md)'),
});
export type GatewayFile = z.infer<typeof GatewayFileSchema>;
