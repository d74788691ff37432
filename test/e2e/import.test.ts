/**
 * `mcpgate import` as its own process against the sample configurations of every client in
 * test/fixtures/import/, with a real Secret Service (gnome-keyring on a private D-Bus session bus):
 * dry runs that write nothing, real imports that `mcpgate check` accepts, a literal token moved to
 * the keychain, refusals and undo on failure (bad input and no keychain: importErrors.test.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { filesIn, removeConfigDirs, tempDir } from '../support/configDir.js';
import { REPO, runMcpgate } from '../support/gateway.js';
import { startSecretService, type SessionBus } from '../support/keyring.js';

const FIXTURES = join(REPO, 'test/fixtures/import');
const DESKTOP = join(FIXTURES, 'claude-desktop/claude_desktop_config.json');
const TOKEN = 'ghp_FAKEfakeFAKEfake0123456789abcdefABCD';
const PG_PASSWORD = 'pg-Pass-1234';

/** Values for the ${env:…} references the fixtures map to (`check` resolves them). */
const REFERENCED_ENV = {
  LINEAR_API_KEY: 'lin-x',
  INTERNAL_API_KEY: 'internal-x',
  DATABASE_URL: 'postgres://localhost/x',
  OPENAI_API_KEY: 'openai-x',
  JIRA_TOKEN: 'jira-x',
  HTTPS_PROXY: 'http://127.0.0.1:3128',
  FIGMA_OAUTH_TOKEN: 'figma-x',
  ANALYTICS_WORKSPACE: 'ws-x',
};

afterAll(removeConfigDirs);

async function yamlOf(config: string, name: string): Promise<Record<string, any>> {
  return parse(await readFile(join(config, 'servers.d', `${name}.yaml`), 'utf8')) as Record<string, any>;
}

