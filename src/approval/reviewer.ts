/**
 * Auto-review: a reviewer sees an `ask` (a tool call, or an upstream's network connection: `kind`)
 * before a human does and may approve it or escalate it.
 * Three kinds: an external command (call JSON on stdin, verdict JSON on stdout), an HTTP webhook
 * (call JSON POSTed, verdict JSON answered) and the calling client's own model through MCP
 * sampling. Verdicts are strict JSON (`outcome`, `risk_level`, `rationale`); anything else is an
 * escalation. A reviewer can only approve an ask: it is never consulted for allow or deny.
 */
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { AutoReviewConfig } from '../config/types.js';
import { resolveSecret, type ReferenceResolver } from '../secrets/resolve.js';
import type { Secret } from '../secrets/secretValue.js';
import type { Redactor } from '../secrets/redactor.js';
import type { RecentCall } from './recentCalls.js';
import { messageOf } from '../errors.js';

/** What a reviewer receives (JSON): a tool call … */
export type ReviewInput = ToolReviewInput | NetworkReviewInput;

/** … a tool call an agent made … */
export interface ToolReviewInput {
  readonly kind: 'tool';
  readonly server: string;
  readonly tool: string;
  readonly public_name: string;
  /** Recorded the way the audit log records them (`audit.arguments`). */
  readonly arguments?: unknown;
  readonly arguments_sha256?: string;
  readonly annotations?: unknown;
  readonly description?: string;
  readonly asking_rule: string;
  readonly reason: string;
  readonly session: { readonly id: string; readonly client?: string };
  readonly recent_calls: readonly RecentCall[];
}

/** … or a connection an upstream server opens through the egress proxy. */
export interface NetworkReviewInput {
  readonly kind: 'network';
  readonly server: string;
  readonly host: string;
  readonly port: number;
  /** `host:port` */
  readonly destination: string;
  /** The tool call in flight on that server (public name, call id), when one session's is. */
  readonly tool?: string;
  readonly call?: string;
  readonly asking_rule: string;
  readonly reason: string;
  /** The session whose call is in flight, when known. */
  readonly session?: { readonly id: string; readonly client?: string };
  readonly recent_calls: readonly RecentCall[];
}

/** A reviewer's verdict, strict. */
export const ReviewVerdictSchema = z.strictObject({
  outcome: z.enum(['approve', 'escalate']),
  risk_level: z.enum(['low', 'medium', 'high', 'critical']),
  rationale: z.string().max(2000),
});
export type ReviewVerdict = z.infer<typeof ReviewVerdictSchema>;

/** A reviewer's result: its verdict, or why there is none (which escalates). */
export type ReviewResult = { readonly ok: true; readonly verdict: ReviewVerdict } | { readonly ok: false; readonly problem: string };

/** Sends a sampling request to the calling client (the broker binds it to the session). */
export type SamplingRequester = (params: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** One way to review; resolves (never rejects) with a verdict or a problem. */
export type Reviewer = (input: ReviewInput, signal: AbortSignal, sample: SamplingRequester | undefined) => Promise<ReviewResult>;

const MAX_OUTPUT = 64 * 1024;

/** Supplies the webhook's headers with their references resolved. */
export type HeaderSource = () => Promise<Readonly<Record<string, string>>>;

/** Builds the configured reviewer; each review is bounded by `timeoutMs`. */
export function createReviewer(config: AutoReviewConfig, headers?: HeaderSource): Reviewer {
  const run: Reviewer =
    config.kind === 'command'
      ? commandReviewer(config.command)
      : config.kind === 'url'
        ? webhookReviewer(config.url, headers ?? (async () => config.headers))
        : samplingReviewer();
  return async (input, signal, sample) => {
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    try {
      // Whatever the reviewer does with the signal, its wait ends with the review timeout or the
      // approval wait (timeout, cancel, disconnect, shutdown): neither can be outlasted.
      return await Promise.race([run(input, both, sample), rejectOnAbort(both)]);
    } catch (error) {
      if (timeout.aborted) return { ok: false, problem: `the reviewer did not answer within ${config.timeoutMs} ms` };
      return { ok: false, problem: `the reviewer failed: ${messageOf(error)}` };
    }
  };
}

/** Parses a verdict out of reviewer output: the JSON object (a fenced block is accepted). */
export function parseVerdict(text: string): ReviewResult {
  const trimmed = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, problem: 'the reviewer answered something that is not JSON' };
  }
  const parsed = ReviewVerdictSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: `the reviewer's answer is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { ok: true, verdict: parsed.data };
}

/**
 * Runs the command in its own process group. When it exits, the rest of its group goes too: a
 * child it left behind (a forked sleeper) would hold its stdout open, and the verdict would wait
 * for it. A descendant that left the group is cut off: the pipes are closed shortly after the
 * exit. An abort (review timeout, end of the approval wait) kills the whole group at once.
 */
function commandReviewer(command: readonly string[]): Reviewer {
  return (input, signal) =>
    new Promise<ReviewResult>((resolve, reject) => {
      const [file, ...args] = command as [string, ...string[]];
      // Like a stdio upstream, the reviewer inherits only a minimal environment (no gateway secrets).
      const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: getDefaultEnvironment(), detached: true });
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          if (process.platform === 'win32') child.kill('SIGKILL');
          else process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      };
      const onAbort = () => {
        killGroup();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (stdout.length < MAX_OUTPUT) stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < 2000) stderr += chunk;
      });
      child.stdin.on('error', () => undefined); // a reviewer that does not read its input
      child.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      });
      child.on('exit', () => {
        killGroup();
        // what it wrote is in the pipe already; a holder outside the group gets this long
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, EXITED_GRACE_MS).unref();
      });
      child.on('close', (code) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return reject(signal.reason);
        if (code !== 0) return reject(new Error(`exit code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
        resolve(parseVerdict(stdout));
      });
      child.stdin.end(JSON.stringify(input));
    });
}

