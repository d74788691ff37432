/**
 * The egress bridge: runs inside a sandbox (its own network namespace, nothing but loopback),
 * listens on 127.0.0.1:PORT there and joins each connection to the gateway's egress proxy
 * through the Unix socket bound into the sandbox; then starts the server as its child, stdio
 * passed straight through. It exits with the server's status and forwards the signals that stop it.
 *
 *   node bridge.js SOCKET PORT -- COMMAND [ARGS…]
 *
 * Standalone on purpose (node built-ins only): it starts in a few milliseconds and loads nothing
 * of the gateway into the sandbox.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';

/** Carries the server's own NODE_OPTIONS past the bridge's Node (the launcher renames it; restored for the server). */
const BRIDGE_NODE_OPTIONS = 'MCPGATE_BRIDGE_NODE_OPTIONS';

/** Joins two sockets both ways; either side failing closes both. */
function join(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

function main(argv: readonly string[]): void {
  const [socketPath, portText, separator, command, ...args] = argv;
  const port = Number(portText);
  if (!socketPath || !Number.isInteger(port) || separator !== '--' || !command) {
    process.stderr.write('usage: bridge.js SOCKET PORT -- COMMAND [ARGS...]\n');
    process.exit(2);
  }
  const listener = createServer({ allowHalfOpen: true }, (client) => join(client, connect({ path: socketPath, allowHalfOpen: true })));
  listener.on('error', (error) => {
    process.stderr.write(`mcpgate egress bridge: cannot listen on 127.0.0.1:${port}: ${error.message}\n`);
    process.exit(1);
  });
  listener.listen(port, '127.0.0.1', () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    if (env[BRIDGE_NODE_OPTIONS] !== undefined) env.NODE_OPTIONS = env[BRIDGE_NODE_OPTIONS];
    delete env[BRIDGE_NODE_OPTIONS];
    const child = spawn(command, args, { stdio: 'inherit', env });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    child.once('error', (error) => {
      process.stderr.write(`mcpgate egress bridge: cannot start ${command}: ${error.message}\n`);
      process.exit(127);
    });
    child.once('exit', (code, signal) => {
      if (code !== null || !signal) process.exit(code ?? 1);
      // end the same way the server did, so the gateway reports the signal
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    });
  });
}

main(process.argv.slice(2));
