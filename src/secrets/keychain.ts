/**
 * The OS keychain as a SecretStore, through GitHub's maintained keytar fork `@github/keytar`
 * (macOS Keychain, Windows Credential Manager, Linux Secret Service via libsecret). Entries use
 * service `mcpgate` and the secret's name as the account.
 *
 * The native module is loaded on first use only, so a gateway whose configuration references
 * no secret never needs it. Every failure becomes a GatewayError saying what to do: module not
 * installed, no D-Bus session bus, no Secret Service on it, keyring locked.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { ErrorCodes, GatewayError, firstLineOf } from '../errors.js';
import { secretNameProblem, type SecretStore } from './secretStore.js';

/** The keychain service every mcpgate secret is stored under. */
export const KEYCHAIN_SERVICE = 'mcpgate';

/** The part of the keytar API mcpgate uses. */
interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

/** Options of {@link KeychainStore}. */
export interface KeychainOptions {
  /** Module specifier of the keytar implementation (default `@github/keytar`). */
  readonly module?: string;
  /** How long one keychain operation may take before it is reported as unavailable (default 30 s). */
  readonly timeoutMs?: number;
}

const FALLBACK = 'or reference the value with ${env:NAME} or ${file:PATH} (e.g. /run/secrets/NAME in containers) instead of ${secret:NAME}';

/**
 * The OS keychain, service `mcpgate`, account = secret name.
 * @example await new KeychainStore().get('github-token')
 */
export class KeychainStore implements SecretStore {
  readonly description = `OS keychain (service "${KEYCHAIN_SERVICE}")`;
  private readonly module: string;
  private readonly timeoutMs: number;
  private keytar: Keytar | undefined;

