/**
 * Tool pinning (rug-pull defence). When the catalog admits a tool, the guard compares its
 * definition's hash with the pinned one: first seen → pinned; same → unchanged; different → the
 * tool's decision becomes at least `ask` (a deny stays deny) until an admin accepts the new
 * definition (`mcpgate tools --accept SERVER__TOOL`), and a `mcpgate.tool.definition_change`
 * audit event says what changed. All of this runs when the catalog is rebuilt, never per call.
 *
 * The running gateway polls the state file (fs.watchFile, every 500 ms, only while serving) and,
 * when an admin's accept lands, rebuilds the catalog so the escalation goes away. A state file
 * that cannot be read escalates every tool (fail closed) and is never overwritten.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { basename } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolPolicy } from '../policy/policy.js';
import type { Verdict } from '../policy/verdict.js';
import type { EventSink } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import { emptyPinState, readPinState, readPinStateSync, withPinLock, writePinState, type PinState } from './pinFile.js';
import { changedFields, toolDigest } from './toolDigest.js';

/** Options of the guard. */
export interface PinGuardOptions {
  readonly file: string;
  readonly logger: Logger;
  readonly events?: EventSink;
  /** Record first-seen and changed definitions in the file (serve); false: read only (`mcpgate tools`). */
  readonly write: boolean;
}

/** Guards tool definitions against silent changes. */
export class PinGuard {
  readonly file: string;
  private readonly options: PinGuardOptions;
  private state: PinState = emptyPinState();
  /** Why the state file could not be read; every tool is escalated while set. */
  private broken: string | undefined;
  private readonly announced = new Set<string>();
  private dirty = false;
  private saving: Promise<void> | undefined;
  private watching = false;
  private onChange: (() => void) | undefined;

  constructor(options: PinGuardOptions) {
    this.options = options;
    this.file = options.file;
    try {
      this.state = readPinStateSync(this.file);
    } catch (error) {
      this.broken = (error as Error).message;
      options.logger.error({ file: this.file, err: this.broken }, 'tool pin file unreadable: every tool needs approval until it is fixed or removed');
    }
  }

  /** The policy a tool gets given its definition: the same, or escalated to at least ask. */
  check(server: string, tool: Tool, publicName: string, policy: ToolPolicy): ToolPolicy {
    const key = `${server}/${tool.name}`;
    if (this.broken) return escalate(policy, this.verdict(key, publicName, `the tool pin file ${this.file} cannot be read (${this.broken})`));
    let digest: ReturnType<typeof toolDigest>;
    try {
      digest = toolDigest(tool);
    } catch (error) {
      // E.g. an inputSchema nested thousands deep (stack overflow): fail closed for this tool only.
      return escalate(policy, this.verdict(key, publicName, `the definition of ${publicName} cannot be pinned (${(error as Error).message})`));
    }
    const pin = this.state.pins[key];
    if (!pin) {
      if (this.options.write) {
        this.state.pins[key] = { sha256: digest.sha256, fields: { ...digest.fields }, first_seen: new Date().toISOString() };
        this.save();
      }
      return policy;
    }
    if (pin.sha256 === digest.sha256) {
      if (this.state.pending[key] && this.options.write) {
        delete this.state.pending[key]; // the upstream went back to the accepted definition
        this.save();
      }
      return policy;
    }
    const changed = changedFields(pin.fields, digest.fields);
    const pending = this.state.pending[key];
    if (this.options.write && pending?.sha256 !== digest.sha256) {
      this.state.pending[key] = { sha256: digest.sha256, fields: { ...digest.fields }, public_name: publicName, changed, seen: new Date().toISOString() };
      this.save();
    }
    if (!this.announced.has(`${key} ${digest.sha256}`)) {
      this.announced.add(`${key} ${digest.sha256}`);
      this.options.events?.emit({
        event: 'mcpgate.tool.definition_change',
        server,
        tool: tool.name,
        public_name: publicName,
        status: 'changed',
        old_sha256: pin.sha256,
        new_sha256: digest.sha256,
        changed,
      });
      this.options.logger.warn({ server, tool: tool.name, changed }, `tool ${publicName} changed its definition (${changed.join(', ')}); it needs approval until accepted with: mcpgate tools --accept ${publicName}`);
    }
    return escalate(policy, this.verdict(key, publicName, `the definition of ${publicName} changed since it was pinned (${changed.join(', ')}); an admin can accept it with \`mcpgate tools --accept ${publicName}\``));
  }

