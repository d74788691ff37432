/**
 * The normalised, frozen configuration the rest of the gateway reads. Built once by `loadConfig`;
 * nothing on the hot path parses configuration again.
 */
import type { ManagedRequirements } from '../requirements/types.js';
import type { PolicySection } from './policyTypes.js';
import type { SandboxMode } from './schema.js';

export type { PolicySection, SourcedRule } from './policyTypes.js';

/** A stdio upstream, still holding unresolved `${…}` references. */
export interface StdioTarget {
  readonly kind: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute working directory (defaults to the config dir). */
  readonly cwd: string;
}

/** A remote upstream (Streamable HTTP or legacy SSE), still holding unresolved references. */
export interface HttpTarget {
  readonly kind: 'http' | 'sse';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where an upstream lives and how to reach it. */
export type UpstreamTarget = StdioTarget | HttpTarget;

/** How a stdio upstream is confined: gateway.yaml's `sandbox` and the server's merged per field. */
export interface SandboxConfig {
  readonly mode: SandboxMode;
  /** Where the mode was set: `servers.d/x.yaml sandbox.mode`, `gateway.yaml sandbox.mode`, `default`, or `managed: FILE sandbox.mode`. */
  readonly modeSource: string;
  /** As written (`~/…`, absolute, or relative to the server's cwd); the built-in list is added at launch. */
  readonly denyRead: readonly string[];
  /** As written; the only writable paths besides a private /tmp. */
  readonly allowWrite: readonly string[];
}

/** One upstream server as configured by its servers.d file. */
export interface ServerConfig {
  /** File stem; `[a-z0-9][a-z0-9_-]*`. */
  readonly name: string;
  /** Config-dir-relative path of the servers.d file. */
  readonly file: string;
  readonly description?: string;
  readonly target: UpstreamTarget;
  readonly enabled: boolean;
  readonly timeoutMs: number;
  readonly startupTimeoutMs: number;
  readonly concurrency: number;
  /** Largest message (line) accepted from a stdio upstream, in bytes (loading always sets it; default 4 MiB). */
  readonly maxMessageBytes?: number;
  /** Public-name prefix: the server name unless set; "" exposes upstream names unchanged. */
  readonly prefix: string;
  readonly tools: PolicySection;
  /** Check call arguments against the tool's inputSchema before forwarding (default true). */
  readonly validateArguments?: boolean;
  /** `resources:` as set in the file (unset: follows the tool default, see policy.ts). */
  readonly resources?: 'allow' | 'deny';
  /** `prompts:` as set in the file (unset: follows the tool default). */
  readonly prompts?: 'allow' | 'deny';
  /** Pass the upstream's tool annotations through unexamined (default false: untrusted). */
  readonly trustAnnotations?: boolean;
  /** The server's own `approval.channel`, when set. */
  readonly approvalChannel?: ApprovalChannel;
  /** The server's own `network` rules (merged with gateway.yaml's by src/network/policy.ts), when set. */
  readonly network?: PolicySection;
  /** 1-based lines of the target's fields in the server file (`command`, `args[0]`, `cwd`, `env.HOME`, `url`…), for messages. */
  readonly lines?: Readonly<Record<string, number>>;
  /** Confinement of a stdio upstream (absent for url/sse servers, which run elsewhere). */
  readonly sandbox?: SandboxConfig;
  /** The MCP revision spoken to the server (`auto`: probed at each start; absent: auto). */
  readonly protocol?: UpstreamProtocol;
  /** `isolation: session`: one upstream per client session (absent: one shared upstream). */
  readonly isolation?: { readonly idleTimeoutMs: number; readonly maxInstances: number };
}

/** servers.d `protocol`: which MCP revision mcpgate speaks to an upstream. */
export type UpstreamProtocol = 'auto' | '2025-11-25' | '2026-07-28';

/** How an `ask` reaches a human. */
export type ApprovalChannel = 'auto' | 'elicitation' | 'queue' | 'none';

/** The automatic reviewer asked before a human. */
export type AutoReviewConfig = {
  readonly timeoutMs: number;
  readonly recentCalls: number;
} & (
  | { readonly kind: 'command'; readonly command: readonly string[] }
  | { readonly kind: 'url'; readonly url: string; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'sampling' }
);

/** The `approval` section of gateway.yaml. */
export interface ApprovalConfig {
  readonly channel: ApprovalChannel;
  readonly timeoutMs: number;
  /** false: "always allow" is neither offered nor honoured (managed requirements may force this). */
  readonly allowAlways: boolean;
  readonly sessionScope: 'tool' | 'arguments';
  /** Absolute path of the "always allow" rules file. */
  readonly rulesFile: string;
  /** Absolute directory of the admin endpoint files. */
  readonly adminDir: string;
  readonly autoReview?: AutoReviewConfig;
}

/** gateway.yaml `auth`: bearer-JWT authentication of HTTP clients (references still unresolved). */
export interface AuthConfig {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Where verification keys come from. `value`s may hold `${…}` references. */
  readonly key: { readonly kind: 'jwks'; readonly url: string } | { readonly kind: 'publicKey' | 'secret'; readonly value: string };
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  readonly maxTokenAgeSec?: number;
  readonly subjectClaim: string;
  readonly groupsClaim: string;
  readonly resource?: string;
  readonly authorizationServers: readonly string[];
  readonly scopes?: readonly string[];
}

/** One gateway.yaml `clients` entry: rules for sessions whose subject (or one of whose groups) matches. */
export interface ClientRuleSet {
  readonly subject?: string;
  readonly group?: string;
  /** `clients[2]` */
  readonly where: string;
  readonly policy: PolicySection;
}

/** gateway.yaml `telemetry`, durations in milliseconds; unset fields fall back to OTEL_* variables. */
export interface TelemetryConfig {
  readonly enabled: boolean;
  readonly endpoint?: string;
  readonly protocol?: 'http/protobuf' | 'http/json';
  readonly headers?: Readonly<Record<string, string>>;
  readonly serviceName?: string;
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  readonly signals?: readonly ('logs' | 'traces' | 'metrics')[];
  readonly exportIntervalMs?: number;
  readonly exportTimeoutMs?: number;
  readonly maxQueueSize?: number;
}

/** gateway.yaml `network`: global egress rules (strings) with provenance, and the proxy's limits. */
export interface NetworkConfig extends PolicySection {
  /** Open proxied connections per server. */
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** A problem found while loading configuration: `file:line: field: message`. */
export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  /** Dotted field path, e.g. `tools.deny[1].args`; absent for whole-file problems. */
  readonly field?: string;
  readonly message: string;
  /** The server this problem takes out of service, if any. */
  readonly server?: string;
  readonly severity: 'error' | 'warning';
}

/** Everything loaded from a configuration directory, validated and frozen. */
export interface GatewayConfig {
  /** Absolute configuration directory. */
  readonly dir: string;
  readonly listen: {
    readonly transport: 'stdio' | 'http';
    readonly host: string;
    readonly port: number;
    readonly allowedHosts: readonly string[];
    readonly allowedOrigins: readonly string[];
  };
  readonly policy: PolicySection & { readonly showDenied: boolean };
  readonly audit: {
    /** Absolute path. */
    readonly file: string;
    readonly arguments: 'full' | 'redacted' | 'hash' | 'none';
    readonly maxArgumentBytes: number;
    /** `always`: write-ahead, fsync per record; `batch`: write per event-loop turn, fsync on a timer. */
    readonly fsync: 'always' | 'batch';
    readonly fsyncIntervalMs: number;
    readonly rotate?: { readonly maxBytes: number; readonly keep?: number };
    /** Signed checkpoints; `key` is still an unresolved reference. */
    readonly checkpoint?: { readonly key: string; readonly alg: 'EdDSA' | 'ES256' | 'HS256'; readonly every: number; readonly intervalMs: number };
  };
  /** gateway.yaml `reload`: watch the configuration files (SIGHUP reloads either way). */
  readonly reload: { readonly watch: boolean; readonly debounceMs: number };
  readonly upstreams: { readonly restartInitialDelayMs: number; readonly restartMaxDelayMs: number; readonly startupWaitMs: number };
  readonly catalog: { readonly pageSize: number };
  /** Streamable HTTP listener settings; 0: sessions never expire. */
  readonly http?: { readonly sessionIdleTimeoutMs: number };
  readonly approval: ApprovalConfig;
  /** Client authentication for HTTP; absent: none. */
  readonly auth?: AuthConfig;
  /** Per-identity rules (absent or empty: none). */
  readonly clients?: readonly ClientRuleSet[];
  /** The managed requirements in force (applied by `applyRequirements`), if any. */
  readonly requirements?: ManagedRequirements;
  /** The `telemetry` section, when gateway.yaml has one (the OTEL_* environment is read at start). */
  readonly telemetry?: TelemetryConfig;
  /** gateway.yaml `network`: rules for every server's egress, and the egress proxy's limits. */
  readonly network: NetworkConfig;
  /** Valid servers (enabled or not); servers with errors are left out and described in `problems`. */
  readonly servers: readonly ServerConfig[];
  readonly problems: readonly ConfigProblem[];
  /** `sha256:…` over the configuration files (and the requirements file, when one applies): config/digest.ts. */
  readonly digest: string;
}

/** Formats a problem the way `mcpgate check` prints it: `file:line: field: message`. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return problem.field ? `${where}: ${problem.field}: ${problem.message}` : `${where}: ${problem.message}`;
}
