/**
 * A real, private Secret Service for keychain tests: a D-Bus session bus (`dbus-daemon`) of its
 * own, and gnome-keyring's Secret Service on it, unlocked with a password fed on stdin. Every
 * file lives in a temp dir (XDG_DATA_HOME, XDG_RUNTIME_DIR, HOME): the user's keyring is never
 * touched. The bus has no service directories, so nothing is auto-activated behind the test's
 * back: "no Secret Service" is a bus without the keyring daemon.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './gateway.js';

const run = promisify(execFile);

/** A running session bus, possibly with a Secret Service on it. */
export interface SessionBus {
  /** Environment for child processes: the bus address and the temp XDG dirs. */
  readonly env: Record<string, string>;
  readonly dir: string;
  /** Starts gnome-keyring's Secret Service on this bus, its login keyring unlocked with `password`. */
  startKeyring(password?: string): Promise<void>;
  /** Locks the login keyring (org.freedesktop.Secret.Service.Lock). */
  lock(): Promise<void>;
  stop(): Promise<void>;
}

const BUS_CONFIG = (dir: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

function missing(tool: string, error: unknown): Error {
  return new Error(
    `cannot start the test Secret Service: ${tool} failed (${error instanceof Error ? error.message : String(error)}); ` +
      'install the Debian packages scripts/ensure-system.mjs lists (npm test does it when run as root): apt-get install -y --no-install-recommends dbus gnome-keyring libsecret-1-0',
  );
}

/** Starts a private session bus (no Secret Service yet), its files under `root` (default: the OS temp dir). */
export async function startSessionBus(root: string = tmpdir()): Promise<SessionBus> {
  const dir = await mkdtemp(join(root, 'mcpgate-bus-'));
  const runtime = join(dir, 'runtime');
  await mkdir(runtime);
  await chmod(runtime, 0o700);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'bus.conf'), BUS_CONFIG(dir));
  const children: ChildProcess[] = [];
  const bus = spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--print-address=1', '--nofork'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(bus);
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    bus.once('error', (error) => reject(missing('dbus-daemon', error)));
    bus.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    bus.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    bus.once('exit', (code) => reject(missing('dbus-daemon', new Error(`exited with ${code}: ${err}`))));
    setTimeout(() => reject(missing('dbus-daemon', new Error(`no address after 10 s: ${err}`))), 10_000).unref();
  });
  const env = { DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: runtime, HOME: dir };
  const dbusSend = (...args: string[]) => run('dbus-send', ['--session', '--print-reply', ...args], { env: { ...process.env, ...env }, timeout: 10_000 });

  return {
    env,
    dir,
    async startKeyring(password = 'test-keyring-password') {
      const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      children.push(keyring);
      let stderr = '';
      keyring.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const started = new Promise<never>((_, reject) => keyring.once('error', (error) => reject(missing('gnome-keyring-daemon', error))));
      keyring.stdin?.end(password);
      await Promise.race([
        started,
        waitFor(
          async () => {
            if (keyring.exitCode !== null) throw missing('gnome-keyring-daemon', new Error(`exited with ${keyring.exitCode}: ${stderr}`));
            const { stdout } = await dbusSend('--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets');
            return stdout.includes('boolean true');
          },
          15_000,
          () => `gnome-keyring-daemon to own org.freedesktop.secrets on the test bus (stderr: ${stderr})`,
        ),
      ]);
    },
    async lock() {
      await dbusSend(
        '--dest=org.freedesktop.secrets',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.Lock',
        'array:objpath:/org/freedesktop/secrets/collection/login',
      );
    },
    async stop() {
      for (const child of children.reverse()) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await new Promise((resolve) => {
            child.once('exit', resolve);
            setTimeout(resolve, 3000).unref();
          });
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a private session bus with an unlocked gnome-keyring Secret Service on it. */
export async function startSecretService(password?: string): Promise<SessionBus> {
  const bus = await startSessionBus();
  try {
    await bus.startKeyring(password);
  } catch (error) {
    await bus.stop();
    throw error;
  }
  return bus;
}