  /** Polls the state file and calls `onChange` after an admin's accept (or any edit) lands. */
  watch(onChange: () => void): void {
    if (this.watching) return;
    this.watching = true;
    this.onChange = onChange;
    watchFile(this.file, { interval: 500, persistent: false }, () => {
      void readPinState(this.file).then(
        (state) => {
          if (this.reconcile(state)) onChange();
        },
        (error: unknown) => this.options.logger.warn({ file: this.file, err: String(error) }, 'tool pin file changed but cannot be read; keeping the pins in memory'),
      );
    });
  }

  /** Stops watching and finishes pending writes. */
  async close(): Promise<void> {
    if (this.watching) unwatchFile(this.file);
    this.watching = false;
    await this.saving;
  }

  /** Adopts the state on disk; true when a pin changed (the catalog must be rebuilt). */
  private reconcile(disk: PinState): boolean {
    const before = this.state;
    let changed = false;
    for (const [key, pin] of Object.entries(disk.pins)) {
      if (before.pins[key]?.sha256 !== pin.sha256) changed = true;
      const pending = before.pending[key];
      if (pending && pending.sha256 === pin.sha256 && before.pins[key]?.sha256 !== pin.sha256) {
        const [server = '', ...rest] = key.split('/');
        this.options.events?.emit({
          event: 'mcpgate.tool.definition_change',
          server,
          tool: rest.join('/'),
          public_name: pending.public_name,
          status: 'accepted',
          old_sha256: before.pins[key]?.sha256 ?? '',
          new_sha256: pin.sha256,
          changed: pending.changed,
        });
      }
    }
    // Pins only ever come from here (first seen) or from an admin's accept (disk): disk wins.
    const pins = { ...before.pins, ...disk.pins };
    // Pending entries are this gateway's own findings; an accept removes them by pinning their hash.
    const pending = Object.fromEntries(Object.entries(before.pending).filter(([key, entry]) => pins[key]?.sha256 !== entry.sha256));
    this.state = { version: 1, pins, pending };
    return changed;
  }

  private save(): void {
    this.dirty = true;
    this.saving ??= this.flush().finally(() => {
      this.saving = undefined;
    });
  }

  private async flush(): Promise<void> {
    // Coalesce: one read-merge-write for a burst of first-seen tools, after the current turn.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirty) {
      this.dirty = false;
      try {
        const accepted = await withPinLock(this.file, async () => {
          // A file that exists but cannot be read is never replaced (what it holds would be lost).
          const disk = await readPinState(this.file).catch((error: unknown) => {
            throw new Error(`it cannot be read, so it is left as it is and pins stay in memory (${(error as Error).message})`);
          });
          const changed = this.reconcile(disk);
          await writePinState(this.file, this.state);
          return changed;
        });
        if (accepted) this.onChange?.();
      } catch (error) {
        this.options.logger.error({ file: this.file, err: String(error) }, 'could not write the tool pin file');
      }
    }
  }

  private verdict(key: string, publicName: string, reason: string): Verdict {
    return Object.freeze({
      decision: 'ask',
      decidedBy: 'rule',
      rule: Object.freeze({ source: basename(this.file), where: `pins["${key}"]`, text: 'definition changed' }),
      reason: `approval required: ${reason}`,
      humanOnly: true,
    });
  }
}

/** At least ask: deny stays deny, allow and ask become the pin's ask. */
function escalate(policy: ToolPolicy, verdict: Verdict): ToolPolicy {
  const lift = (v: Verdict): Verdict => (v.decision === 'deny' ? v : verdict);
  const listing = lift(policy.listing);
  if (!policy.conditional) return { listing, conditional: false, decide: () => listing };
  return { listing, conditional: true, decide: (args) => lift(policy.decide(args)) };
}
