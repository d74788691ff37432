/**
 * `mcpgate audit query | verify | report`: the auditor's commands. They read the audit file named
 * by `--file PATH`, else by gateway.yaml's `audit.file` in the config dir (`--config DIR`,
 * `$MCPGATE_CONFIG`, the current dir) under the managed requirements, which may force it
 * (`--requirements FILE`, `$MCPGATE_REQUIREMENTS`, `/etc/mcpgate/requirements.yaml`), together
 * with its rotated predecessors.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { verificationKey } from '../audit/checkpoint.js';
import { forEachRecord, formatTable, parseTime, recordFilter, type AuditFilter, type AuditRecord } from '../audit/query.js';
import { SummaryBuilder } from '../audit/report.js';
import { formatSummary } from '../audit/reportText.js';
import { renderHtml } from '../audit/reportHtml.js';
import { describeChains, integrityOf, verifyAuditChains, verifyExitCode } from '../audit/verifyChains.js';
import { defaultResolver } from '../secrets/resolve.js';
import { UsageError } from '../errors.js';
import { printableJson } from '../printable.js';
import { parseCommandLine } from './args.js';
import { configDirFrom } from './configDir.js';
import { loadEffectiveConfig } from './requirements.js';

/** Help texts of the audit subcommands. */
export const AUDIT_HELP = `mcpgate audit query  [--config DIR [--requirements FILE] | --file PATH] [filters] [--json]
mcpgate audit verify [--config DIR [--requirements FILE] | --file PATH] [--key FILE|\${env:NAME}|\${file:PATH}|\${secret:NAME}]
mcpgate audit report [--config DIR [--requirements FILE] | --file PATH] [filters] [--html FILE] [--json]

Reads the audit log (gateway.yaml audit.file, as the managed requirements may force it, or --file)
and its rotated files, in chain order.
  query    print matching records as a table, or with --json as the exact JSON lines; a session's
           story in order: mcpgate audit query --session ID
  verify   check the hash chain (and, with --key, the signed checkpoints); exit 0 "intact (…)",
           exit 1 naming the first broken seq and why (edited, deleted, inserted, reordered, torn),
           exit 3 "intact except N explained gap(s)" (seqs the writer dropped while writes failed)
  report   summarise a period: calls per server/tool, decisions, approvals, denials, failures,
           slowest tools, network (top hosts, blocked, asked); --html FILE also writes a
           self-contained HTML report with charts
Filters:
  --since T / --until T   ISO time (2025-01-31T09:00:00Z) or a duration ago (30m, 1h, 2d)
  --session ID            a session id (or its first characters)
  --client NAME           client name or authenticated subject (glob)
  --server NAME           upstream server (glob)
  --tool NAME             tool or public tool name (glob)
  --decision D            allow | ask | deny
  --outcome O             ok | tool_error | protocol_error | timeout | cancelled
  --event NAME            an event (network, tool, tool.decision, session, upstream.state, …);
                          --event network lists every egress proxy decision (--decision works on them)
`;

const FILTERS = ['since', 'until', 'session', 'client', 'server', 'tool', 'decision', 'outcome', 'event'] as const;
const ALLOWED: Record<string, readonly string[]> = {
  query: ['config', 'requirements', 'file', 'json', ...FILTERS],
  verify: ['config', 'requirements', 'file', 'key'],
  report: ['config', 'requirements', 'file', 'json', 'html', ...FILTERS],
};

/** Output streams of the audit commands. */
export interface AuditIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