  constructor(options: KeychainOptions = {}) {
    this.module = options.module ?? '@github/keytar';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async get(name: string): Promise<string | undefined> {
    checkName(name);
    const value = await this.run('read', (k) => k.getPassword(KEYCHAIN_SERVICE, name));
    if (value !== null) return value;
    // libsecret answers "nothing" for an item in a locked collection when it cannot prompt.
    if ((await lockedItems({ service: KEYCHAIN_SERVICE, account: name })) > 0) throw lockedError();
    return undefined;
  }

  async set(name: string, value: string): Promise<void> {
    checkName(name);
    await this.run('write', (k) => k.setPassword(KEYCHAIN_SERVICE, name, value));
  }

  async delete(name: string): Promise<boolean> {
    checkName(name);
    const deleted = await this.run('delete', (k) => k.deletePassword(KEYCHAIN_SERVICE, name));
    if (!deleted && (await lockedItems({ service: KEYCHAIN_SERVICE, account: name })) > 0) throw lockedError();
    return deleted;
  }

  async list(): Promise<string[]> {
    // keytar's libsecret binding crashes the process (NULL secret) when it lists locked items:
    // ask the Secret Service first, where there is one to ask.
    if ((await lockedItems({ service: KEYCHAIN_SERVICE })) > 0) throw lockedError();
    const found = await this.run('list', (k) => k.findCredentials(KEYCHAIN_SERVICE));
    return [...new Set(found.map((entry) => entry.account))].sort();
  }

  private load(): Keytar {
    if (this.keytar) return this.keytar;
    try {
      const required = createRequire(import.meta.url)(this.module) as Keytar & { default?: Keytar };
      this.keytar = typeof required.getPassword === 'function' ? required : (required.default as Keytar);
      return this.keytar;
    } catch (error) {
      const reason = firstLineOf(error);
      throw new GatewayError(ErrorCodes.SECRET_STORE_UNAVAILABLE, `the OS keychain cannot be used: the native module ${this.module} could not be loaded (${reason})`, {
        remedy:
          `reinstall mcpgate's dependencies with \`npm install\` and allow the module's install script (\`npm install-scripts approve ${this.module}\`); ` +
          `on Linux it needs libsecret (Debian/Ubuntu: \`apt-get install libsecret-1-0\`; building it from source also needs libsecret-1-dev, python3, make and a C++ compiler); ${FALLBACK}`,
        cause: error,
      });
    }
  }

  private async run<T>(what: string, operation: (keytar: Keytar) => Promise<T>): Promise<T> {
    const keytar = this.load();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatewayError(ErrorCodes.SECRET_STORE_UNAVAILABLE, `the OS keychain did not answer a ${what} within ${this.timeoutMs} ms`, {
              remedy: `check that the keychain is unlocked and not waiting for a confirmation dialog; ${FALLBACK}`,
            }),
          ),
        this.timeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([operation(keytar), timeout]);
    } catch (error) {
      throw error instanceof GatewayError ? error : translateKeychainError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

function checkName(name: string): void {
  const problem = secretNameProblem(name);
  if (problem) throw new GatewayError(ErrorCodes.USAGE, problem);
}


function lockedError(): GatewayError {
  return new GatewayError(ErrorCodes.SECRET_STORE_LOCKED, 'the OS keychain is locked: its secrets cannot be read', {
    remedy:
      'unlock the keyring (log in to the desktop session, or unlock the "login" keyring in your keyring manager; headless: `printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets` when starting the daemon), then restart the affected servers (they retry on their own)',
  });
}

/**
 * Maps a keytar/libsecret error message to an actionable GatewayError. The messages are those
 * of GLib's D-Bus client and of libsecret; the original is kept in the message.
 */
export function translateKeychainError(error: unknown): GatewayError {
  const message = firstLineOf(error);
  if (/autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect to socket|No such file or directory.*bus|session bus/i.test(message)) {
    return new GatewayError(ErrorCodes.SECRET_STORE_UNAVAILABLE, `the OS keychain cannot be reached: there is no D-Bus session bus (${message})`, {
      remedy:
        'run mcpgate inside a desktop login session, or start a session bus and a Secret Service around it, e.g. ' +
        "`dbus-run-session -- sh -c 'printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets; exec mcpgate serve'`; " +
        FALLBACK,
      cause: error,
    });
  }
  if (/org\.freedesktop\.secrets|ServiceUnknown|not provided by any \.service files/i.test(message)) {
    return new GatewayError(ErrorCodes.SECRET_STORE_UNAVAILABLE, `the OS keychain cannot be reached: no Secret Service is running on the session bus (${message})`, {
      remedy:
        'install and start a Secret Service provider (Debian/Ubuntu: `apt-get install gnome-keyring`, then `gnome-keyring-daemon --start --components=secrets`, or enable KeePassXC\'s Secret Service integration); ' +
        FALLBACK,
      cause: error,
    });
  }
  if (/locked/i.test(message)) {
    const locked = lockedError();
    return new GatewayError(locked.code, `${locked.message} (${message})`, { remedy: locked.remedy, cause: error });
  }
  return new GatewayError(ErrorCodes.SECRET_STORE_UNAVAILABLE, `the OS keychain failed: ${message}`, {
    remedy: `check the keychain (Linux: the Secret Service, e.g. gnome-keyring) is running and unlocked; ${FALLBACK}`,
    cause: error,
  });
}

/**
 * How many items matching `attributes` sit in locked collections of the Secret Service (Linux),
 * asked with `dbus-send`; 0 when that cannot be told (no dbus-send, no bus, other platforms).
 * Used only off the hot path: after a lookup found nothing, and before listing.
 */
async function lockedItems(attributes: Record<string, string>): Promise<number> {
  if (process.platform !== 'linux' || !process.env.DBUS_SESSION_BUS_ADDRESS) return 0;
  const dict = Object.entries(attributes)
    .flatMap(([key, value]) => [key, value])
    .join(',');
  const output = await new Promise<string>((resolve) => {
    execFile(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.SearchItems', `dict:string:string:${dict}`],
      { timeout: 5000 },
      (error, stdout) => resolve(error ? '' : stdout),
    );
  });
  // The reply is two arrays of object paths: unlocked items, then locked ones.
  const arrays = output.split('array [');
  const locked = arrays[2] ?? '';
  return (locked.match(/object path/g) ?? []).length;
}
