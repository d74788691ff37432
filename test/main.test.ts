/**
 * The CLI entry loads a command's module only when that command runs: every short CLI call
 * (`audit verify`, `secrets list`, `--version`) would otherwise pay for loading the gateway, its
 * transports and telemetry first. Checked on the built `dist/main.js` with a real module-load hook
 * that lists every file the process loads.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from './support/gateway.js';

describe('mcpgate loads only the command it runs', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-lazy-'));
    await writeFile(
      join(dir, 'hooks.mjs'),
      "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.MCPGATE_TEST_LOADED, `${url}\\n`);\n  return next(url, context);\n}\n",
    );
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs `mcpgate ARGS` under the hook; returns its exit code and the dist/ files it loaded (relative). */
  async function loaded(name: string, args: string[]): Promise<{ code: number | null; files: string[] }> {
    const log = join(dir, `${name}.txt`);
    await writeFile(log, '');
    const child = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), MAIN, ...args], { env: { ...process.env, MCPGATE_TEST_LOADED: log }, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const dist = pathToFileURL(join(MAIN, '..')).href;
    const files = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith(`${dist}/`)).map((url) => url.slice(dist.length + 1));
    return { code, files };
  }

  it('--version loads no command', async () => {
    const run = await loaded('version', ['--version']);
    expect(run.code).toBe(0);
    expect(run.files).toContain('main.js');
    expect(run.files.filter((f) => f.startsWith('cli/') && f !== 'cli/args.js' && f !== 'cli/configDir.js')).toEqual([]);
  });

  it('audit verify loads the audit command but not the gateway, serve or secrets', async () => {
    const run = await loaded('audit', ['audit', 'verify', '--file', join(dir, 'absent.log')]);
    expect(run.code).toBe(1); // the file is absent: a user error, after the audit command ran
    expect(run.files).toContain('cli/audit.js');
    for (const heavy of ['gateway.js', 'cli/serve.js', 'cli/tools.js', 'cli/secrets.js', 'cli/import.js']) expect(run.files).not.toContain(heavy);
  });

  it('serve still loads what it needs (the hook sees every dist/ module)', async () => {
    const run = await loaded('serve', ['serve', '--transport', 'bogus']);
    expect(run.files).toContain('cli/serve.js');
    expect(run.files).not.toContain('cli/audit.js');
  });
});