describe('mcpgate import with a real keychain', () => {
  let bus: SessionBus;
  const mcpgate = (args: string[], input?: string) => runMcpgate(args, { ...bus.env, ...REFERENCED_ENV }, 60_000, input);

  beforeAll(async () => {
    bus = await startSecretService();
  });
  afterAll(async () => bus?.stop());

  it('--dry-run shows the files with ${secret:} placeholders and the secrets it would store, and writes nothing', async () => {
    const config = join(await tempDir(), 'config');
    const out = await mcpgate(['import', DESKTOP, '--config', config, '--dry-run']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('would write servers.d/github.yaml  stdio: npx -y @modelcontextprotocol/server-github');
    expect(out.stdout).toContain('would store secret github/GITHUB_PERSONAL_ACCESS_TOKEN (from env.GITHUB_PERSONAL_ACCESS_TOKEN of server github)');
    expect(out.stdout).toContain('would store secret postgres/arg-url-password (from args[2] of server postgres)');
    expect(out.stdout).toContain('--- servers.d/github.yaml');
    expect(out.stdout).toContain('  GITHUB_PERSONAL_ACCESS_TOKEN: ${secret:github/GITHUB_PERSONAL_ACCESS_TOKEN}');
    expect(out.stdout).not.toContain(TOKEN);
    expect(out.stdout).not.toContain(PG_PASSWORD);
    expect(await filesIn(config)).toEqual([]);
    const list = await mcpgate(['secrets', 'list']);
    expect(list.stdout).toBe('');
  });

  it('writes the Claude Desktop servers: the literal token goes to the keychain, the file holds only the reference, check passes', async () => {
    const config = await tempDir();
    const out = await mcpgate(['import', DESKTOP, '--config', config]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      'wrote servers.d/github.yaml  stdio: npx -y @modelcontextprotocol/server-github  secrets stored: github/GITHUB_PERSONAL_ACCESS_TOKEN (env.GITHUB_PERSONAL_ACCESS_TOKEN)',
    );
    expect(out.stdout).toMatch(/^wrote servers\.d\/brave-search\.yaml .* \(disabled\)/m);
    expect(out.stdout).not.toContain(TOKEN);
    expect(await filesIn(join(config, 'servers.d'))).toEqual(['brave-search.yaml', 'filesystem.yaml', 'github.yaml', 'postgres.yaml']);

    const text = await readFile(join(config, 'servers.d/github.yaml'), 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).toMatch(/^# yaml-language-server: \$schema=.*schema\/server\.schema\.json\n# Imported by `mcpgate import` from Claude Desktop /);
    expect(parse(text)).toEqual({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-github'],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${secret:github/GITHUB_PERSONAL_ACCESS_TOKEN}' },
      tools: { default: 'ask' },
    });
    expect((await yamlOf(config, 'postgres')).args[2]).toBe('postgresql://app:${secret:postgres/arg-url-password}@localhost:5432/app');
    expect((await yamlOf(config, 'brave-search')).enabled).toBe(false);

    expect((await mcpgate(['secrets', 'get', 'github/GITHUB_PERSONAL_ACCESS_TOKEN', '--reveal'])).stdout).toBe(`${TOKEN}\n`);
    expect((await mcpgate(['secrets', 'get', 'postgres/arg-url-password', '--reveal'])).stdout).toBe(`${PG_PASSWORD}\n`);

    const check = await mcpgate(['check', '--config', config]);
    expect(check.stdout).toContain('configuration ok: 4 server(s)');
    expect(check.stdout).toMatch(/^disabled\s+brave-search/m);
    expect(check.code).toBe(0);
  });

  const FORMATS: Array<[string, string, (config: string) => Promise<void>]> = [
    [
      'Claude Code .mcp.json',
      'claude-code/project/.mcp.json',
      async (config) => {
        expect(await yamlOf(config, 'linear')).toMatchObject({ sse: 'https://mcp.linear.app/sse', headers: { Authorization: 'Bearer ${env:LINEAR_API_KEY}' } });
        expect((await yamlOf(config, 'internal-api')).headers).toEqual({ 'X-API-Key': '${env:INTERNAL_API_KEY}', 'X-Team': 'platform' });
        expect((await yamlOf(config, 'db')).env).toEqual({ DBHUB_LOG: '${env:HOME}/dbhub.log' });
      },
    ],
    [
      'Claude Code ~/.claude.json (user scope and projects)',
      'claude-code/home/.claude.json',
      async (config) => {
        expect(await filesIn(join(config, 'servers.d'))).toEqual(['context7.yaml', 'notion.yaml', 'playwright-2.yaml', 'playwright.yaml', 'stripe.yaml']);
        expect((await yamlOf(config, 'notion')).headers).toEqual({ Authorization: 'Bearer ${secret:notion/Authorization}' });
        expect(await yamlOf(config, 'playwright')).toMatchObject({ args: ['@playwright/mcp@latest', '--headless'], enabled: false });
        expect((await readFile(join(config, 'servers.d/playwright-2.yaml'), 'utf8')).split('\n')[1]).toContain('(project /home/alex/work/blog; project /home/alex/work/shop)');
        expect((await yamlOf(config, 'stripe')).args[3]).toBe('--api-key=${secret:stripe/arg-api-key}');
      },
    ],
    [
      'Cursor',
      'cursor/project/.cursor/mcp.json',
      async (config) => {
        expect((await yamlOf(config, 'supabase-db')).env).toEqual({ SUPABASE_ACCESS_TOKEN: '${secret:supabase-db/SUPABASE_ACCESS_TOKEN}' });
        expect((await yamlOf(config, 'docs')).env).toEqual({
          DOCS_ROOT: join(FIXTURES, 'cursor/project/docs'),
          CACHE_DIR: '${env:HOME}/.cache/docs-mcp',
          OPENAI_API_KEY: '${env:OPENAI_API_KEY}',
        });
        expect(await yamlOf(config, 'figma')).toMatchObject({ sse: 'http://127.0.0.1:3845/sse' });
        expect(await yamlOf(config, 'legacy')).toMatchObject({ enabled: false });
      },
    ],
    [
      'VS Code (inputs, comments, trailing commas)',
      'vscode/project/.vscode/mcp.json',
      async (config) => {
        expect((await yamlOf(config, 'github')).headers).toEqual({ Authorization: 'Bearer ${secret:github-token}' });
        expect((await yamlOf(config, 'perplexity')).env).toEqual({ PERPLEXITY_API_KEY: '${secret:perplexity-key}' });
        expect((await yamlOf(config, 'slack')).env).toEqual({ SLACK_BOT_TOKEN: '${secret:slack/SLACK_BOT_TOKEN}', SLACK_TEAM_ID: 'T00000000' });
        expect(await yamlOf(config, 'active-file')).toMatchObject({ args: ['lint-mcp.js', '$${file}'], enabled: false });
      },
    ],
    [
      'Codex config.toml',
      'codex/.codex/config.toml',
      async (config) => {
        expect(await yamlOf(config, 'context7')).toMatchObject({ timeout: '90500ms', startupTimeout: '20s' });
        expect(await yamlOf(config, 'github')).toMatchObject({
          env: { HTTPS_PROXY: '${env:HTTPS_PROXY}', GITHUB_PERSONAL_ACCESS_TOKEN: '${secret:github/GITHUB_PERSONAL_ACCESS_TOKEN}' },
          tools: { default: 'ask', deny: ['delete_repository', 'merge_pull_request'] },
        });
        expect((await yamlOf(config, 'figma')).headers).toEqual({ 'X-Figma-Region': 'us-east-1', Authorization: 'Bearer ${env:FIGMA_OAUTH_TOKEN}' });
        expect(await yamlOf(config, 'analytics')).toMatchObject({
          headers: { 'X-Api-Key': '${secret:analytics/X-Api-Key}', 'X-Workspace': '${env:ANALYTICS_WORKSPACE}' },
          tools: { default: 'deny', ask: ['run_query', 'list_dashboards'] },
        });
        expect(await yamlOf(config, 'old-browser')).toMatchObject({ enabled: false });
      },
    ],
  ];

  it.each(FORMATS)('imports %s into files check accepts', async (_label, file, expectations) => {
    const config = await tempDir();
    if (file.includes('vscode')) {
      // VS Code prompted for these inputs; mcpgate reads them from the keychain under the input's id.
      for (const name of ['github-token', 'perplexity-key']) expect((await mcpgate(['secrets', 'set', name], `${name}-value`)).code).toBe(0);
    }
    const out = await mcpgate(['import', join(FIXTURES, file), '--config', config, '--force']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    await expectations(config);
    const check = await mcpgate(['check', '--config', config]);
    expect(check.stdout).toMatch(/configuration ok: \d+ server\(s\)/);
    expect(check.code).toBe(0);
  });

  it('--project keeps the user scope and that project of ~/.claude.json, with its disabled list', async () => {
    const out = await mcpgate(['import', join(FIXTURES, 'claude-code/home/.claude.json'), '--config', await tempDir(), '--project', '/home/alex/work/shop', '--dry-run']);
    expect(out.code).toBe(0);
    expect(out.stdout.match(/^would write servers\.d\/\S+/gm)).toEqual([
      'would write servers.d/context7.yaml',
      'would write servers.d/notion.yaml',
      'would write servers.d/playwright.yaml',
      'would write servers.d/stripe.yaml',
    ]);
    expect(out.stdout).toMatch(/^would write servers\.d\/notion\.yaml .*\(disabled\)$/m);
    const unknown = await mcpgate(['import', join(FIXTURES, 'claude-code/home/.claude.json'), '--project', '/nowhere', '--dry-run']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('has no project /nowhere');
    expect(unknown.stderr).toContain('/home/alex/work/shop');
  });

  it('refuses to replace an existing servers.d file without --force, writing nothing; --force replaces it', async () => {
    const config = await tempDir();
    await mkdir(join(config, 'servers.d'));
    await writeFile(join(config, 'servers.d/db.yml'), 'command: my-own-postgres\n');
    const source = join(await tempDir(), 'claude_desktop_config.json');
    await writeFile(source, JSON.stringify({ mcpServers: { db: { command: 'npx', env: { PGPASSWORD: 'refused-pw-0' } }, other: { command: 'npx' } } }));
    const refused = await mcpgate(['import', source, '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('mcpgate: nothing was imported: servers.d/db.yml already exists');
    expect(refused.stderr).toContain('--force');
    expect(await filesIn(join(config, 'servers.d'))).toEqual(['db.yml']);
    const dry = await mcpgate(['import', source, '--config', config, '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('would write servers.d/db.yaml');
    expect(dry.stdout).toContain('  would remove servers.d/db.yml (the same server, replaced by servers.d/db.yaml)');
    expect(dry.stderr).toContain('the import would be refused');

    const forced = await mcpgate(['import', source, '--config', config, '--force']);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^wrote servers\.d\/db\.yaml .* secrets stored: db\/PGPASSWORD \(env\.PGPASSWORD\)$/m);
    expect(forced.stdout).toContain('  removed servers.d/db.yml (the same server, replaced by servers.d/db.yaml)');
    const again = await mcpgate(['import', source, '--config', config, '--force']);
    expect(again.stdout).toMatch(/^replaced servers\.d\/db\.yaml .* secrets stored: db\/PGPASSWORD \(env\.PGPASSWORD, already there\)$/m);
    expect(await filesIn(join(config, 'servers.d'))).toEqual(['db.yaml', 'other.yaml']);
    // the refused runs stored nothing: the secret is there once, from the forced run
    expect((await mcpgate(['secrets', 'get', 'db/PGPASSWORD', '--reveal'])).stdout).toBe('refused-pw-0\n');
  });

  it('refuses a keychain entry holding another value unless --force', async () => {
    const config = await tempDir();
    expect((await mcpgate(['secrets', 'set', 'slack/SLACK_BOT_TOKEN'], 'someone-elses-token')).code).toBe(0);
    const vscode = join(FIXTURES, 'vscode/project/.vscode/mcp.json');
    const refused = await mcpgate(['import', vscode, '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('secret slack/SLACK_BOT_TOKEN is already in the OS keychain (service "mcpgate") with another value');
    expect(await filesIn(config)).toEqual([]);
    expect((await mcpgate(['secrets', 'get', 'slack/SLACK_BOT_TOKEN', '--reveal'])).stdout).toBe('someone-elses-token\n');
    expect((await mcpgate(['import', vscode, '--config', config, '--force'])).code).toBe(0);
    expect((await mcpgate(['secrets', 'get', 'slack/SLACK_BOT_TOKEN', '--reveal'])).stdout).toBe('xoxb-0000000000-FAKEfakeFAKE\n');
  });

  it('takes the stored secrets back out when the files cannot be written', async () => {
    const config = await tempDir();
    await writeFile(join(config, 'servers.d'), 'a file where the directory should be\n');
    const source = join(await tempDir(), 'claude_desktop_config.json');
    await writeFile(source, JSON.stringify({ mcpServers: { undo: { command: 'npx', env: { UNDO_TOKEN: 'undo-secret-value-123' } } } }));
    const out = await mcpgate(['import', source, '--config', config]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/nothing was imported: cannot write to .*servers\.d/);
    expect((await mcpgate(['secrets', 'get', 'undo/UNDO_TOKEN'])).code).toBe(1);
  });
});
