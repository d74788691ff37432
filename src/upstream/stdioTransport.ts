/**
 * The client side of a stdio upstream: spawns the server and speaks newline-delimited JSON-RPC
 * on its stdin/stdout. Compared with the SDK's StdioClientTransport it batches writes made in
 * the same tick into one writev, leaves schema validation to the layer that dispatches a
 * message (responses to forwarded calls need none), exposes how the process ended, and stops a
 * server that ignores the end of stdin after a short grace period instead of two seconds.
 */
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { ErrorCodes, GatewayRpcCodes } from '../errors.js';
import { LineSplitter, overflowId, rememberRawResult, type Overflow } from '../jsonLines.js';

/** How to start a stdio upstream. */
export interface StdioSpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the SDK's minimal inherited environment (HOME, LOGNAME, PATH, SHELL, TERM, USER). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** How the gateway reads a stdio upstream's output. */
export interface StdioFraming {
  /** Server name (for messages). */
  readonly server: string;
  /** Longest line accepted (`maxMessageBytes`). */
  readonly maxMessageBytes: number;
  /** Text of a line for an error message: secret values redacted, cut short. */
  readonly quote: (line: string) => string;
}

const STOP_GRACE_MS = 300;
const KILL_AFTER_MS = 2000;

/** A spawned stdio MCP server as an SDK Transport. */
export class StdioUpstreamTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** The child's stderr, piped so the gateway can log (and scrub) it. */
  readonly stderr = new PassThrough();
  /** How the process ended, once it has. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private child: ChildProcess | undefined;
  private readonly lines: LineSplitter;

  constructor(
    private readonly options: StdioSpawnOptions,
    private readonly framing: StdioFraming,
  ) {
    this.lines = new LineSplitter((line) => this.parse(line), (overflow) => this.overflowed(overflow), framing.maxMessageBytes);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, [...this.options.args], {
        env: { ...getDefaultEnvironment(), ...this.options.env },
        cwd: this.options.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
      this.child = child;
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.lines.push(chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      child.stderr?.pipe(this.stderr);
    });
  }

  private parse(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.onerror?.(new Error(`ignored a line that is not JSON on the upstream's stdout: ${this.framing.quote(line)}`));
      return;
    }
    if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.onerror?.(new Error(`ignored a line that is not JSON-RPC 2.0 on the upstream's stdout: ${this.framing.quote(line)}`));
      return;
    }
    const { id, result } = message as { id?: unknown; result?: unknown };
    if (typeof id === 'string' && typeof result === 'object' && result !== null) rememberRawResult(result, line, id);
    this.onmessage?.(message as JSONRPCMessage);
  }

  /**
   * A line past `maxMessageBytes` was dropped unread: the request it answers (named by the id at
   * its edges) gets an error response in its place, so the call fails now rather than at its timeout.
   */
  private overflowed(overflow: Overflow): void {
    const { server, maxMessageBytes } = this.framing;
    const message = `upstream "${server}" sent a message of ${overflow.bytes} bytes, more than its maxMessageBytes (${maxMessageBytes}); the message was dropped (raise \`maxMessageBytes\` in its servers.d file if such results are expected)`;
    const id = overflowId(overflow);
    if (id === undefined) {
      this.onerror?.(new Error(`${message}; it named no request`));
      return;
    }
    const error = { code: GatewayRpcCodes.upstreamMessageRejected, message, data: { code: ErrorCodes.UPSTREAM_MESSAGE_REJECTED } };
    this.onmessage?.({ jsonrpc: '2.0', id, error } as JSONRPCMessage);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('Not connected'));
    // Messages sent in the same tick are joined and leave in one write (one stream write and one
    // syscall rather than one each); the tick's messages share one promise.
    if (this.batch === undefined) {
      this.pending = `${JSON.stringify(message)}\n`;
      this.batch = new Promise((resolve) => (this.settleBatch = resolve));
      process.nextTick(this.flush, stdin);
    } else {
      this.pending += `${JSON.stringify(message)}\n`;
    }
    return this.batch;
  }

  private pending = '';
  private batch: Promise<void> | undefined;
  private settleBatch: () => void = () => undefined;
  private readonly flush = (stdin: NodeJS.WritableStream & { destroyed: boolean }): void => {
    const text = this.pending;
    const settle = this.settleBatch;
    this.pending = '';
    this.batch = undefined;
    if (stdin.destroyed) return settle();
    if (stdin.write(text)) settle();
    else stdin.once('drain', settle);
  };

  /** Ends stdin; a server that does not exit within a grace period gets SIGTERM, then SIGKILL. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    child.stdin?.end();
    if (await within(STOP_GRACE_MS)) return;
    child.kill('SIGTERM');
    if (await within(KILL_AFTER_MS)) return;
    child.kill('SIGKILL');
  }
}
