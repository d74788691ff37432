/**
 * "Always allow": answers persisted as allow rules in a user rules file (default
 * `rules.d/approved.yaml` in the config dir) that admins can read and revoke by deleting an entry.
 * The file is re-read whenever its modification time changes, so a revocation applies to the
 * running gateway at its next ask; an entry only ever turns an `ask` into an allow (never a deny,
 * never a managed ask).
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { NetworkRuleSchema } from '../config/networkSchema.js';
import { firstLineOf } from '../errors.js';
import type { Host } from '../network/address.js';
import { compileNetworkRules, matchesHost, portMatches, type NetworkRule } from '../network/rules.js';

/** One persisted approval. */
export const ApprovedEntrySchema = z.strictObject({
  tool: z.string().min(1).describe('Public tool name (SERVER__TOOL)'),
  server: z.string().optional(),
  approvedAt: z.string().optional(),
  session: z.string().optional(),
  client: z.string().optional(),
  /** The authenticated subject that answered: the entry then applies to that subject's sessions only. */
  subject: z.string().optional(),
});

/** One persisted network approval: a destination a server may reach without asking again. */
export const ApprovedNetworkEntrySchema = z.strictObject({
  destination: NetworkRuleSchema.describe('host:port as asked (any network rule: the same syntax as network.allow)'),
  server: z.string().optional().describe('The server it applies to (absent: every server)'),
  approvedAt: z.string().optional(),
  session: z.string().optional(),
  client: z.string().optional(),
  subject: z.string().optional(),
});

/** The rules file. */
export const ApprovedFileSchema = z.strictObject({
  allow: z.array(ApprovedEntrySchema).default([]),
  network: z.array(ApprovedNetworkEntrySchema).default([]),
});

/** One persisted approval, as read. */
export type ApprovedEntry = z.infer<typeof ApprovedEntrySchema>;

/** One persisted network approval, as read. */
export type ApprovedNetworkEntry = z.infer<typeof ApprovedNetworkEntrySchema>;

interface CompiledNetworkEntry {
  readonly entry: ApprovedNetworkEntry;
  readonly rule: NetworkRule;
}

const HEADER = `# mcpgate: tools (allow) and network destinations (network) a user chose to "always allow"
# when asked for approval. Each entry turns that "ask" into "allow" (never a "deny", never a
# managed rule). Admins: delete an entry (or this file) to revoke it; the running gateway notices.
`;

/** The persisted "always allow" answers. */
export class AlwaysRules {
  private entries: ApprovedEntry[] = [];
  private tools = new Set<string>();
  private network: CompiledNetworkEntry[] = [];
  private mtimeMs = -1;
  /** Why the file on disk cannot be read; set while it is broken (nothing is written over it). */
  private broken: string | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly label: string;

  constructor(
    private readonly file: string,
    configDir: string,
    private readonly onProblem: (message: string) => void,
  ) {
    this.label = relative(configDir, file) || file;
  }

  /** Where a matching entry is reported from, e.g. `rules.d/approved.yaml allow[2] (echo__fail)`. */
  ruleText(publicName: string, subject?: string): string {
    const index = this.entries.findIndex((entry) => entry.tool === publicName && (entry.subject === undefined || entry.subject === subject));
    return `${this.label} allow[${index}] (${publicName})`;
  }

  /**
   * True if the file allows this tool (re-reading the file when it changed): an entry with a
   * `subject` only for that authenticated subject, one without for every session.
   */
  async allows(publicName: string, subject?: string): Promise<boolean> {
    await this.refresh();
    return this.tools.has(publicName) || (subject !== undefined && this.tools.has(subjectKey(publicName, subject)));
  }

  /**
   * The entry that lets `server` reach `host:port` without asking (re-reading the file when it
   * changed), as `rules.d/approved.yaml network[0] (api.example.com:443)`; undefined: none.
   */
  async allowsNetwork(server: string, host: Host, port: number, subject?: string): Promise<string | undefined> {
    await this.refresh();
    const index = this.network.findIndex(
      ({ entry, rule }) =>
        (entry.server === undefined || entry.server === server) &&
        (entry.subject === undefined || entry.subject === subject) &&
        portMatches(rule, port) &&
        matchesHost(rule, host),
    );
    return index < 0 ? undefined : `${this.label} network[${index}] (${this.network[index]?.entry.destination})`;
  }

  /** Adds a tool entry and writes the file (atomically: temp file + rename). */
  add(entry: ApprovedEntry): Promise<void> {
    return this.write(() => {
      if (this.tools.has(entry.tool) || this.tools.has(keyOf(entry))) return false;
      this.entries = [...this.entries, entry];
      this.tools = new Set(this.entries.map(keyOf));
      return true;
    });
  }

  /** Adds a network entry and writes the file. */
  addNetwork(entry: ApprovedNetworkEntry): Promise<void> {
    return this.write(() => {
      const same = this.network.some((c) => c.entry.destination === entry.destination && c.entry.server === entry.server && c.entry.subject === entry.subject);
      if (same) return false;
      this.network = [...this.network, { entry, rule: compileNetworkRules([entry.destination])[0] as NetworkRule }];
      return true;
    });
  }

  private write(change: () => boolean): Promise<void> {
    const write = this.writing.then(async () => {
      await this.refresh();
      // Writing now would replace the admin's broken file (and every entry in it) with ours.
      if (this.broken !== undefined) throw new Error(`${this.label} is not a valid approved-rules file (${this.broken}); fix it first, nothing was written`);
      if (!change()) return;
      await mkdir(dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      const network = this.network.map((c) => c.entry);
      await writeFile(temp, HEADER + stringify({ allow: this.entries, ...(network.length > 0 ? { network } : {}) }));
      await rename(temp, this.file);
      this.mtimeMs = (await stat(this.file)).mtimeMs;
    });
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Re-reads the file if it changed; a broken file allows nothing (fail closed) and is reported. */
  async refresh(): Promise<void> {
    const info = await stat(this.file).catch(() => undefined);
    const mtimeMs = info?.mtimeMs ?? 0;
    if (mtimeMs === this.mtimeMs) return;
    this.mtimeMs = mtimeMs;
    this.broken = undefined;
    this.network = [];
    if (!info) {
      this.entries = [];
      this.tools = new Set();
      return;
    }
    try {
      const parsed = ApprovedFileSchema.parse(parse(await readFile(this.file, 'utf8')) ?? {});
      this.entries = parsed.allow;
      this.network = parsed.network.map((entry) => ({ entry, rule: compileNetworkRules([entry.destination])[0] as NetworkRule }));
    } catch (error) {
      this.entries = [];
      this.broken = firstLineOf(error);
      this.onProblem(`${this.label} is not a valid approved-rules file, so none of its entries apply: ${firstLineOf(error)}`);
    }
    this.tools = new Set(this.entries.map(keyOf));
  }
}

/** An entry's key: its tool, and its subject when it has one. */
function keyOf(entry: ApprovedEntry): string {
  return entry.subject === undefined ? entry.tool : subjectKey(entry.tool, entry.subject);
}

function subjectKey(tool: string, subject: string): string {
  return `${tool}\u0000${subject}`;
}

