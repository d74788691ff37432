/**
 * `mcpgate serve`: run the gateway over stdio (default) or Streamable HTTP until the client goes
 * away (stdio) or a signal arrives.
 */
import { gatewayAdmin } from './gatewayAdmin.js';
import { checkpointSigner as checkpointSignerFor } from '../audit/checkpoint.js';
import { formatProblem } from '../config/types.js';
import { defaultResolver } from '../secrets/resolve.js';
import { BearerAuth, isLoopbackHost } from '../downstream/auth.js';
import { HttpListener } from '../downstream/http.js';
import { StdioServerLineTransport } from '../downstream/stdioTransport.js';
import { ErrorCodes, GatewayError, messageOf, UsageError } from '../errors.js';
import { Gateway } from '../gateway.js';
import { createAppLogger, logFormat } from '../telemetry/logger.js';
import { Redactor } from '../secrets/redactor.js';
import { startTelemetry } from '../telemetry/telemetry.js';
import { configDirFrom } from './configDir.js';
import { loadConfig } from '../config/load.js';
import { applyRequirements } from '../requirements/apply.js';
import { requirementsFileFrom } from '../requirements/load.js';
import { Reloader } from '../reload/reloader.js';
import { managedRequirements } from './requirements.js';

/** Options of `mcpgate serve`. */
export interface ServeOptions {
  readonly config?: string;
  readonly transport?: string;
  readonly host?: string;
  readonly port?: string;
  readonly requirements?: string;
  /** Serve HTTP on a non-loopback address without client authentication. */
  readonly insecureNoAuth?: boolean;
  /** `--log-format pretty|json` (default: pretty on a terminal, else JSON). */
  readonly logFormat?: string;
}

/** Runs the gateway; resolves with the exit code once it has shut down. */
export async function serveCommand(options: ServeOptions): Promise<number> {
  const format = logFormat(options.logFormat, process.env, process.stderr.isTTY === true);
  // Requirements first (fail closed); the reloader keeps both layers to re-apply them at each reload.
  const requirements = await managedRequirements(options.requirements);
  const loaded = await loadConfig(configDirFrom(options.config));
  const config = applyRequirements(loaded, requirements);
  const transport = options.transport ?? config.listen.transport;
  if (transport !== 'stdio' && transport !== 'http') throw new UsageError(`--transport must be stdio or http, not "${transport}"`);
  const port = options.port === undefined ? config.listen.port : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${options.port}"`);
  const host = options.host ?? config.listen.host;
  if (transport === 'http' && !config.auth && !isLoopbackHost(host) && !options.insecureNoAuth) {
    throw new GatewayError(ErrorCodes.LISTEN_INSECURE, `refusing to serve HTTP on ${host}, a non-loopback address, without client authentication`, {
      remedy: 'configure bearer-token authentication in gateway.yaml (`auth:`), or bind to 127.0.0.1; `--insecure-no-auth` overrides this (only behind a proxy that authenticates clients)',
    });
  }
  // Resolved before anything starts: a key that cannot be read must stop the gateway, not open it.
  const resolvedAuthValues: string[] = [];
  const auth = transport === 'http' && config.auth ? await BearerAuth.create(config.auth, defaultResolver(config.dir), (values) => resolvedAuthValues.push(...values)) : undefined;

  // One redactor for the log and the gateway: a value any part registers is kept out of both.
  const redactor = new Redactor();
  const logger = createAppLogger({ format, redactor });
  for (const problem of config.problems) {
    logger[problem.severity === 'error' ? 'error' : 'warn']({ file: problem.file, server: problem.server }, formatProblem(problem));
  }
  const checkpointSigner = await checkpointSignerFor(config, defaultResolver(config.dir));
  const telemetry = await startTelemetry(config, logger);
  const gateway = new Gateway({
    config,
    logger,
    redactor,
    ...(checkpointSigner ? { checkpointSigner } : {}),
    ...(telemetry ? { sinks: [telemetry.sink], tracer: telemetry.tracer } : {}),
  });
  gateway.redactor.add(resolvedAuthValues);
  if (transport === 'http' && !auth && !isLoopbackHost(host)) logger.warn({ host }, 'serving HTTP without client authentication (--insecure-no-auth)');
  let served = 'stdio';
  // The approval queue, `mcpgate status` and the web console (src/admin); built before the upstreams start.
  const admin = gatewayAdmin(gateway, { logger, transport: () => served });
  void gateway.start();
  await Promise.all([
    gateway.approvals.start(),
    admin.endpoint.start().catch((error: unknown) => {
      logger.error({ dir: config.approval.adminDir }, `admin endpoint unavailable (approval queue, mcpgate status, console): ${messageOf(error)}`);
    }),
  ]);
  const requirementsFile = requirementsFileFrom(options.requirements);
  const reloader = new Reloader({ gateway, logger, loaded, ...(requirements ? { requirements } : {}), ...(requirementsFile ? { requirementsFile } : {}) });
  await reloader.start();

  let stop: () => Promise<void>;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    stop = async () => {
      if (stopping) return;
      stopping = true;
      reloader.close();
      admin.stopping(); // /readyz fails from now on
      await gateway.approvals.shutdown(); // pending approvals are denied while their clients are still connected
      await listener?.close();
      await gateway.close();
      await admin.endpoint.close();
      await telemetry?.shutdown();
      resolve();
    };
  });
  let listener: HttpListener | undefined;

  if (transport === 'stdio') {
    const session = gateway.createSession('stdio');
    const io = new StdioServerLineTransport();
    // The SDK chains this handler before its own: the client went away, so the gateway stops.
    io.onclose = () => {
      session.endReason ??= 'disconnected';
      void stop!();
    };
    session.enableFastPath(io);
    io.modern = gateway.modern;
    await session.connect(io);
    logger.info({ config: config.dir, servers: gateway.upstreams.size, requirements: config.requirements?.file }, 'mcpgate serving MCP on stdio');
  } else {
    listener = new HttpListener(gateway, {
      host,
      port,
      allowedHosts: config.listen.allowedHosts,
      allowedOrigins: config.listen.allowedOrigins,
      logger,
      ...(auth ? { auth } : {}),
      sessionIdleTimeoutMs: config.http?.sessionIdleTimeoutMs ?? 30 * 60_000,
      subjectIsSession: config.http?.statelessSessions === 'subject',
      probes: admin.probes,
    });
    const address = await listener.listen();
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    served = `http://${shown}:${address.port}/mcp`;
    logger.info({ config: config.dir, servers: gateway.upstreams.size, requirements: config.requirements?.file, port: address.port }, `mcpgate serving MCP on http://${shown}:${address.port}/mcp`);
  }

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void stop!();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // SIGHUP reloads the configuration (the daemon convention; docs/configuration.md "Reload").
  const onHangup = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
    void reloader.reload('signal');
  };
  process.on('SIGHUP', onHangup);
  await stopped;
  process.off('SIGHUP', onHangup);
  logger.flush();
  return 0;
}
