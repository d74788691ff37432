#!/usr/bin/env node
/**
 * CLI entry: parse arguments, dispatch to cli/, map errors to exit codes (0 ok, 1 user error,
 * 2 usage error). The only place that calls process.exit. Each command's module is imported only
 * when that command runs: a short CLI call (`audit verify`, `secrets get`) does not pay ~0.5 s to
 * load the gateway, its transports and telemetry.
 */
import type { ParseArgsConfig } from 'node:util';
import { parseCommandLine } from './cli/args.js';
import { configDirFrom } from './cli/configDir.js';
import { GatewayError, UsageError, messageOf } from './errors.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from './version.js';

const USAGE = `mcpgate — one MCP endpoint in front of many MCP servers, with policy and an audit trail

Usage:
  mcpgate serve  [--config DIR] [--transport stdio|http] [--host H] [--port P] [--requirements FILE] [--insecure-no-auth] [--log-format pretty|json]
  mcpgate check  [--config DIR] [--requirements FILE]
  mcpgate tools  [--config DIR] [--json] [--requirements FILE] [--accept SERVER__TOOL]
  mcpgate approvals [--config DIR] [--json | --full ID] [--watch]
  mcpgate approve ID [--session | --always] [--config DIR]
  mcpgate deny ID [--reason TEXT] [--config DIR]
  mcpgate status [--config DIR] [--json]
  mcpgate console [--config DIR]
  mcpgate secrets set NAME | get NAME [--reveal] | list | delete NAME
  mcpgate import FILE [--config DIR] [--dry-run] [--force] [--format F] [--project PATH]
  mcpgate audit  query|verify|report [--config DIR | --file PATH] [...]   (mcpgate audit --help)
  mcpgate --help | --version

Options:
  --config DIR   configuration directory (default: $MCPGATE_CONFIG, else the current directory)
  --requirements FILE  managed requirements (default: $MCPGATE_REQUIREMENTS, else
                 /etc/mcpgate/requirements.yaml if present); a broken file refuses to start
  --debug        print stack traces on errors
  -h, --help     show help for a command

`;

