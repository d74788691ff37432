/**
 * Configuration reload while serving (SIGHUP, or a watched file changed): re-reads gateway.yaml,
 * servers.d, the managed requirements and the approved-rules file, keeps the last good version of
 * whatever no longer loads (a broken requirements file keeps the old floor: fail closed), applies
 * the rest to the running gateway without dropping a session, and records one
 * `mcpgate.config.change` event per reload. Reloads run one at a time.
 */
import { loadConfigReport } from '../config/load.js';
import { formatProblem, type ConfigProblem, type GatewayConfig } from '../config/types.js';
import { messageOf } from '../errors.js';
import { applyRequirements } from '../requirements/apply.js';
import { loadRequirementsReport } from '../requirements/load.js';
import type { ManagedRequirements } from '../requirements/types.js';
import type { EventSink } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import { changedFiles, labelOf, snapshotFiles, type FileSnapshot, type WatchedFiles } from './files.js';
import { readApprovedFile } from '../approval/approvedFile.js';
import { comparePrints, keepLastGood, printOf, type ServerChanges } from './plan.js';
import { ConfigWatcher } from './watcher.js';

/** What started a reload. */
export type ReloadTrigger = 'signal' | 'watch';

/** What the reloader needs of the running gateway (src/gateway.ts; the reloader does not import the composition root). */
export interface ReloadTarget {
  /** The configuration in force. */
  readonly config: GatewayConfig;
  /** Reloads applied so far; the reloader counts them. */
  generation: number;
  readonly events: EventSink;
  /** Applies `next` as planned by `changes`; resolves with the servers that failed to start. */
  applyConfig(next: GatewayConfig, changes: ServerChanges): Promise<string[]>;
}

/** Options of {@link Reloader}. */
export interface ReloaderOptions {
  readonly gateway: ReloadTarget;
  readonly logger: Logger;
  /** The configuration as loaded at start, before the managed requirements were applied. */
  readonly loaded: GatewayConfig;
  /** The managed requirements in force at start, and their file. */
  readonly requirements?: ManagedRequirements;
  readonly requirementsFile?: string;
}

/** At most this many problem lines go into one `mcpgate.config.change` record (all are logged). */
const MAX_RECORDED_ERRORS = 20;

/** Reloads a running gateway's configuration. */
export class Reloader {
  private loaded: GatewayConfig;
  private requirements: ManagedRequirements | undefined;
  private snapshot: FileSnapshot = new Map();
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private watcher: ConfigWatcher | undefined;

  constructor(private readonly options: ReloaderOptions) {
    this.loaded = options.loaded;
    this.requirements = options.requirements;
  }

  /** Records what the gateway started from (call before serving) and, if `reload.watch`, starts watching. */
  async start(): Promise<void> {
    this.snapshot = await snapshotFiles(this.files());
    const { watch, debounceMs } = this.options.gateway.config.reload;
    if (!watch) return;
    this.watcher = new ConfigWatcher(this.files(), debounceMs, () => void this.reload('watch'), (message) => this.options.logger.warn({}, message));
    this.watcher.start();
  }

  /** Stops watching. */
  close(): void {
    this.watcher?.close();
  }

