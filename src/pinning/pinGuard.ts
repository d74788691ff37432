/**
 * Tool pinning (rug-pull defence). When the catalog admits a tool, the guard compares its
 * definition's hash with the pinned one: first seen → pinned; same → unchanged; different → the
 * tool's decision becomes at least `ask` (a deny stays deny) and the agent is shown the pinned
 * definition (stored in the pin file), never the new text, until an admin accepts the new
 * definition (`mcpgate tools --accept SERVER__TOOL`); a `mcpgate.tool.definition_change` audit
 * event says what changed. All of this runs when the catalog is rebuilt, never per call.
 *
 * The running gateway polls the state file (fs.watchFile, every 500 ms, only while serving) and,
 * when an admin's accept lands, rebuilds the catalog so the escalation goes away. A state file
 * that cannot be read escalates every tool (fail closed) and is never overwritten.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { basename } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Verdict } from '../policy/verdict.js';
import type { EventSink } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import { emptyPinState, readPinState, readPinStateSync, withPinLock, writePinState, type Pin, type PinState } from './pinFile.js';
import { changedFields, pinnedDefinition, toolDigest } from './toolDigest.js';

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
  /** Pins of older versions re-pinned here with outputSchema: key → the old hash (still on disk until written). */
  private readonly upgraded = new Map<string, string>();
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

  /**
   * What a tool gets given its definition: no pin verdict and the upstream's definition; or,
   * when the definition changed since it was pinned, the pins layer's ask (src/policy/layers.ts)
   * and the pinned definition to list (undefined: not listed, when the pin file holds none to show).
   */
  check(server: string, tool: Tool, publicName: string): GuardedTool {
    const key = `${server}/${tool.name}`;
    if (this.broken) return { pin: this.verdict(key, `the tool pin file ${this.file} cannot be read (${this.broken})`), definition: tool };
    let digest: ReturnType<typeof toolDigest>;
    try {
      digest = toolDigest(tool);
    } catch (error) {
      // E.g. an inputSchema nested thousands deep (stack overflow): fail closed for this tool only.
      return { pin: this.verdict(key, `the definition of ${publicName} cannot be pinned (${(error as Error).message})`), definition: undefined };
    }
    let pin = this.state.pins[key];
    // A pin written before outputSchema was pinned: the same definition, re-pinned with it.
    if (pin && pin.sha256 === digest.legacySha256 && pin.fields.outputSchema === undefined) {
      this.upgraded.set(key, pin.sha256);
      pin = this.record(key, { ...pin, sha256: digest.sha256, fields: { ...digest.fields } }, tool);
    }
    if (!pin) {
      this.record(key, { sha256: digest.sha256, fields: { ...digest.fields }, first_seen: new Date().toISOString() }, tool);
      return { pin: undefined, definition: tool };
    }
    if (pin.sha256 === digest.sha256) {
      if (this.options.write && (this.state.pending[key] || !pin.definition)) {
        delete this.state.pending[key]; // the upstream went back to the accepted definition
        this.record(key, pin, tool); // and a pin from an older version learns the definition it accepted
      }
      return { pin: undefined, definition: tool };
    }
    const changed = changedFields(pin.fields, digest.fields);
    const pending = this.state.pending[key];
    if (this.options.write && pending?.sha256 !== digest.sha256) {
      this.state.pending[key] = { sha256: digest.sha256, fields: { ...digest.fields }, definition: pinnedDefinition(tool), public_name: publicName, changed, seen: new Date().toISOString() };
      this.save();
    }
    const pinned = pinnedTool(tool.name, pin);
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
      const listed = pinned ? 'it is listed with its pinned definition' : 'it is not listed (the pin file holds no pinned definition to show)';
      this.options.logger.warn({ server, tool: tool.name, changed }, `tool ${publicName} changed its definition (${changed.join(', ')}); until accepted with \`mcpgate tools --accept ${publicName}\` ${listed} and every call needs approval`);
    }
    return { pin: this.verdict(key, `the definition of ${publicName} changed since it was pinned (${changed.join(', ')}); an admin can accept it with \`mcpgate tools --accept ${publicName}\``), definition: pinned };
  }

  /** Pins `pin` with the tool's definition (serve only; `mcpgate tools` writes nothing); returns the pin. */
  private record(key: string, pin: Pin, tool: Tool): Pin {
    if (!this.options.write) return pin;
    const recorded = { ...pin, definition: pinnedDefinition(tool) };
    this.state.pins[key] = recorded;
    this.save();
    return recorded;
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
    // Pins only ever come from here (first seen, or what an older version pinned re-pinned with
    // its definition) or from an admin's accept (disk): disk wins but for our own refinements.
    const pins = { ...before.pins };
    let changed = false;
    for (const [key, pin] of Object.entries(disk.pins)) {
      const mine = before.pins[key];
      if (mine && this.refines(key, mine, pin)) continue;
      if (mine?.sha256 !== pin.sha256) changed = true;
      pins[key] = pin;
      const pending = before.pending[key];
      if (pending && pending.sha256 === pin.sha256 && mine?.sha256 !== pin.sha256) {
        const [server = '', ...rest] = key.split('/');
        this.options.events?.emit({
          event: 'mcpgate.tool.definition_change',
          server,
          tool: rest.join('/'),
          public_name: pending.public_name,
          status: 'accepted',
          old_sha256: mine?.sha256 ?? '',
          new_sha256: pin.sha256,
          changed: pending.changed,
        });
      }
    }
    // Pending entries are this gateway's own findings; an accept removes them by pinning their hash.
    const pending = Object.fromEntries(Object.entries(before.pending).filter(([key, entry]) => pins[key]?.sha256 !== entry.sha256));
    this.state = { version: 1, pins, pending };
    return changed;
  }

  /** True when `mine` is the disk's pin of the same accepted definition with what an older version did not record. */
  private refines(key: string, mine: Pin, disk: Pin): boolean {
    if (mine.sha256 === disk.sha256) return mine.definition !== undefined && disk.definition === undefined;
    return this.upgraded.get(key) === disk.sha256;
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

  private verdict(key: string, reason: string): Verdict {
    return pinVerdict(reason, { source: basename(this.file), where: `pins["${key}"]`, text: 'definition changed' });
  }
}

/**
 * The pins layer's verdict for a tool whose definition cannot be trusted as pinned: an ask only
 * a person may answer (`mcpgate check` builds the same one from the pin file it reads).
 */
export function pinVerdict(reason: string, rule?: { readonly source: string; readonly where: string; readonly text: string }): Verdict {
  return Object.freeze({ decision: 'ask', decidedBy: 'rule', ...(rule ? { rule: Object.freeze(rule) } : {}), reason: `approval required: ${reason}`, humanOnly: true });
}

/** A tool's pin verdict (undefined: as pinned, or first seen) and the definition to list for it (undefined: not listed). */
export interface GuardedTool {
  readonly pin: Verdict | undefined;
  readonly definition: Tool | undefined;
}

/**
 * The pinned definition under the tool's name, when the pin file holds one that still hashes to
 * the pin (a definition edited in the file, or missing, lists nothing rather than unchecked text).
 */
function pinnedTool(name: string, pin: Pin): Tool | undefined {
  if (!pin.definition) return undefined;
  const pinned = { name, ...pinnedDefinition(pin.definition) } as Tool;
  try {
    return toolDigest(pinned).sha256 === pin.sha256 ? pinned : undefined;
  } catch {
    return undefined;
  }
}