const HELP: Record<string, string> = {
  serve: `mcpgate serve [--config DIR] [--transport stdio|http] [--host H] [--port P] [--requirements FILE] [--insecure-no-auth] [--log-format pretty|json]

Runs the gateway. stdio by default (for an agent that spawns it); --transport http serves
Streamable HTTP at /mcp on 127.0.0.1:8848 (gateway.yaml listen.* sets the defaults).
Serving HTTP on a non-loopback address requires client authentication (gateway.yaml auth:)
unless --insecure-no-auth is given. Logs go to stderr: one coloured line per entry on a
terminal, JSON lines otherwise (--log-format or MCPGATE_LOG_FORMAT chooses; MCPGATE_LOG_LEVEL
sets the level). SIGINT and SIGTERM stop it cleanly; SIGHUP reloads the configuration
(it also reloads when its files change; gateway.yaml reload.watch).
`,
  secrets: `mcpgate secrets set NAME | get NAME [--reveal] | list | delete NAME

Manages the credentials \${secret:NAME} references read, in the OS keychain (service "mcpgate").
  set NAME       stores a value read from stdin (one trailing newline trimmed), or typed at a
                 hidden prompt on a terminal; never from the command line
  get NAME       says whether NAME exists; --reveal prints its value
  list           prints the names (never values)
  delete NAME    removes NAME
Linux needs a Secret Service (e.g. gnome-keyring) on the D-Bus session bus.
`,
  check: `mcpgate check [--config DIR] [--requirements FILE]

Validates gateway.yaml and every servers.d file without starting anything. Prints each server
and every problem as file:line: field: message. Exit 1 on any error. With managed requirements,
checks them too and warns about each user rule or setting they override. Lists each "always
allow" entry (approval.rulesFile) with what it answers or why it does not apply, and each stdio
server's effective network policy (a remote URL the network policy refuses is an error).
When a gateway is serving this directory, says what a reload (SIGHUP, or its file watch) of the
files as they are now would do: servers started, stopped, restarted or reconfigured, rules changed.
`,
  tools: `mcpgate tools [--config DIR] [--json] [--requirements FILE] [--accept SERVER__TOOL]

Starts the upstreams and prints the aggregated catalog: each tool's public name, its effective
decision (allow/ask/deny) and the rule that decided it ("managed: …" when managed requirements
overrode a user rule). Under a tool, each "always allow" entry naming it: "ask → allow
(always: FILE:LINE, …)" or why it does not apply. Then each stdio server's effective network
policy ("network SERVER: …"; --json: servers[].network). Exit 1 if a server failed.
--accept SERVER__TOOL accepts the changed tool definition a running gateway recorded (tool
pinning) instead of listing; the gateway picks it up within a second.
`,
  approvals: `mcpgate approvals [--config DIR] [--json | --full ID] [--watch]

Lists the tool calls waiting for approval in the running gateway(s) of this configuration: id,
age, session, client, server, tool and a one-line summary of the arguments (every key; long values
cut in the middle, marked …[N chars cut]…); and the network connections upstream servers asked to
open (TOOL "(network)": the destination and the tool call in flight). Answer with approve or deny.
--full ID shows one call with all its arguments (secrets redacted); --json lists every call with
its full arguments (arguments_full).
--watch follows the queue: a "+" line (and the approve/deny commands) as a call starts waiting,
a "-" line as it stops; Ctrl-C ends it. With --json, one JSON line per change.
`,
  approve: `mcpgate approve ID [--session | --always] [--config DIR]

Approves a pending call once; --session also approves that tool for the rest of the calling
session; --always writes an allow entry to the approved-rules file (approval.rulesFile). For a
network ask: once = this connection, --session = that server and destination for the session
whose call is in flight, --always = a network entry in the approved-rules file.
`,
  deny: `mcpgate deny ID [--reason TEXT] [--config DIR]

Denies a pending call; the agent sees the reason.
`,
  status: `mcpgate status [--config DIR] [--json]

Shows each running gateway of this configuration (stdio and HTTP alike, through its admin
endpoint): health (ok or degraded: a server failed, or restarting in a loop) and readiness, each
upstream's state, restarts, last error and sandbox, the open sessions, the pending approvals and
the reload generation. --json prints {"gateways": [...], "problems": [...]}.
`,
  console: `mcpgate console [--config DIR]

Prints a one-time login link to the web console of each running gateway of this configuration
(pending approvals to approve or deny, upstream health, sessions, the audit log, live). The link
works once, within a minute, in a browser on this machine; the console then keeps a session
cookie. Run it as the user running the gateway.
`,
  import: `mcpgate import FILE [--config DIR] [--dry-run] [--force] [--format F] [--project PATH]

Writes one servers.d/NAME.yaml per MCP server listed in FILE, a configuration of
  Claude Desktop  claude_desktop_config.json (mcpServers)
  Claude Code     .mcp.json, ~/.claude.json (user scope and projects)
  Cursor          .cursor/mcp.json
  VS Code         .vscode/mcp.json (servers, inputs)
  Codex           ~/.codex/config.toml ([mcp_servers.NAME])
The format comes from the file's name or content; --format claude-desktop|claude-code|cursor|
vscode|codex chooses it. Every tool asks for approval (tools.default: ask). Literal credentials
in env, headers, args and URLs are stored in the OS keychain and written as \${secret:NAME}.
  --dry-run       show the files and secrets; write nothing, touch no keychain
  --force         replace existing servers.d files and keychain entries
  --project PATH  ~/.claude.json: the user-scope servers and that project's only
Nothing is written unless everything can be (existing files, keychain, disk).
`,
};