  /**
   * Reloads once the reload in progress (if any) is done; triggers arriving meanwhile share one
   * more reload. Never rejects: a failure is logged and the configuration in force stays.
   */
  reload(trigger: ReloadTrigger): Promise<void> {
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.run(trigger).catch((error: unknown) => this.options.logger.error({}, `configuration reload failed, the configuration in force stays: ${messageOf(error)}`));
    });
    this.running = this.queued;
    return this.queued;
  }

  private files(): WatchedFiles {
    const config = this.options.gateway.config;
    return { dir: config.dir, rulesFile: config.approval.rulesFile, ...(this.options.requirementsFile ? { requirementsFile: this.options.requirementsFile } : {}) };
  }

  private async run(trigger: ReloadTrigger): Promise<void> {
    const { gateway, logger } = this.options;
    const snapshot = await snapshotFiles(this.files());
    const files = changedFiles(this.snapshot, snapshot);
    // A watch event for a file whose content did not change (a touch, an editor's temp file) is no reload.
    if (files.length === 0 && trigger === 'watch') return;
    const failedFiles = new Set<string>();
    const errors: ConfigProblem[] = [];
    const requirements = await this.loadRequirements(failedFiles, errors);
    const loaded = await this.loadConfig(failedFiles, errors);
    const lastGood = keepLastGood(this.loaded, loaded);
    for (const problem of lastGood.problems) failedFiles.add(problem.file);
    errors.push(...lastGood.problems);
    const effective = applyRequirements(lastGood.config, requirements);
    // servers the managed layer refuses now (a changed requirements file) are errors too
    const before = new Set(lastGood.config.problems);
    errors.push(...effective.problems.filter((problem) => !before.has(problem) && problem.severity === 'error'));

    const previous = gateway.config;
    const { changes, rulesChanged, restartNeeded: later } = comparePrints(printOf(previous), printOf(effective));
    const rulesFile = labelOf(previous.dir, previous.approval.rulesFile);
    // The running gateway re-reads the approved-rules file at each ask; a broken one allows nothing (fail closed).
    if (files.includes(rulesFile)) await this.checkApprovedFile(failedFiles, errors);
    const rules = rulesChanged || files.includes(rulesFile);
    if (later.length > 0) logger.warn({ fields: later }, `reload: gateway.yaml ${later.join(', ')} changed; this takes effect at the next start (the running values stay)`);
    for (const problem of errors) logger.error({ file: problem.file, ...(problem.line ? { line: problem.line } : {}) }, `reload: ${formatProblem(problem)}`);
    if (lastGood.failed.length > 0) logger.error({ servers: lastGood.failed }, `reload: ${lastGood.failed.join(', ')} kept at the last good version (or not added) until the file loads again`);
    const failedToStart = await gateway.applyConfig(effective, changes);
    this.loaded = lastGood.config;
    this.requirements = requirements;
    // only now: a reload that threw is tried again by the next event for the same content
    this.snapshot = snapshot;
    gateway.generation += 1;
    const failed = [...new Set([...lastGood.failed, ...failedToStart])].sort();
    gateway.events.emit({
      event: 'mcpgate.config.change',
      trigger,
      generation: gateway.generation,
      files,
      added: [...changes.added],
      removed: [...changes.removed],
      restarted: [...changes.restarted],
      reconfigured: [...changes.reconfigured],
      failed,
      ...(failedFiles.size > 0 ? { failed_files: [...failedFiles].sort() } : {}),
      ...(errors.length > 0 ? { errors: errors.slice(0, MAX_RECORDED_ERRORS).map(formatProblem) } : {}),
      rules_changed: rules,
      ...(later.length > 0 ? { restart_needed: later } : {}),
      config_digest: effective.digest,
    });
    const summary = (['added', 'removed', 'restarted', 'reconfigured'] as const).map((kind) => `${kind} ${JSON.stringify(changes[kind])}`).join(', ');
    logger[failed.length > 0 || failedFiles.size > 0 ? 'warn' : 'info'](
      { generation: gateway.generation, files, failed },
      `configuration reloaded (generation ${gateway.generation}, ${trigger === 'signal' ? 'SIGHUP' : 'file change'}): ${summary}${rules ? ', rules changed' : ''}${failed.length > 0 ? `, failed ${JSON.stringify(failed)}` : ''}`,
    );
  }

  /** The requirements file as it is now, or the last good one if it no longer loads (fail closed: never none). */
  private async loadRequirements(failedFiles: Set<string>, errors: ConfigProblem[]): Promise<ManagedRequirements | undefined> {
    const file = this.options.requirementsFile;
    if (!file) return undefined;
    const report = await loadRequirementsReport(file);
    if (report.requirements) return report.requirements;
    failedFiles.add(labelOf(this.options.gateway.config.dir, file));
    errors.push(...report.problems.filter((problem) => problem.severity === 'error'));
    this.options.logger.error({ file }, `reload: managed requirements ${file} could not be loaded; the last good version stays in force (fail closed)`);
    return this.requirements;
  }

  /** Reports a broken approved-rules file (file:line); none of its entries apply while it is. */
  private async checkApprovedFile(failedFiles: Set<string>, errors: ConfigProblem[]): Promise<void> {
    const config = this.options.gateway.config;
    const report = await readApprovedFile(config.approval.rulesFile, config.dir);
    if (report.problems.length === 0) return;
    failedFiles.add(report.file);
    errors.push(...report.problems);
  }

  /** The configuration directory as it is now, or (gateway.yaml broken) the last good one. */
  private async loadConfig(failedFiles: Set<string>, errors: ConfigProblem[]): Promise<GatewayConfig> {
    const report = await loadConfigReport(this.loaded.dir);
    const global = report.problems.filter((problem) => problem.server === undefined && problem.severity === 'error');
    if (report.config && global.length === 0) return report.config;
    for (const problem of global) failedFiles.add(problem.file);
    errors.push(...global);
    this.options.logger.error({}, 'reload: gateway.yaml could not be loaded; nothing from the configuration directory was reloaded (the last good version stays)');
    return this.loaded;
  }
}
