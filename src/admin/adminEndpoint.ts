/**
 * The local admin endpoint through which `mcpgate approvals` / `approve` / `deny` / `status` /
 * `console` reach a running gateway: HTTP on 127.0.0.1 (a random port), every API request
 * carrying a random bearer token. The port and token are written to `ADMIN_DIR/gateway-PID.json`,
 * created with mode 0600 in a 0700 directory, so only the gateway's own user can read them.
 * Browsers are refused on the API (a request with an Origin header never reaches the queue); the
 * web console under `/console/` has its own login and checks (console/console.ts). Any request
 * whose Host is not the endpoint's loopback address is refused first (DNS rebinding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import { QueueAnswerSchema, type ApprovalQueue } from '../approval/queue.js';
import { readBody } from './body.js';
import type { AdminConsole } from './console/console.js';
import type { GatewayStatus } from './status.js';

/** The admin endpoint file's contents. */
export interface AdminFile {
  readonly pid: number;
  readonly url: string;
  readonly token: string;
  readonly config: string;
  readonly started_at: string;
}

const MAX_BODY = 16 * 1024;

/** What the endpoint serves. */
export interface AdminEndpointOptions {
  readonly queue: ApprovalQueue;
  readonly dir: string;
  readonly configDir: string;
  readonly logger: Logger;
  /** `GET /status` (mcpgate status); absent: 404. */
  readonly status?: () => GatewayStatus;
  /** The web console under `/console/`; absent: 404. */
  readonly console?: AdminConsole;
  /** `GET /reload`: the running configuration's print for `mcpgate check` (src/reload/preview.ts); absent: 404. */
  readonly reloadState?: () => unknown;
}

/** Serves the approval queue, the status and the console. */
export class AdminEndpoint {
  private server: Server | undefined;
  private file: string | undefined;
  private token = Buffer.alloc(0);
  private host = '';

  constructor(private readonly options: AdminEndpointOptions) {}

  /** True once the endpoint is listening and its file is written. */
  get listening(): boolean {
    return this.file !== undefined;
  }

  /** Listens on loopback and writes the endpoint file. */
  async start(): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    this.token = Buffer.from(token);
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const { port } = server.address() as AddressInfo;
    this.host = `127.0.0.1:${port}`;
    const dir = this.options.dir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Another user who can write the directory could plant the file (a symlink to a file they read)
    // or swap it: refuse such a directory, and create the file afresh without following links.
    const info = await lstat(dir);
    if (!info.isDirectory() || (process.getuid !== undefined && info.uid !== process.getuid()) || (info.mode & 0o022) !== 0) {
      throw new Error(`${dir} must be a directory owned by this user and writable by no one else (chmod 700 ${dir}, or set approval.adminDir)`);
    }
    const file = join(dir, `gateway-${process.pid}.json`);
    const body: AdminFile = { pid: process.pid, url: `http://${this.host}`, token, config: this.options.configDir, started_at: new Date().toISOString() };
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const handle = await open(file, 'wx', 0o600); // O_CREAT | O_EXCL: never through a symlink, never an old file's mode
    try {
      await handle.writeFile(`${JSON.stringify(body)}\n`);
    } finally {
      await handle.close();
    }
    this.file = file;
    this.options.logger.debug({ file }, 'approval admin endpoint listening');
  }

  /** Stops listening and removes the endpoint file. */
  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) await unlink(file).catch(() => undefined);
    this.options.console?.close();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.headers.host !== this.host) return send(res, 403, { error: 'forbidden' });
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      if (this.options.console) return this.options.console.handle(req, res, url, `http://${this.host}`);
      return send(res, 404, { error: 'not found' });
    }
    if (req.headers.origin !== undefined) return send(res, 403, { error: 'forbidden' });
    const auth = Buffer.from(req.headers.authorization?.replace(/^Bearer /, '') ?? '');
    if (auth.length !== this.token.length || !timingSafeEqual(auth, this.token)) return send(res, 401, { error: 'bad or missing token' });
    if (req.method === 'GET' && url.pathname === '/approvals') return send(res, 200, { approvals: this.options.queue.list() });
    if (req.method === 'GET' && url.pathname === '/reload' && this.options.reloadState) return send(res, 200, this.options.reloadState());
    if (req.method === 'GET' && url.pathname === '/status' && this.options.status) return send(res, 200, this.options.status());
    // A one-time code for `mcpgate console`'s login link (the token itself never goes into a URL).
    if (req.method === 'POST' && url.pathname === '/console-login' && this.options.console) {
      const { code, expiresInMs } = this.options.console.auth.mintCode();
      return send(res, 200, { url: `http://${this.host}/console/login?code=${code}`, expires_in_ms: expiresInMs });
    }
    const match = /^\/approvals\/([0-9a-f]{1,32})$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) return send(res, 404, { error: 'not found' });
    readBody(req, MAX_BODY).then(
      (text) => {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return send(res, 400, { error: 'body is not JSON' });
        }
        const answer = QueueAnswerSchema.safeParse(value);
        if (!answer.success) return send(res, 400, { error: answer.error.issues.map((i) => i.message).join('; ') });
        const found = this.options.queue.answer(match[1] as string, answer.data);
        send(res, found ? 200 : 404, found ? { ok: true } : { error: 'no pending approval with this id' });
      },
      () => send(res, 413, { error: 'body too large' }),
    );
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
