/**
 * `mcpgate import` with bad input or no keychain, as its own process: syntax errors with file,
 * line and column, entries the client would reject, files that are no client configuration,
 * usage errors, and literal credentials that cannot be stored (nothing is written).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesIn, removeConfigDirs, tempDir } from '../support/configDir.js';
import { REPO, runMcpgate } from '../support/gateway.js';
import { startSessionBus, type SessionBus } from '../support/keyring.js';

const FIXTURES = join(REPO, 'test/fixtures/import');
const DESKTOP = join(FIXTURES, 'claude-desktop/claude_desktop_config.json');
const TOKEN = 'ghp_FAKEfakeFAKEfake0123456789abcdefABCD';

afterAll(removeConfigDirs);

describe('mcpgate import without a keychain', () => {
  let bus: SessionBus;
  beforeAll(async () => {
    bus = await startSessionBus(); // a session bus with no Secret Service on it
  });
  afterAll(async () => bus?.stop());

  it('refuses to import literal credentials it cannot store, writing nothing and naming the alternatives', async () => {
    const config = await tempDir();
    const out = await runMcpgate(['import', DESKTOP, '--config', config], bus.env);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('nothing was imported: the literal credentials found cannot be stored in the OS keychain');
    expect(out.stderr).toContain('--dry-run');
    expect(out.stderr).toContain('${env:NAME}');
    expect(out.stderr).not.toContain(TOKEN);
    expect(await filesIn(config)).toEqual([]);
  });

  it('imports servers without literal credentials without needing one', async () => {
    const config = await tempDir();
    const out = await runMcpgate(['import', join(FIXTURES, 'claude-code/project/.mcp.json'), '--config', config], bus.env);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(await filesIn(join(config, 'servers.d'))).toEqual(['db.yaml', 'internal-api.yaml', 'linear.yaml', 'sentry.yaml']);
  });
});

describe('mcpgate import: bad input', () => {
  async function source(name: string, text: string): Promise<string> {
    const file = join(await tempDir(), name);
    await writeFile(file, text);
    return file;
  }

  it('names the file, line and column of a JSON or TOML syntax error', async () => {
    const json = await source('claude_desktop_config.json', '{\n  "mcpServers": {\n    "a": { "command": "npx" }\n    "b": { "command": "npx" }\n  }\n}\n');
    const badJson = await runMcpgate(['import', json, '--dry-run']);
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toContain(`mcpgate: ${json}:4:5: not valid JSON: comma expected`);
    const toml = await source('config.toml', '[mcp_servers.a]\ncommand = "npx\nargs = []\n');
    const badToml = await runMcpgate(['import', toml, '--dry-run']);
    expect(badToml.code).toBe(1);
    expect(badToml.stderr).toMatch(new RegExp(`mcpgate: ${toml.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: not valid TOML: `));
  });

  it('names the entry and field of a server the client would reject', async () => {
    const json = await source('.mcp.json', '{\n  "mcpServers": {\n    "a": {\n      "command": "npx",\n      "args": "-y"\n    }\n  }\n}\n');
    const out = await runMcpgate(['import', json, '--dry-run']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${json}:5: mcpServers.a.args: Invalid input: expected array, received string`);
    // a name chosen to rewrite the terminal reaches it escaped
    const hostile = await source('.mcp.json', '{ "mcpServers": { "a\\u001b[2Kb": { "command": 5 } } }');
    const escaped = await runMcpgate(['import', hostile, '--dry-run']);
    expect(escaped.stderr).toContain('mcpServers.a\\u001b[2Kb.command: Invalid input: expected string, received number');
    expect(escaped.stderr).not.toContain('\u001b');
    const toml = await source('config.toml', '[mcp_servers.both]\ncommand = "npx"\nurl = "https://example.com/mcp"\n');
    const both = await runMcpgate(['import', toml, '--dry-run']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(`${toml}: [mcp_servers.both]: url is not supported for a stdio server (command)`);
  });

  it('says when a file is no MCP client configuration, and takes --format for one whose name says nothing', async () => {
    const other = await source('settings.json', '{ "editor.fontSize": 14 }');
    const out = await runMcpgate(['import', other, '--dry-run']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('is not an MCP client configuration mcpgate can import');
    const named = await source('servers.json', '{ "mcpServers": { "x": { "command": "run", "args": ["${HOME}"] } } }');
    const detected = await runMcpgate(['import', named, '--dry-run']);
    expect(detected.stdout).toContain('Claude Code');
    expect(detected.stdout).toContain('format recognised from its content');
    expect(detected.stdout).toContain('- ${env:HOME}');
    const chosen = await runMcpgate(['import', named, '--dry-run', '--format', 'claude-desktop']);
    expect(chosen.stdout).toContain('- $${HOME}');
  });

  it('usage errors exit 2', async () => {
    expect((await runMcpgate(['import'])).code).toBe(2);
    expect((await runMcpgate(['import', DESKTOP, '--format', 'windsurf'])).code).toBe(2);
    const project = await runMcpgate(['import', DESKTOP, '--project', '/x']);
    expect(project.code).toBe(2);
    expect(project.stderr).toContain('--project applies to ~/.claude.json');
    const help = await runMcpgate(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mcpgate import FILE');
  });
});