/** How long the pipes of an exited reviewer stay open for a descendant outside its group. */
const EXITED_GRACE_MS = 200;

/** A promise that rejects with the signal's reason once it aborts. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined); // the review timer fires after most reviews ended: not an unhandled rejection
  return aborted;
}

function webhookReviewer(url: string, headers: HeaderSource): Reviewer {
  return async (input, signal) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(await headers()) },
      body: JSON.stringify(input),
      signal,
      redirect: 'error',
    });
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${response.status}`);
    }
    const text = await readCapped(response, MAX_OUTPUT);
    if (text === undefined) return { ok: false, problem: `the reviewer's answer is larger than ${MAX_OUTPUT / 1024} KiB` };
    return parseVerdict(text);
  };
}

/** The body as text, read no further than `max` bytes (undefined when longer): a huge or endless answer costs nothing. */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > max) return undefined;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

const SAMPLING_SYSTEM_PROMPT = `You review tool calls and the network connections of tool servers for a security gateway.
Approve only calls that are clearly low-risk (reading, listing, searching) and connections to hosts
the recent calls clearly need; escalate anything that writes, deletes, sends, spends, reaches an
unexpected host, or that you are unsure about. Answer with exactly one JSON object and
nothing else: {"outcome": "approve" | "escalate", "risk_level": "low" | "medium" | "high" | "critical", "rationale": "<one sentence>"}`;

function samplingReviewer(): Reviewer {
  return async (input, signal, sample) => {
    if (!sample) return { ok: false, problem: 'the client does not support sampling, so the sampling reviewer cannot run' };
    const result = (await sample(
      {
        systemPrompt: SAMPLING_SYSTEM_PROMPT,
        messages: [{ role: 'user', content: { type: 'text', text: `Review this ${input.kind === 'network' ? 'network connection' : 'tool call'}:\n${JSON.stringify(input, null, 2)}` } }],
        maxTokens: 400,
        includeContext: 'none',
      },
      signal,
    )) as { content?: unknown };
    const content = Array.isArray(result?.content) ? result.content[0] : result?.content;
    const text = (content as { type?: string; text?: unknown } | undefined)?.text;
    if (typeof text !== 'string') return { ok: false, problem: 'the sampling answer held no text' };
    return parseVerdict(text);
  };
}

/**
 * The webhook reviewer's headers, references resolved on first use (the values registered with
 * `redactor`, held as {@link Secret}s so a header set that reaches a log prints redacted); a failed
 * resolution is retried next time.
 */
export function webhookHeaders(review: { headers: Readonly<Record<string, string>> }, resolver: ReferenceResolver, redactor: Redactor): HeaderSource {
  const owner = { name: 'approval.autoReview', file: 'gateway.yaml', label: 'approval.autoReview.headers' };
  let resolved: Promise<ReadonlyArray<readonly [string, Secret]>> | undefined;
  const resolveAll = async () => {
    const values: string[] = [];
    const headers = await Promise.all(Object.entries(review.headers).map(async ([name, value]) => [name, await resolveSecret(value, owner, resolver, values)] as const));
    redactor.add(values);
    return headers;
  };
  return async () => {
    try {
      return Object.fromEntries((await (resolved ??= resolveAll())).map(([name, value]) => [name, value.reveal()]));
    } catch (error) {
      resolved = undefined;
      throw error;
    }
  };
}
