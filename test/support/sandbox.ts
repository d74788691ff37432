/**
 * Test support for the sandbox: a scratch directory a sandboxed server could otherwise see (not
 * under the OS temp dir, which every sandbox replaces with a private one, so a test placing its
 * files there would pass without any protection), loopback listeners, and the audit records of
 * one call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fixtureScript, waitForAudit, type AuditRecord } from './gateway.js';

/** servers.d entry running a fixture server from any working directory (the compiled script, by its path). */
export function anyCwdFixture(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: 'node', args: [fixtureScript(name)], ...extra };
}

/** A scratch directory under HOME (visible to a sandbox unless it hides it on purpose). */
export async function visibleScratch(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(homedir(), '.mcpgate-sandbox-test-'));
  if (!relative(tmpdir(), dir).startsWith('..')) throw new Error(`HOME (${homedir()}) lies in the temp dir: the sandbox tests need files outside it`);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A TCP listener on a loopback address that counts the connections it accepts. */
export async function countingListener(host: string): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: () => accepted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The decision and result records of the (only) call of `publicName` whose arguments hold `marker`. */
export async function callRecords(auditFile: string, publicName: string, marker: string): Promise<{ decision: AuditRecord; result: AuditRecord }> {
  const isDecision = (r: AuditRecord) => r.event === 'mcpgate.tool.decision' && r.public_name === publicName && JSON.stringify(r.arguments ?? {}).includes(marker);
  let decision: AuditRecord | undefined;
  const records = await waitForAudit(auditFile, (rs) => {
    decision = rs.find(isDecision);
    return decision !== undefined && rs.some((r) => r.event === 'mcpgate.tool.result' && r.call === decision?.call);
  });
  return { decision: decision as AuditRecord, result: records.find((r) => r.event === 'mcpgate.tool.result' && r.call === decision?.call) as AuditRecord };
}
