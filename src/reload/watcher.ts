/**
 * Watches the configuration for changes with `fs.watch` on the directories (never on the files:
 * editors and `kubectl`-mounted ConfigMaps replace a file by renaming another over it, which a
 * watch on the file itself stops following), and calls back once per burst of events (debounced).
 * Only names that can matter wake it up (the audit log next to gateway.yaml does not).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GATEWAY_FILES } from '../config/locations.js';
import type { WatchedFiles } from './files.js';

/** ConfigMap volumes swap a `..data` symlink to update every file at once. */
const SWAP_LINK = '..data';

/** Calls `onChange` (debounced by `debounceMs`) after any watched file changes. */
export class ConfigWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Per watched directory, which entry names matter (two files may share a directory). */
  private readonly filters = new Map<string, Array<(name: string) => boolean>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly files: WatchedFiles,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Starts watching (a directory that does not exist yet is watched once its parent shows it). */
  start(): void {
    const { dir, requirementsFile, rulesFile } = this.files;
    const configNames = new Set([...GATEWAY_FILES, 'servers.d', SWAP_LINK]);
    this.watchDir(dir, (name) => {
      if (name === 'servers.d') this.watchServers();
      return configNames.has(name);
    });
    this.watchServers();
    for (const file of [requirementsFile, rulesFile]) {
      if (file === undefined) continue;
      const wanted = new Set([basename(file), SWAP_LINK]);
      this.watchDir(dirname(file), (name) => wanted.has(name));
    }
  }

  /** Stops every watch and a pending callback. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private watchServers(): void {
    const servers = join(this.files.dir, 'servers.d');
    this.watchers.get(servers)?.close();
    this.watchers.delete(servers);
    this.watchDir(servers, () => true);
  }

  /** Watches one directory; `relevant(name)` says whether an event on that entry may matter. */
  private watchDir(dir: string, relevant: (name: string) => boolean): void {
    if (this.closed || this.watchers.has(dir)) {
      // the config dir and the rules file's directory may be the same: one watch, both filters
      const existing = this.filters.get(dir);
      if (existing) existing.push(relevant);
      return;
    }
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false });
    } catch {
      return; // not there (yet): servers.d is re-armed when the config dir reports it; others apply at the next SIGHUP
    }
    this.filters.set(dir, [relevant]);
    watcher.on('change', (_event, name) => {
      const entry = typeof name === 'string' ? name : name?.toString();
      // An event without a name may be anything: treat it as a change.
      if (entry !== undefined && !(this.filters.get(dir) ?? []).some((filter) => filter(entry))) return;
      this.schedule();
    });
    watcher.on('error', (error) => {
      this.onError(`watching ${dir} for configuration changes failed (${error.message}); send SIGHUP to reload`);
      watcher.close();
      this.watchers.delete(dir);
    });
    this.watchers.set(dir, watcher);
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onChange, this.debounceMs);
    this.timer.unref();
  }
}
