/**
 * The MCP conformance suite's server scenarios, run against `mcpgate serve --transport http`
 * fronting our conformance fixture with `prefix: ""` (so the suite sees the names it expects).
 * Every scenario must finish without a failed check; SHOULD-level warnings are reported.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, REPO, startHttpGateway, type HttpGateway, type TempConfig } from '../support/gateway.js';

const run = promisify(execFile);
const CONFORMANCE = join(REPO, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

interface ScenarioResult {
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
}

async function conformance(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CONFORMANCE, ...args], { timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    // the CLI exits non-zero when a check fails; its output still has the results
    const e = error as { stdout?: string; stderr?: string };
    return (e.stdout ?? '') + (e.stderr ?? '');
  }
}

describe('MCP conformance through the gateway', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({ servers: { conformance: fixtureServer('conformance', { prefix: '', tools: { default: 'allow' } }) } });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('passes every server scenario', async () => {
    const listing = await conformance(['list']);
    const serverSection = listing.split('Client scenarios')[0] ?? '';
    const scenarios = [...serverSection.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1] as string);
    expect(scenarios.length).toBeGreaterThanOrEqual(30);

    const results = new Map<string, ScenarioResult>();
    // One run of the whole suite; its summary has a line per scenario that made checks.
    const suite = await conformance(['server', '--url', gateway.url.href]);
    for (const m of suite.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed/gm)) {
      results.set(m[1] as string, { passed: Number(m[2]), failed: Number(m[3]), warnings: 0 });
    }
    const outputs = new Map<string, string>();
    // Scenarios the full run does not summarise are run one by one.
    for (const scenario of scenarios.filter((s) => !results.has(s))) {
      const out = await conformance(['server', '--url', gateway.url.href, '--scenario', scenario]);
      outputs.set(scenario, out);
      const m = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(out);
      if (m) results.set(scenario, { passed: Number(m[1]), failed: Number(m[3]), warnings: Number(m[4]) });
    }
    const failing = scenarios.filter((s) => !results.has(s) || (results.get(s)?.failed ?? 1) > 0);
    const passed = scenarios.length - failing.length;
    const warned = scenarios.filter((s) => (results.get(s)?.warnings ?? 0) > 0);
    console.log(`conformance: ${passed}/${scenarios.length} server scenarios passed through mcpgate${warned.length ? ` (with SHOULD-level warnings: ${warned.join(', ')})` : ''}`);
    expect(failing, `failing scenarios:\n${failing.map((s) => `${s}:\n${outputs.get(s) ?? suite}`).join('\n').slice(0, 8000)}`).toEqual([]);
  }, 300_000);
});