/** Runs `mcpgate audit …` with the arguments after `audit`; returns the exit code. */
export async function auditCommand(argv: readonly string[], io: AuditIo): Promise<number> {
  const str = { type: 'string' } as const;
  const options = {
    config: str, requirements: str, file: str, key: str, html: str, since: str, until: str, session: str, client: str, server: str, tool: str, decision: str, outcome: str, event: str,
    json: { type: 'boolean' }, debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } as const;
  // An unknown option is suggested from the options of the subcommand, when one is recognisable.
  const named = argv.find((arg) => ALLOWED[arg] !== undefined);
  const { values, positionals } = parseCommandLine(argv, options, named ? [...(ALLOWED[named] as readonly string[]), 'help', 'debug'] : Object.keys(options));
  // `mcpgate audit query | head` closes the pipe early: that is not an error.
  io.out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') io.err.write(`mcpgate audit: ${error.message}\n`);
  });
  const [sub, extra] = positionals;
  if (values.help || sub === undefined || sub === 'help') {
    io.out.write(AUDIT_HELP);
    return values.help || sub === 'help' ? 0 : 2;
  }
  const allowed = ALLOWED[sub];
  if (!allowed) throw new UsageError(`unknown audit command "${sub}": use query, verify or report`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" for mcpgate audit ${sub}`);
  for (const [key, value] of Object.entries(values)) {
    if (key !== 'debug' && value !== undefined && !allowed.includes(key)) throw new UsageError(`option --${key} does not apply to mcpgate audit ${sub}`);
  }
  if (values.file !== undefined && values.config !== undefined) throw new UsageError('give either --file or --config, not both');
  if (values.file !== undefined && values.requirements !== undefined) throw new UsageError('--requirements applies to --config, not to --file');
  const file = values.file !== undefined ? resolve(values.file) : (await loadEffectiveConfig(configDirFrom(values.config), values.requirements)).audit.file;

  if (sub === 'verify') {
    const key = values.key === undefined ? undefined : await verificationKey(values.key, defaultResolver(configDirFrom(values.config)));
    const results = await verifyAuditChains(file, key);
    io.out.write(describeChains(results, key !== undefined));
    // 3: intact except gaps the writer explained (docs/audit.md), so a script can tell them apart.
    return verifyExitCode(results, key !== undefined);
  }

  const filter = filterFrom(values);
  // Streamed: a first pass only when the filter joins records (a call's decision or outcome, a
  // session's client), then the matching records one at a time; only the output is kept.
  const selection = recordFilter(filter);
  const skippedWarning = (skipped: number) => {
    if (skipped > 0) io.err.write(`mcpgate audit: skipped ${skipped} line(s) that are not records (run mcpgate audit verify)\n`);
  };
  if (selection.joins) skippedWarning((await forEachRecord(file, (r) => selection.learn(r))).skipped);
  const warnAfter = (skipped: number) => (selection.joins ? undefined : skippedWarning(skipped));
  if (sub === 'query') {
    if (values.json) {
      let pending = '';
      const read = await forEachRecord(file, (r, line) => {
        if (!selection.matches(r)) return;
        pending += `${line}\n`;
        if (pending.length >= 65_536) {
          io.out.write(pending);
          pending = '';
        }
      });
      if (pending !== '') io.out.write(pending);
      warnAfter(read.skipped);
    } else {
      const records: AuditRecord[] = [];
      const read = await forEachRecord(file, (r) => void (selection.matches(r) && records.push(r)));
      warnAfter(read.skipped);
      io.out.write(records.length === 0 ? 'no matching records\n' : formatTable(records, read.chains > 1));
    }
    return 0;
  }
  const builder = new SummaryBuilder();
  warnAfter((await forEachRecord(file, (r) => (selection.matches(r) ? builder.add(r) : undefined))).skipped);
  const summary = builder.result();
  // An auditor reads a summary only as far as the log can be trusted: say what verify says, first.
  const integrity = integrityOf(await verifyAuditChains(file));
  if (values.html !== undefined) {
    await writeFile(values.html, renderHtml(summary, integrity));
    io.err.write(`mcpgate audit: wrote ${values.html}\n`);
  }
  io.out.write(values.json ? `${printableJson({ integrity, ...summary }, 2)}\n` : formatSummary(summary, integrity));
  return 0;
}

const DECISIONS = ['allow', 'ask', 'deny'];
const OUTCOMES = ['ok', 'tool_error', 'protocol_error', 'timeout', 'cancelled', 'input_required', 'task'];

function filterFrom(values: Record<string, string | boolean | undefined>): AuditFilter {
  const get = (key: string) => values[key] as string | undefined;
  const decision = get('decision');
  const outcome = get('outcome');
  if (decision !== undefined && !DECISIONS.includes(decision)) throw new UsageError(`--decision must be one of ${DECISIONS.join(', ')}`);
  if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`);
  const filter: Record<string, string | number> = {};
  const since = get('since');
  const until = get('until');
  if (since !== undefined) filter.since = parseTime(since, 'since');
  if (until !== undefined) filter.until = parseTime(until, 'until');
  for (const key of ['session', 'client', 'server', 'tool', 'decision', 'outcome', 'event'] as const) {
    const value = get(key);
    if (value !== undefined) filter[key] = value;
  }
  return filter as AuditFilter;
}
