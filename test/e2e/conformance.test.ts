/**
 * The MCP conformance suite's server requirements for revisions 2025-11-25 and 2026-07-28, run
 * (under Node 22, as the suite needs) against `mcpgate serve --transport http` fronting our two
 * conformance fixtures with `prefix: ""` (so the suite sees the names it expects): the 2025 one,
 * and the 2026-07-28 one whose multi-round-trip tools and tasks extension mcpgate passes through.
 * Every check must pass, 2026 SHOULD-level warnings included; 2025 warnings are reported.
 * `npm run conformance:2026` prints the details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerRequirements, startConformanceGateway, type ConformanceGateway } from '../support/conformance.js';

describe('MCP conformance through the gateway', () => {
  let target: ConformanceGateway;

  beforeAll(async () => {
    target = await startConformanceGateway();
  });

  afterAll(async () => {
    await target?.close();
  });

  it('passes every server check the 2025-11-25 revision requires', async () => {
    const run = await runServerRequirements(target.gateway.url, '2025-11-25');
    const failing = [...run.scenarios].filter(([, r]) => r.failed > 0).map(([s]) => s);
    const warned = [...new Set(run.checks.filter((c) => c.status === 'WARNING').map((c) => `${c.scenario}:${c.id}`))];
    console.log(
      `conformance 2025-11-25: ${run.passed}/${run.passed + run.failed} checks passed in ${run.scenarios.size} scenarios through mcpgate` +
        (warned.length ? ` (SHOULD-level warnings: ${warned.join(', ')})` : ''),
    );
    // The requirement set names 30 server scenarios (plus some run unscored); far fewer means the run broke.
    expect(run.scenarios.size).toBeGreaterThanOrEqual(30);
    expect(run.checks.length).toBeGreaterThanOrEqual(run.passed);
    const failedChecks = run.checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.scenario}:${c.id}: ${c.errorMessage}`);
    expect({ failing, failedChecks }, run.output.slice(-8000)).toEqual({ failing: [], failedChecks: [] });
    expect(run.failed).toBe(0);
  }, 300_000);

  it('passes every 2026-07-28 server check, multi-round-trip and tasks extension included', async () => {
    const run = await runServerRequirements(target.gateway.url, '2026-07-28');
    const scored = run.checks.filter((c) => !run.notScored.has(c.scenario));
    const passed = scored.filter((c) => c.status === 'SUCCESS').length;
    const passthrough = run.checks.filter((c) => c.scenario.startsWith('input-required-result-') || c.scenario.startsWith('tasks-'));
    console.log(
      `conformance 2026-07-28: scored ${passed}/${scored.length} checks; all ${run.passed}/${run.passed + run.failed}; ` +
        `MRTR and tasks ${passthrough.filter((c) => c.status === 'SUCCESS').length}/${passthrough.length} through mcpgate`,
    );
    // 37 scored scenarios plus the 10 tasks-extension and 3 pending ones; far fewer means the run broke.
    expect(run.scenarios.size).toBeGreaterThanOrEqual(50);
    expect(passthrough.length).toBeGreaterThanOrEqual(80);
    // Every check passes; no SHOULD-level warning either (tasks-status-notifications is skipped by the suite itself).
    const bad = run.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${c.status} ${c.scenario}:${c.id}: ${c.errorMessage}`);
    expect(bad, run.output.slice(-8000)).toEqual([]);
    expect(run.failed).toBe(0);
  }, 300_000);
});
