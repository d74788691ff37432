/**
 * `mcpgate audit verify` over every chain of a configuration's audit log (chains.ts): each chain
 * is verified on its own (verify.ts) and the result says how many chains there are and how each
 * one fared. Exit status: 1 when any chain is broken, 3 when none is but some has explained gaps,
 * else 0.
 */
import type { KeyObject } from 'node:crypto';
import { ErrorCodes, GatewayError } from '../errors.js';
import { auditChains, chainLabel, type AuditChain } from './chains.js';
import { describeVerify, verifyAudit, type VerifyOptions, type VerifyReport } from './verify.js';

/** One chain's verification. */
export interface ChainVerification {
  readonly chain: AuditChain;
  readonly report: VerifyReport;
}

/** Verifies every chain of audit file `file` (`audit.file`, or one chain's own file). */
export async function verifyAuditChains(file: string, key?: KeyObject, options: VerifyOptions = {}): Promise<ChainVerification[]> {
  const chains = await auditChains(file);
  if (chains.length === 0) throw new GatewayError(ErrorCodes.AUDIT_NOT_FOUND, `no audit log at ${file}`, { remedy: 'give the audit file with --file PATH, or the config dir whose gateway.yaml names it with --config DIR' });
  const results: ChainVerification[] = [];
  for (const chain of chains) results.push({ chain, report: await verifyAudit(chain.active, key, { ...options, chain: chain.chain }) });
  return results;
}

/** Whether a chain failed: broken, or (with a key) holding no signed checkpoint. */
export function chainFailed(report: VerifyReport, keyed: boolean): boolean {
  return report.break !== undefined || (keyed && report.checkpoints === 0);
}

/** The CLI's text: one chain as before; several as a summary line and one line (block) per chain. */
export function describeChains(results: readonly ChainVerification[], keyed: boolean): string {
  const noCheckpoints = (report: VerifyReport) => (keyed && report.checkpoints === 0 && !report.break ? '\nno signed checkpoints in the log, but --key was given' : '');
  if (results.length === 1) {
    const report = (results[0] as ChainVerification).report;
    return `${describeVerify(report)}${noCheckpoints(report)}\n`;
  }
  const failed = results.filter((r) => chainFailed(r.report, keyed));
  const gaps = results.filter((r) => !chainFailed(r.report, keyed) && r.report.gaps);
  const records = results.reduce((sum, r) => sum + r.report.records, 0);
  const state =
    failed.length > 0
      ? `${failed.map((r) => `chain ${r.chain.chain}`).join(', ')} ${failed.length === 1 ? 'is' : 'are'} not intact`
      : gaps.length > 0
        ? `intact except explained gaps in ${gaps.map((r) => `chain ${r.chain.chain}`).join(', ')}`
        : 'all intact';
  const head = `${results.length} chains (one per gateway process), ${records} records: ${state}`;
  const body = results.map((r) => `${chainLabel(r.chain)}: ${(describeVerify(r.report) + noCheckpoints(r.report)).replace(/\n/g, '\n  ')}`);
  return `${head}\n${body.join('\n')}\n`;
}

/** The exit code of verify: 1 any chain failed, 3 explained gaps only, 0 intact. */
export function verifyExitCode(results: readonly ChainVerification[], keyed: boolean): number {
  if (results.some((r) => chainFailed(r.report, keyed))) return 1;
  return results.some((r) => r.report.gaps) ? 3 : 0;
}

/** The log's integrity as the report shows it: a state and the words verify printed. */
export interface Integrity {
  readonly state: 'intact' | 'gaps' | 'broken';
  readonly text: string;
}

/** What `verify` says, for the report (without a key: signatures are not checked there). */
export function integrityOf(results: readonly ChainVerification[]): Integrity {
  const code = verifyExitCode(results, false);
  return { state: code === 0 ? 'intact' : code === 3 ? 'gaps' : 'broken', text: describeChains(results, false).trimEnd() };
}
