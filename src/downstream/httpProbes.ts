/**
 * Kubernetes' probes and the health summary on the HTTP listener (src/health says what they
 * report). `/livez`: the process answers (a blocked event loop does not, and the probe's timeout
 * fails it). `/readyz`: 200 once the upstreams' first starts have settled and one is ready, else
 * 503 with the reason. `/healthz`: always 200, `status` ok or degraded; with auth, the upstream
 * names and states only for a valid token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Probes } from '../health/report.js';
import type { BearerAuth } from './auth.js';

/** True for the paths {@link answerProbe} serves (GET only). */
export function isProbePath(path: string | undefined): path is '/healthz' | '/livez' | '/readyz' {
  return path === '/healthz' || path === '/livez' || path === '/readyz';
}

/** Answers one probe; without `probes` (a listener embedded without a gateway's health): `ok` and ready. */
export async function answerProbe(path: '/healthz' | '/livez' | '/readyz', req: IncomingMessage, res: ServerResponse, probes: Probes | undefined, auth: BearerAuth | undefined): Promise<void> {
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  if (path === '/livez') return void json(200, { status: 'ok' });
  if (path === '/readyz') {
    const readiness = probes?.readiness() ?? { ready: true };
    return void json(readiness.ready ? 200 : 503, readiness.ready ? { status: 'ready' } : { status: 'not ready', reason: readiness.reason });
  }
  const health = probes?.healthz() ?? { status: 'ok' };
  json(200, auth && !(await auth.authenticate(req)).ok ? { status: health.status } : health);
}
