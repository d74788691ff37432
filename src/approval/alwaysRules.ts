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
import { firstLineOf } from '../errors.js';

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

/** The rules file. */
export const ApprovedFileSchema = z.strictObject({ allow: z.array(ApprovedEntrySchema).default([]) });

/** One persisted approval, as read. */
export type ApprovedEntry = z.infer<typeof ApprovedEntrySchema>;

const HEADER = `# mcpgate: tools a user chose to "always allow" when asked for approval.
# Each entry turns that tool's "ask" into "allow" (never a "deny", never a managed rule).
# Admins: delete an entry (or this file) to revoke it; the running gateway notices.
`;

/** The persisted "always allow" answers. */
export class AlwaysRules {
  private entries: ApprovedEntry[] = [];
  private tools = new Set<string>();
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

  /** Adds an entry and writes the file (atomically: temp file + rename). */
  async add(entry: ApprovedEntry): Promise<void> {
    const write = this.writing.then(async () => {
      await this.refresh();
      // Writing now would replace the admin's broken file (and every entry in it) with ours.
      if (this.broken !== undefined) throw new Error(`${this.label} is not a valid approved-rules file (${this.broken}); fix it first, nothing was written`);
      if (this.tools.has(entry.tool) || this.tools.has(keyOf(entry))) return;
      this.entries = [...this.entries, entry];
      this.tools = new Set(this.entries.map(keyOf));
      await mkdir(dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, HEADER + stringify({ allow: this.entries }));
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
    if (!info) {
      this.entries = [];
      this.tools = new Set();
      return;
    }
    try {
      const parsed = ApprovedFileSchema.parse(parse(await readFile(this.file, 'utf8')) ?? {});
      this.entries = parsed.allow;
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

