/**
 * `npm run conformance:2026` (or `-- 2025-11-25`): runs the conformance suite's server
 * requirements for one revision against `mcpgate serve --transport http` fronting the conformance
 * fixture and prints the counts and every failing check, grouped by feature.
 * `npm run conformance:client`: runs the suite's 2026-07-28 client scenarios that need no
 * authorization server, with mcpgate's upstream side as the client (test/support/conformanceClient.ts).
 * A report, not a test: it exits 0 whatever the suite found (1 only when it could not run), so it
 * can be run while the 2026 work is in progress. `--strict` exits 1 when a check failed.
 */
import { CLIENT_SCENARIOS, runClientScenario, runServerRequirements, startConformanceGateway, type Check, type Revision } from './conformance.js';

const revision: Revision = process.argv.includes('2025-11-25') ? '2025-11-25' : '2026-07-28';
const strict = process.argv.includes('--strict');

/** The feature a scenario exercises, for grouping the failures. */
function feature(scenario: string): string {
  if (scenario === 'server-stateless') return 'stateless core (_meta, server/discover, errors, removed methods, subscriptions/listen)';
  if (scenario.startsWith('input-required-result')) return 'multi round-trip requests (input_required, requestState)';
  if (scenario.startsWith('tasks-')) return 'tasks extension (io.modelcontextprotocol/tasks)';
  if (scenario === 'caching') return 'caching hints (ttlMs, cacheScope)';
  if (scenario.startsWith('http-')) return 'HTTP header validation (Mcp-Method, Mcp-Name, Mcp-Param-*)';
  if (scenario.startsWith('sep-2164')) return 'resource not found (-32602)';
  return 'features carried over, at the 2026 wire';
}

async function clientScenarios(): Promise<void> {
  let failed = 0;
  console.log('conformance client scenarios (2026-07-28, no authorization) with mcpgate as the client');
  for (const run of await Promise.all(CLIENT_SCENARIOS.map((scenario) => runClientScenario(scenario)))) {
    const scored = run.checks.filter((c) => c.status === 'SUCCESS' || c.status === 'FAILURE');
    const bad = run.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    failed += scored.length === 0 ? 1 : bad.length;
    const passed = scored.filter((c) => c.status === 'SUCCESS').length;
    console.log(`  ${run.scenario}: ${scored.length ? `${passed}/${scored.length} passed` : 'did not run'}${bad.length ? ` — not passed: ${[...new Set(bad.map((c) => c.description))].join(', ')}` : ''}`);
  }
  if (strict && failed > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  if (process.argv.includes('client')) return clientScenarios();
  const target = await startConformanceGateway({ MCPGATE_LOG_LEVEL: 'warn' });
  try {
    const run = await runServerRequirements(target.gateway.url, revision);
    const scored = [...run.scenarios].filter(([s]) => !run.notScored.has(s));
    const sum = (rows: typeof scored) => rows.reduce((acc, [, r]) => ({ passed: acc.passed + r.passed, failed: acc.failed + r.failed }), { passed: 0, failed: 0 });
    const s = sum(scored);
    const u = sum([...run.scenarios].filter(([name]) => run.notScored.has(name)));
    console.log(`conformance server --requirements ${revision} through mcpgate (${run.scenarios.size} scenarios)`);
    console.log(`  all checks:      ${run.passed} passed of ${run.passed + run.failed}`);
    console.log(`  scored:          ${s.passed} passed of ${s.passed + s.failed} checks; scenarios ${scored.filter(([, r]) => r.failed === 0).length}/${scored.length}`);
    console.log(`  not scored:      ${u.passed} passed of ${u.passed + u.failed} checks (${[...run.notScored].map(([n, why]) => `${n}: ${why}`).join(', ')})`);
    const bad = run.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    const groups = new Map<string, Check[]>();
    for (const c of bad) groups.set(feature(c.scenario), [...(groups.get(feature(c.scenario)) ?? []), c]);
    for (const [name, checks] of groups) {
      console.log(`\n${name}: ${checks.length} failing or warning`);
      for (const c of checks) console.log(`  ${c.status === 'WARNING' ? 'warn' : 'FAIL'} ${c.scenario}:${c.id} — ${c.errorMessage.replace(/\s+/g, ' ').slice(0, 160)}`);
    }
    const crashed = [...run.scenarios].filter(([name, r]) => r.failed > 0 && !run.checks.some((c) => c.scenario === name));
    for (const [name] of crashed) console.log(`\n${name}: the scenario stopped before its first check (see the suite's output)`);
    if (strict && run.failed > 0) process.exitCode = 1;
  } finally {
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(`conformance run failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
