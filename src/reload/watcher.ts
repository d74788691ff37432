/**
 * Watches the configuration for changes with `fs.watch` on the directories (never on the files:
 * editors and `kubectl`-mounted ConfigMaps replace a file by renaming another over it, which a
 * watch on the file itself stops following), and calls back once per burst of events (debounced).
 * Only names that can matter wake it up (the audit log next to gateway.yaml does not). A directory
 * that does not exist yet (servers.d/, rules.d/) is watched from its parent until it appears.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GATEWAY_FILES } from '../config/locations.js';
import type { WatchedFiles } from './files.js';

/** ConfigMap volumes swap a `..data` symlink to update every file at once. */
const SWAP_LINK = '..data';

type Filter = (name: string) => boolean;

/** Calls `onChange` (debounced by `debounceMs`) after any watched file changes. */
export class ConfigWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Per watched directory, which entry names matter (several files may share a directory). */
  private readonly filters = new Map<string, Filter[]>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly files: WatchedFiles,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Starts watching. */
  start(): void {
    const { dir, requirementsFile, rulesFile } = this.files;
    const configNames = new Set([...GATEWAY_FILES, SWAP_LINK]);
    this.arm(dir, (name) => configNames.has(name));
    this.arm(join(dir, 'servers.d'), () => true);
    for (const file of [requirementsFile, rulesFile]) {
      if (file === undefined) continue;
      const wanted = new Set([basename(file), SWAP_LINK]);
      this.arm(dirname(file), (name) => wanted.has(name));
    }
  }

  /** Stops every watch and a pending callback. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** Watches `dir` for entries `relevant` names; a missing `dir` is armed when its parent shows it. */
  private arm(dir: string, relevant: Filter, fromParent = true): void {
    if (this.closed) return;
    const filters = this.filters.get(dir);
    if (filters) {
      filters.push(relevant);
      return;
    }
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false });
    } catch {
      const parent = dirname(dir);
      const name = basename(dir);
      if (parent === dir || !fromParent) return;
      // Not there yet: when it appears, watch it and reload (its files are new).
      let armed = false;
      this.arm(parent, (entry) => {
        if (entry !== name || armed || !this.tryArm(dir, relevant)) return false;
        armed = true;
        return true;
      });
      return;
    }
    this.filters.set(dir, [relevant]);
    watcher.on('change', (_event, name) => {
      const entry = typeof name === 'string' ? name : name?.toString();
      // An event without a name may be anything: treat it as a change.
      if (entry !== undefined && !(this.filters.get(dir) ?? []).some((filter) => filter(entry))) return;
      this.schedule();
    });
    watcher.on('error', (error) => {
      // e.g. the directory was deleted: say so; SIGHUP still reloads
      this.onError(`watching ${dir} for configuration changes stopped (${error.message}); send SIGHUP to reload`);
      watcher.close();
      this.watchers.delete(dir);
      this.filters.delete(dir);
    });
    this.watchers.set(dir, watcher);
  }

  private tryArm(dir: string, relevant: Filter): boolean {
    this.arm(dir, relevant, false);
    return this.filters.has(dir);
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onChange, this.debounceMs);
    this.timer.unref();
  }
}
