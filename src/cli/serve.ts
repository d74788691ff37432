/**
 * `mcpgate serve`: run the gateway over stdio (default) or Streamable HTTP until the client goes
 * away (stdio) or a signal arrives.
 */
import { loadConfig } from '../config/load.js';
import { formatProblem } from '../config/types.js';
import { HttpListener } from '../downstream/http.js';
import { StdioServerLineTransport } from '../downstream/stdioTransport.js';
import { UsageError } from '../errors.js';
import { Gateway } from '../gateway.js';
import { createAppLogger } from '../telemetry/logger.js';
import { startTelemetry } from '../telemetry/telemetry.js';
import { configDirFrom } from './configDir.js';
import { refuseUnsupportedRequirements } from './requirements.js';

/** Options of `mcpgate serve`. */
export interface ServeOptions {
  readonly config?: string;
  readonly transport?: string;
  readonly host?: string;
  readonly port?: string;
  readonly requirements?: string;
}

/** Runs the gateway; resolves with the exit code once it has shut down. */
export async function serveCommand(options: ServeOptions): Promise<number> {
  refuseUnsupportedRequirements(options.requirements);
  const config = await loadConfig(configDirFrom(options.config));
  const transport = options.transport ?? config.listen.transport;
  if (transport !== 'stdio' && transport !== 'http') throw new UsageError(`--transport must be stdio or http, not "${transport}"`);
  const port = options.port === undefined ? config.listen.port : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${options.port}"`);
  const host = options.host ?? config.listen.host;

  const logger = createAppLogger();
  for (const problem of config.problems) {
    logger[problem.severity === 'error' ? 'error' : 'warn']({ file: problem.file, server: problem.server }, formatProblem(problem));
  }
  const telemetry = await startTelemetry(config, logger);
  const gateway = new Gateway({ config, logger, ...(telemetry ? { sinks: [telemetry.sink], tracer: telemetry.tracer } : {}) });
  void gateway.start();

  let stop: () => Promise<void>;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    stop = async () => {
      if (stopping) return;
      stopping = true;
      await listener?.close();
      await gateway.close();
      await telemetry?.shutdown();
      resolve();
    };
  });
  let listener: HttpListener | undefined;

  if (transport === 'stdio') {
    const session = gateway.createSession('stdio');
    const io = new StdioServerLineTransport();
    // The SDK chains this handler before its own: the client went away, so the gateway stops.
    io.onclose = () => void stop!();
    session.enableFastPath(io);
    await session.connect(io);
    logger.info({ config: config.dir, servers: gateway.upstreams.size }, 'mcpgate serving MCP on stdio');
  } else {
    listener = new HttpListener(gateway, {
      host,
      port,
      allowedHosts: config.listen.allowedHosts,
      allowedOrigins: config.listen.allowedOrigins,
      logger,
    });
    const address = await listener.listen();
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    logger.info({ config: config.dir, servers: gateway.upstreams.size, port: address.port }, `mcpgate serving MCP on http://${shown}:${address.port}/mcp`);
  }

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void stop!();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stopped;
  logger.flush();
  return 0;
}