const OPTIONS = {
  config: { type: 'string' },
  transport: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  requirements: { type: 'string' },
  accept: { type: 'string' },
  json: { type: 'boolean' },
  reveal: { type: 'boolean' },
  'insecure-no-auth': { type: 'boolean' },
  'log-format': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  session: { type: 'boolean' },
  always: { type: 'boolean' },
  watch: { type: 'boolean' },
  reason: { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  format: { type: 'string' },
  project: { type: 'string' },
  full: { type: 'string' },
} satisfies ParseArgsConfig['options'];

const ALLOWED: Record<string, readonly string[]> = {
  serve: ['config', 'transport', 'host', 'port', 'requirements', 'insecure-no-auth', 'log-format'],
  check: ['config', 'requirements'],
  tools: ['config', 'json', 'requirements', 'accept'],
  approvals: ['config', 'json', 'full', 'watch'],
  approve: ['config', 'session', 'always'],
  deny: ['config', 'reason'],
  status: ['config', 'json'],
  console: ['config'],
  secrets: ['reveal'],
  import: ['config', 'dry-run', 'force', 'format', 'project'],
};

/** Commands taking one positional argument (an approval id, the file to import). */
const WITH_ID = new Set(['approve', 'deny', 'import']);

async function run(argv: readonly string[]): Promise<number> {
  // `audit` has subcommands with their own options.
  if (argv[0] === 'audit') return (await import('./cli/audit.js')).auditCommand(argv.slice(1), { out: process.stdout, err: process.stderr });
  // An unknown option is suggested from the options of the command it was given to.
  const named = argv.find((arg) => ALLOWED[arg] !== undefined);
  const parsed = parseCommandLine(argv, OPTIONS, named ? [...(ALLOWED[named] as readonly string[]), 'help', 'debug'] : Object.keys(OPTIONS));
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [command, ...rest] = parsed.positionals;
  if (values.version) {
    process.stdout.write(`${GATEWAY_NAME} ${GATEWAY_VERSION}\n`);
    return 0;
  }
  if (!command || command === 'help') {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const allowed = ALLOWED[command];
  if (!allowed) throw new UsageError(`unknown command "${command}" (see mcpgate --help)`);
  if (values.help) {
    process.stdout.write(HELP[command] ?? USAGE);
    return 0;
  }
  const id = WITH_ID.has(command) ? rest.shift() : undefined;
  if (rest.length && command !== 'secrets') throw new UsageError(`unexpected argument "${rest[0]}" for mcpgate ${command}`);
  for (const key of Object.keys(values)) {
    if (key !== 'debug' && values[key] !== undefined && !allowed.includes(key)) {
      throw new UsageError(`option --${key} does not apply to mcpgate ${command}`);
    }
  }
  const config = values.config as string | undefined;
  switch (command) {
    case 'serve':
      return (await import('./cli/serve.js')).serveCommand({
        config,
        transport: values.transport as string | undefined,
        host: values.host as string | undefined,
        port: values.port as string | undefined,
        requirements: values.requirements as string | undefined,
        insecureNoAuth: values['insecure-no-auth'] === true,
        logFormat: values['log-format'] as string | undefined,
      });
    case 'approvals':
      return (await import('./cli/approvals.js')).approvalsCommand({ configDir: configDirFrom(config), out: process.stdout, err: process.stderr, json: values.json === true, full: values.full as string | undefined, watch: values.watch === true });
    case 'approve':
      return (await import('./cli/approvals.js')).approveCommand({ configDir: configDirFrom(config), out: process.stdout, id, session: values.session === true, always: values.always === true });
    case 'deny':
      return (await import('./cli/approvals.js')).denyCommand({ configDir: configDirFrom(config), out: process.stdout, id, reason: values.reason as string | undefined });
    case 'status':
      return (await import('./cli/status.js')).statusCommand({ configDir: configDirFrom(config), json: values.json === true, out: process.stdout, err: process.stderr });
    case 'console':
      return (await import('./cli/console.js')).consoleCommand({ configDir: configDirFrom(config), out: process.stdout, err: process.stderr });
    case 'secrets':
      return (await import('./cli/secrets.js')).secretsCommand({ args: rest, reveal: values.reveal === true, stdin: process.stdin, out: process.stdout, err: process.stderr });
    case 'import':
      return (await import('./cli/import.js')).importCommand({
        file: id,
        configDir: configDirFrom(config),
        dryRun: values['dry-run'] === true,
        force: values.force === true,
        format: values.format as string | undefined,
        project: values.project as string | undefined,
        out: process.stdout,
        err: process.stderr,
      });
    case 'check':
      return (await import('./cli/check.js')).checkCommand({ configDir: configDirFrom(config), requirements: values.requirements as string | undefined, out: process.stdout, err: process.stderr });
    default:
      return (await import('./cli/tools.js')).toolsCommand({
        config,
        json: values.json === true,
        requirements: values.requirements as string | undefined,
        accept: values.accept as string | undefined,
        out: process.stdout,
        err: process.stderr,
      });
  }
}

function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

// Nothing a client or upstream sends may take the gateway down: report and keep serving.
process.on('uncaughtException', (error) => {
  process.stderr.write(`mcpgate: internal error (kept running): ${error.message}\n`);
});
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`mcpgate: unhandled rejection (kept running): ${messageOf(reason)}\n`);
});

const argv = process.argv.slice(2);
const debug = argv.includes('--debug');
run(argv).then(
  (code) => {
    process.exitCode = code;
    // Serve resolves only after shutdown; anything left (e.g. an upstream ignoring SIGTERM) must not hold us.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (error: unknown) => {
    const usage = isUsageError(error);
    const message = messageOf(error);
    process.stderr.write(`mcpgate: ${message}\n`);
    if (error instanceof GatewayError && error.remedy) process.stderr.write(`  fix: ${error.remedy}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(usage ? 2 : 1);
  },
);
