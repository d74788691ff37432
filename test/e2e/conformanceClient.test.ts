/**
 * The MCP conformance suite's 2026-07-28 client scenarios (the ones that need no authorization
 * server), run under Node 22 with mcpgate's upstream side as the client under test: for each
 * scenario the suite starts a mock server and runs test/support/conformanceClient.ts, which points
 * a servers.d entry at it and makes the agent's calls through `mcpgate serve`. What the suite
 * judges is what mcpgate sent upstream: the server/discover probe, the `_meta` envelope, the
 * SEP-2243 headers, the multi round-trip retries and which tools it keeps. Every check must pass.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_SCENARIOS, runClientScenario } from '../support/conformance.js';

describe('MCP conformance: mcpgate as the client of 2026-07-28 servers', () => {
  it('passes every check of every non-auth client scenario', async () => {
    // in parallel, three at a time (each starts a gateway; more would only contend for the CPU)
    const runs: Awaited<ReturnType<typeof runClientScenario>>[] = [];
    const queue = [...CLIENT_SCENARIOS];
    const worker = async () => {
      for (let scenario = queue.shift(); scenario; scenario = queue.shift()) runs.push(await runClientScenario(scenario));
    };
    await Promise.all([worker(), worker(), worker()]);
    const counts = runs.map((r) => `${r.scenario} ${r.checks.filter((c) => c.status === 'SUCCESS').length}/${r.checks.filter((c) => c.status !== 'INFO' && c.status !== 'SKIPPED').length}`);
    console.log(`conformance client 2026-07-28 through mcpgate: ${counts.join(', ')}`);
    for (const run of runs) {
      const scored = run.checks.filter((c) => c.status === 'SUCCESS' || c.status === 'FAILURE' || c.status === 'WARNING');
      const notPassed = scored.filter((c) => c.status !== 'SUCCESS').map((c) => `${c.id} (${c.description}): ${c.errorMessage}`);
      expect(scored.length, `${run.scenario} ran no check:\n${run.output.slice(-4000)}`).toBeGreaterThan(0);
      expect({ scenario: run.scenario, notPassed }, run.output.slice(-4000)).toEqual({ scenario: run.scenario, notPassed: [] });
    }
    // 56 checks in all at 0.2.0-alpha.12; far fewer means scenarios stopped early
    expect(runs.reduce((n, r) => n + r.checks.filter((c) => c.status === 'SUCCESS').length, 0)).toBeGreaterThanOrEqual(50);
  }, 420_000);
});
