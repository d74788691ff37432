/**
 * `mcpgate secrets set|get|list|delete`: manage the credentials `${secret:NAME}` references read,
 * in the OS keychain (service `mcpgate`). A value is never taken from the command line (argv is
 * visible to every local user and lands in shell history): `set` reads stdin, or prompts without
 * echo on a terminal. `get` prints a value only with `--reveal`; `list` prints names only.
 */
import { ErrorCodes, GatewayError, UsageError } from '../errors.js';
import { KeychainStore } from '../secrets/keychain.js';
import { secretNameProblem, type SecretStore } from '../secrets/secretStore.js';

/** Options of `mcpgate secrets`. */
export interface SecretsOptions {
  /** `set`, `get`, `list` or `delete`, then the secret name where one is needed. */
  readonly args: readonly string[];
  readonly reveal?: boolean;
  readonly stdin: NodeJS.ReadStream;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly store?: SecretStore;
}

/** The largest value `set` accepts (keychains are not meant for bulk data). */
const MAX_VALUE_BYTES = 64 * 1024;

/** Runs one `mcpgate secrets` subcommand; returns the exit code. */
export async function secretsCommand(options: SecretsOptions): Promise<number> {
  const [action, name, ...extra] = options.args;
  if (!action) throw new UsageError('mcpgate secrets needs a subcommand: set NAME, get NAME, list or delete NAME');
  if (action === 'list') {
    if (name !== undefined) throw new UsageError(`unexpected argument "${name}" for mcpgate secrets list`);
  } else if (action === 'set' || action === 'get' || action === 'delete') {
    if (name === undefined) throw new UsageError(`mcpgate secrets ${action} needs the secret's NAME`);
    if (extra.length) {
      throw new UsageError(
        action === 'set'
          ? 'mcpgate secrets set takes no value on the command line (it would be visible to other users and kept in shell history): pipe it on stdin, or type it at the hidden prompt'
          : `unexpected argument "${extra[0]}" for mcpgate secrets ${action}`,
      );
    }
    const problem = secretNameProblem(name);
    if (problem) throw new UsageError(problem);
  } else {
    throw new UsageError(`unknown subcommand "secrets ${action}" (use set, get, list or delete)`);
  }
  if (options.reveal && action !== 'get') throw new UsageError('--reveal applies to mcpgate secrets get only');
  const store = options.store ?? new KeychainStore({ timeoutMs: 120_000 });

  switch (action) {
    case 'list': {
      const names = await store.list();
      for (const entry of names) options.out.write(`${entry}\n`);
      if (names.length === 0) options.err.write(`no secrets in the ${store.description}\n`);
      return 0;
    }
    case 'get': {
      const value = await store.get(name as string);
      if (value === undefined) throw notFound(name as string, store, `create it with \`mcpgate secrets set ${name}\`; `);
      if (options.reveal) options.out.write(`${value}\n`);
      else options.out.write(`secret "${name}" is set in the ${store.description} (pass --reveal to print its value)\n`);
      return 0;
    }
    case 'delete': {
      // Nothing to delete: not a reason to create it.
      if (!(await store.delete(name as string))) throw notFound(name as string, store, 'nothing was deleted; ');
      options.out.write(`deleted secret "${name}" from the ${store.description}\n`);
      return 0;
    }
    default: {
      // Reach the keychain before asking for the value: a locked or missing keychain is reported
      // before anyone types a secret for nothing.
      await store.get(name as string);
      const value = await readValue(options, name as string);
      await store.set(name as string, value);
      options.out.write(`stored secret "${name}" in the ${store.description}; reference it as \${secret:${name}}\n`);
      return 0;
    }
  }
}

function notFound(name: string, store: SecretStore, advice: string): GatewayError {
  return new GatewayError(ErrorCodes.SECRET_NOT_FOUND, `secret "${name}" is not in the ${store.description}`, {
    remedy: `${advice}\`mcpgate secrets list\` shows the names there are (check the spelling)`,
  });
}

/** The value from a hidden prompt (terminal) or all of stdin (one trailing newline trimmed). */
async function readValue(options: SecretsOptions, name: string): Promise<string> {
  const value = options.stdin.isTTY ? await prompt(options.stdin, options.err, `value for secret "${name}" (input hidden): `) : await readAll(options.stdin);
  // The command line was right; the value given is what is wrong: a user error (exit 1), not a usage error.
  if (value === '') {
    throw new GatewayError(ErrorCodes.SECRET_VALUE_INVALID, 'empty secret value: nothing was stored', {
      remedy: `pipe the value on stdin (printf %s "$VALUE" | mcpgate secrets set ${name}) or type it at the hidden prompt; to remove a secret use \`mcpgate secrets delete ${name}\``,
    });
  }
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) {
    throw new GatewayError(ErrorCodes.SECRET_VALUE_INVALID, `secret value too large (over ${MAX_VALUE_BYTES} bytes): nothing was stored`, {
      remedy: 'keep large credentials (certificates, key files) in a file and reference it with ${file:PATH}',
    });
  }
  return value;
}

async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > MAX_VALUE_BYTES + 2) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads one line in raw mode without echoing it; Ctrl-C or Ctrl-D aborts. */
function prompt(stdin: NodeJS.ReadStream, err: NodeJS.WritableStream, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      err.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || char === '\u0004') return finish(new UsageError('cancelled: nothing was stored'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    // Echo off before the prompt shows: whatever is typed once the prompt is visible stays hidden.
    stdin.setRawMode(true);
    err.write(question);
    stdin.resume();
    stdin.on('data', onData);
  });
}
