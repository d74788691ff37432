#!/usr/bin/env node
/**
 * CLI entry: parse arguments, dispatch to cli/, map errors to exit codes (0 ok, 1 user error,
 * 2 usage error). The only place that calls process.exit.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { auditCommand } from './cli/audit.js';
import { checkCommand } from './cli/check.js';
import { configDirFrom } from './cli/configDir.js';
import { serveCommand } from './cli/serve.js';
import { toolsCommand } from './cli/tools.js';
import { GatewayError, UsageError } from './errors.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from './version.js';

const USAGE = `mcpgate — one MCP endpoint in front of many MCP servers, with policy and an audit trail

Usage:
  mcpgate serve  [--config DIR] [--transport stdio|http] [--host H] [--port P] [--requirements FILE]
  mcpgate check  [--config DIR]
  mcpgate tools  [--config DIR] [--json]
  mcpgate audit  query|verify|report [--config DIR | --file PATH] [...]   (mcpgate audit --help)
  mcpgate --help | --version

Options:
  --config DIR   configuration directory (default: $MCPGATE_CONFIG, else the current directory)
  --debug        print stack traces on errors
  -h, --help     show help for a command

Not yet available in this version: secrets, approvals, approve, deny.
`;

const HELP: Record<string, string> = {
  serve: `mcpgate serve [--config DIR] [--transport stdio|http] [--host H] [--port P] [--requirements FILE]

Runs the gateway. stdio by default (for an agent that spawns it); --transport http serves
Streamable HTTP at /mcp on 127.0.0.1:8848 (gateway.yaml listen.* sets the defaults).
`,
  check: `mcpgate check [--config DIR]

Validates gateway.yaml and every servers.d file without starting anything. Prints each server
and every problem as file:line: field: message. Exit 1 on any error.
`,
  tools: `mcpgate tools [--config DIR] [--json]

Starts the upstreams and prints the aggregated catalog: each tool's public name, its effective
decision (allow/ask/deny) and the rule that decided it. Exit 1 if a server failed.
`,
};

const OPTIONS: ParseArgsConfig['options'] = {
  config: { type: 'string' },
  transport: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  requirements: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};

const ALLOWED: Record<string, readonly string[]> = {
  serve: ['config', 'transport', 'host', 'port', 'requirements'],
  check: ['config'],
  tools: ['config', 'json'],
};

const LATER = new Set(['secrets', 'approvals', 'approve', 'deny']);

async function run(argv: readonly string[]): Promise<number> {
  // `audit` has subcommands with their own options.
  if (argv[0] === 'audit') return auditCommand(argv.slice(1), { out: process.stdout, err: process.stderr });
  const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
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
  if (LATER.has(command)) {
    process.stderr.write(`mcpgate ${command}: not available in this version of mcpgate yet\n`);
    return 1;
  }
  const allowed = ALLOWED[command];
  if (!allowed) throw new UsageError(`unknown command "${command}" (see mcpgate --help)`);
  if (values.help) {
    process.stdout.write(HELP[command] ?? USAGE);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}" for mcpgate ${command}`);
  for (const key of Object.keys(values)) {
    if (key !== 'debug' && values[key] !== undefined && !allowed.includes(key)) {
      throw new UsageError(`option --${key} does not apply to mcpgate ${command}`);
    }
  }
  const config = values.config as string | undefined;
  switch (command) {
    case 'serve':
      return serveCommand({
        config,
        transport: values.transport as string | undefined,
        host: values.host as string | undefined,
        port: values.port as string | undefined,
        requirements: values.requirements as string | undefined,
      });
    case 'check':
      return checkCommand({ configDir: configDirFrom(config), out: process.stdout, err: process.stderr });
    default:
      return toolsCommand({ config, json: values.json === true, out: process.stdout, err: process.stderr });
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
  process.stderr.write(`mcpgate: unhandled rejection (kept running): ${reason instanceof Error ? reason.message : String(reason)}\n`);
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
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`mcpgate: ${message}\n`);
    if (error instanceof GatewayError && error.remedy) process.stderr.write(`  fix: ${error.remedy}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(usage ? 2 : 1);
  },
);
